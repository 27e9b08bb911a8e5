"""The sequential Monte Carlo reliability engine against exact answers, and its invariants.

* Tiny copper-plate systems whose indices are known in closed form (one or two two-state units under a
  constant load) and the RBTS (exact 1.0881 h/yr and 9,823 kWh/yr): every Monte Carlo estimate within
  3 standard errors, never at 1e-6.
* Beijing: the certificate never changes an answer (vs the OPF on every non-screened hour, also when a branch
  binds and in islanded hours); a failed OPF hour counts its whole load.
* The GPL (gplopt/fleet.py): eq. 4-9 charging time, the V2G floor, participants nested in the grade, V2G
  lowering EENS, the discharge rating, adding chargers shifting no draw.
* Determinism over workers and batch sizes, the stopping rule, the ``evaluate`` command's contract.

Seeds are fixed, so every test is deterministic; the statistical tolerances are what a fresh seed would need.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gplopt.adequacy import evaluate_year, hour_inputs
from gplopt.fleet import charging_time_h, simulate_fleet
from gplopt.instance import Instance, instance_from_data, load_instance, with_overrides
from gplopt.metrics import MeanEstimate
from gplopt.network.opf import SheddingOPF
from gplopt.reliability import Execution, ReliabilityResult, SequentialMonteCarlo, assess
from gplopt.sampling import Sessions, sample_year
from gplopt.system import Fleet, System, build_system

ROOT = Path(__file__).resolve().parent.parent
RBTS_REF = json.loads((ROOT / "tests" / "reference" / "rbts_hl1.json").read_text(encoding="utf-8"))
H = 8760


# ------------------------------------------------------------------------------------------ helpers
def unit(uid: str, cap: float, mttf: float, mttr: float) -> dict[str, Any]:
    return {"id": uid, "type": "conventional", "bus": 1, "capacity_kw": cap, "mttf_h": mttf, "mttr_h": mttr}


def copper_plate(units: list[dict[str, Any]], load_kw: float, **sim: Any) -> System:
    """One bus, no branches, a constant load, no GPL."""
    data = {
        "name": "tiny",
        "network": {"base_kv": 10.0, "buses": [{"id": 1, "p_kw": load_kw}], "branches": []},
        "units": units,
        "load": {"shape": None, "series_kw": [load_kw], "hours": H},
        "gpl": None,
        "simulation": {"seed": 1, **sim},
    }
    return build_system(instance_from_data(data))


def within(est: MeanEstimate, exact: float, k: float = 3.0) -> bool:
    return math.isfinite(est.stderr) and est.stderr > 0 and abs(est.mean - exact) <= k * est.stderr


def describe(est: MeanEstimate, exact: float) -> str:
    return f"{est.mean:.6g} ± {est.stderr:.3g} vs exact {exact:.6g} (z = {(est.mean - exact) / est.stderr:+.2f})"


def p_down_after(q: float, mttf: float, mttr: float, dt: float = 1.0) -> tuple[float, float]:
    """(P(down at t+dt | up at t), P(down at t+dt | down at t)) of a stationary two-state Markov unit."""
    decay = math.exp(-(1.0 / mttf + 1.0 / mttr) * dt)
    return q * (1.0 - decay), q + (1.0 - q) * decay


def comparable(res: ReliabilityResult) -> dict[str, Any]:
    d = res.to_dict()
    d.pop("seconds")
    return d


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def beijing_inst() -> Instance:
    return load_instance(ROOT / "instances" / "beijing.json")


@pytest.fixture(scope="module")
def beijing(beijing_inst: Instance) -> System:
    return build_system(beijing_inst, base_dir=ROOT / "instances")


@pytest.fixture(scope="module")
def beijing_opf(beijing: System) -> SheddingOPF:
    assert beijing.fleet is not None
    return SheddingOPF(beijing.network, beijing.units, beijing.fleet.bus)


def variant(inst: Instance, overrides: dict[str, Any]) -> System:
    return build_system(with_overrides(inst, overrides), base_dir=ROOT / "instances")


# =============================================================================== exact tiny systems
ONE_UNIT_MTTF, ONE_UNIT_MTTR, ONE_UNIT_C, ONE_UNIT_L = 90.0, 10.0, 100.0, 60.0


@pytest.fixture(scope="module")
def one_unit() -> ReliabilityResult:
    """One unit carrying a load it can meet alone (module-scoped: shared by the tests below)."""
    system = copper_plate([unit("g", ONE_UNIT_C, ONE_UNIT_MTTF, ONE_UNIT_MTTR)], ONE_UNIT_L)
    return assess(system, SequentialMonteCarlo(years=400, seed=11), execution=Execution(batch_years=100))


class TestExactTinySystems:
    MTTF, MTTR, C, L = ONE_UNIT_MTTF, ONE_UNIT_MTTR, ONE_UNIT_C, ONE_UNIT_L

    def test_one_unit_lole_eens(self, one_unit: ReliabilityResult) -> None:
        q = self.MTTR / (self.MTTF + self.MTTR)
        assert within(one_unit.lole_h_per_year, q * H), describe(one_unit.lole_h_per_year, q * H)
        assert within(one_unit.eens_kwh_per_year, q * self.L * H), describe(one_unit.eens_kwh_per_year,
                                                                          q * self.L * H)
        # the load is below the capacity: ENS is the whole load in every down hour, so EENS = L x LOLE per year
        ens = np.array([r.ens_kwh for r in one_unit.per_year])
        lol = np.array([r.lol_hours for r in one_unit.per_year])
        np.testing.assert_allclose(ens, self.L * lol, rtol=1e-12)

    def test_one_unit_lolf_of_the_hourly_chronology(self, one_unit: ReliabilityResult) -> None:
        """States are sampled at hour midpoints, so the events counted are 0 -> 1 transitions of an hourly
        Markov chain: E = q + (H - 1) p q (1 - exp(-(lambda + mu))) — 5 % below the continuous-time
        frequency H / (MTTF + MTTR) here, because repairs shorter than an hour can fall between midpoints."""
        q = self.MTTR / (self.MTTF + self.MTTR)
        up_to_down, _ = p_down_after(q, self.MTTF, self.MTTR)
        exact = q + (H - 1) * (1 - q) * up_to_down
        assert within(one_unit.lolf_per_year, exact), describe(one_unit.lolf_per_year, exact)
        continuous = H / (self.MTTF + self.MTTR)
        assert not within(one_unit.lolf_per_year, continuous)  # the difference is real and resolved

    def test_one_unit_lolf_continuous_frequency(self) -> None:
        """With durations much longer than an hour the hourly count converges to the continuous-time
        frequency 8760 / (MTTF + MTTR), plus q: every sample year starts afresh in the stationary state, so an
        outage in progress at 00:00 on 1 January is an event of that year (0.1 events/yr here)."""
        mttf, mttr = 4500.0, 500.0
        q = mttr / (mttf + mttr)
        system = copper_plate([unit("g", self.C, mttf, mttr)], self.L)
        res = assess(system, SequentialMonteCarlo(years=3000, seed=5), execution=Execution(batch_years=500))
        f = q + H / (mttf + mttr)
        assert within(res.lolf_per_year, f), describe(res.lolf_per_year, f)
        assert not within(res.lolf_per_year, H / (mttf + mttr))  # the year-start term is resolved
        assert within(res.lole_h_per_year, q * H), describe(res.lole_h_per_year, q * H)
        # every event is one repair: LOLE / LOLF is the mean repair time seen inside a year, E[LOLE] / E[LOLF] =
        # q H / f (473 h: below MTTR = 500 h because repairs in progress at either end of the year are cut)
        assert res.lole_h_per_year.mean / res.lolf_per_year.mean == pytest.approx(q * H / f, rel=0.05)

    def test_two_units_load_below_one_unit(self) -> None:
        """Loss of load only when both units are down: LOLE = q^2 H, EENS = q^2 L H."""
        mttf, mttr, c, load = 45.0, 5.0, 100.0, 60.0
        q = mttr / (mttf + mttr)
        system = copper_plate([unit("a", c, mttf, mttr), unit("b", c, mttf, mttr)], load)
        res = assess(system, SequentialMonteCarlo(years=400, seed=3), execution=Execution(batch_years=100))
        assert within(res.lole_h_per_year, q**2 * H), describe(res.lole_h_per_year, q**2 * H)
        assert within(res.eens_kwh_per_year, q**2 * load * H), describe(res.eens_kwh_per_year,
                                                                      q**2 * load * H)
        # events: entries into "both down" of two independent hourly chains
        _, down_to_down = p_down_after(q, mttf, mttr)
        both_both = (q * down_to_down) ** 2
        exact_f = q**2 + (H - 1) * (q**2 - both_both)
        assert within(res.lolf_per_year, exact_f), describe(res.lolf_per_year, exact_f)

    def test_two_units_load_between_one_and_two_units(self) -> None:
        """C < L < 2C: short whenever at least one unit is down. LOLE = (1 - p^2) H and
        EENS = [q^2 L + 2 p q (L - C)] H."""
        mttf, mttr, c, load = 45.0, 5.0, 100.0, 160.0
        q = mttr / (mttf + mttr)
        p = 1.0 - q
        system = copper_plate([unit("a", c, mttf, mttr), unit("b", c, mttf, mttr)], load)
        res = assess(system, SequentialMonteCarlo(years=300, seed=4), execution=Execution(batch_years=100))
        lole = (1.0 - p**2) * H
        eens = (q**2 * load + 2 * p * q * (load - c)) * H
        assert within(res.lole_h_per_year, lole), describe(res.lole_h_per_year, lole)
        assert within(res.eens_kwh_per_year, eens), describe(res.eens_kwh_per_year, eens)

    def test_units_have_independent_streams(self) -> None:
        """Two identical units in one system never share a chronology (streams keyed by unit id)."""
        system = copper_plate([unit("a", 100, 45, 5), unit("b", 100, 45, 5)], 60.0)
        hist = sample_year(system, 1, 0)
        assert not np.array_equal(hist.unit_up[0], hist.unit_up[1])

    def test_capacity_exactly_equal_to_load_is_not_short(self) -> None:
        """The loss-of-load test is strict (available < load): a unit exactly at the load serves it."""
        system = copper_plate([unit("a", 100.0, 1e6, 1.0)], 100.0)
        res = assess(system, SequentialMonteCarlo(years=3, seed=1))
        hist = sample_year(system, 1, 0)
        assert hist.unit_up.all()
        assert res.per_year[0].lol_hours == 0 and res.per_year[0].ens_kwh == 0.0


# ===================================================================================== RBTS (HL-I)
RBTS_EXACT = RBTS_REF["reference"]["exact_with_for_from_mttf_mttr"]
RBTS_LOLE = float(RBTS_EXACT["lole_h_per_yr"])
RBTS_EENS = float(RBTS_EXACT["eens_mwh_per_yr"]) * 1000.0


@pytest.fixture(scope="module")
def rbts() -> System:
    return build_system(load_instance(ROOT / "instances" / "rbts.json"), base_dir=ROOT / "instances")


def test_rbts_load_and_exact_reference(rbts: System) -> None:
    """The instance's load is the reference chronology, and the reference's exact indices follow from a
    capacity outage probability table on it (so the Monte Carlo target is right before it is tested)."""
    mw = np.asarray(RBTS_REF["load"]["mw"], float)
    assert rbts.hours == 8736
    np.testing.assert_allclose(rbts.load_kw / 1000.0, mw, rtol=1e-12)
    u = rbts.units
    step = math.gcd(*np.rint(u.capacity_kw).astype(int).tolist())       # 5 MW
    caps = np.rint(u.capacity_kw / step).astype(int)
    q = u.mttr_h / (u.mttf_h + u.mttr_h)
    table = np.zeros(caps.sum() + 1)
    table[0] = 1.0  # probability of each outage level, in steps
    for c, qi in zip(caps, q, strict=True):
        table = table * (1 - qi) + np.concatenate([np.zeros(c), table[:-c]]) * qi
    avail = (caps.sum() - np.arange(table.size)) * float(step)
    short = np.maximum(rbts.load_kw[:, None] - avail[None, :], 0.0)
    lole = float(((short > 0) * table).sum())
    eens = float((short * table).sum())
    assert lole == pytest.approx(RBTS_LOLE, rel=1e-9)
    assert eens == pytest.approx(RBTS_EENS, rel=1e-9)


def test_rbts_short(rbts: System) -> None:
    res = assess(rbts, SequentialMonteCarlo(years=3000, seed=2021), execution=Execution(batch_years=500))
    assert res.years == 3000
    assert within(res.lole_h_per_year, RBTS_LOLE), describe(res.lole_h_per_year, RBTS_LOLE)
    assert within(res.eens_kwh_per_year, RBTS_EENS), describe(res.eens_kwh_per_year, RBTS_EENS)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2021, 7])
def test_rbts_long(rbts: System, seed: int) -> None:
    res = assess(rbts, SequentialMonteCarlo(years=60_000, seed=seed),
                 execution=Execution(batch_years=500, workers=2))
    assert res.years == 60_000
    assert within(res.lole_h_per_year, RBTS_LOLE), describe(res.lole_h_per_year, RBTS_LOLE)
    assert within(res.eens_kwh_per_year, RBTS_EENS), describe(res.eens_kwh_per_year, RBTS_EENS)


def test_unit_chronology_marginal_is_the_forced_outage_rate() -> None:
    """Each hour's state has the stationary probability: pooled over many years, the fraction of down
    hours in the first, middle and last hours of the year all match q (no start-up or end bias)."""
    mttf, mttr = 200.0, 20.0
    system = copper_plate([unit("g", 100, mttf, mttr)], 10.0)
    q = mttr / (mttf + mttr)
    downs = np.array([~sample_year(system, 9, y).unit_up[0] for y in range(600)])
    for sl in (slice(0, 24), slice(4368, 4392), slice(H - 24, H)):
        frac = downs[:, sl].mean()
        se = math.sqrt(q * (1 - q) / downs.shape[0]) * 3  # hours within a day are strongly correlated
        assert abs(frac - q) <= 3 * se, (sl, frac, q)


# =========================================================================== certificate vs OPF
def _compare_cert(system: System, opf: SheddingOPF, seed: int, years: range) -> list[tuple[int, int, int]]:
    seen = []
    for y in years:
        hist = sample_year(system, seed, y)
        fast = evaluate_year(system, hist, opf, use_certificate=True)
        full = evaluate_year(system, hist, opf, use_certificate=False)
        assert fast.opf_failed == 0 and full.opf_failed == 0
        assert full.hours_certified == 0
        assert abs(fast.ens_kwh - full.ens_kwh) <= 1e-6, (y, fast.ens_kwh, full.ens_kwh)
        np.testing.assert_allclose(fast.ens_kw, full.ens_kw, rtol=0, atol=1e-6)
        assert fast.lol_hours == full.lol_hours and fast.lol_events == full.lol_events
        seen.append((fast.hours_certified, fast.opf_solves, int((~hist.unit_up[0]).sum())))
    return seen


def test_certificate_never_changes_the_answer(beijing: System, beijing_opf: SheddingOPF) -> None:
    seen = _compare_cert(beijing, beijing_opf, seed=5, years=range(2))
    assert sum(c for c, _, _ in seen) > 500           # the certificate did decide hours
    assert sum(isl for _, _, isl in seen) > 0          # and islanded hours were among the OPF's


def test_certificate_when_a_branch_binds(beijing_inst: Instance) -> None:
    """Branch id 25 (bus 6 -> 26, heading the GPL's lateral; list index 24) at 4.5 MVA instead of 6.9 MVA:
    some hours fail the screen with no shortfall, some deficit hours fail the certificate; the answers still
    agree hour by hour."""
    system = variant(beijing_inst, {"network.branches[24].rating_kva": 4500})
    assert system.network.rating_pu[system.network.index(26)] * system.network.base_kva == 4500
    assert system.fleet is not None
    opf = SheddingOPF(system.network, system.units, system.fleet.bus)
    hist = sample_year(system, 5, 0)
    base = evaluate_year(system, hist, opf, use_certificate=False)   # every unshort hour goes to the screen
    seen = _compare_cert(system, opf, seed=5, years=range(1))
    certified, solves, islanded = seen[0]
    assert certified > 0 and solves > islanded            # the network bound outside islands
    hi = hour_inputs(system, hist)
    candidates = int(((hi.shortfall <= 1e-6) & hi.grid_up).sum())
    assert base.hours_screened < candidates               # some unshort hours failed the screen
    # the network can only add shedding to the copper-plate shortfall
    assert (base.ens_kw >= np.maximum(hi.shortfall, 0.0) - 1e-6).all()


def test_islanded_hours_are_resolved(beijing: System, beijing_opf: SheddingOPF) -> None:
    """Substation down: every islanded hour gets an OPF answer (none failed), the reference moves to a
    local unit's bus, and the hour sheds at least the copper-plate shortfall and at most its load."""
    hist = sample_year(beijing, 5, 0)
    island = np.flatnonzero(~hist.unit_up[0])
    assert island.size > 0
    res = evaluate_year(beijing, hist, beijing_opf)
    assert res.opf_failed == 0 and res.failed_hours == []
    hi = hour_inputs(beijing, hist)
    root = beijing.network.root
    assert (hi.ref_bus[island] != root).all()
    assert (hi.ref_bus[hist.unit_up[0]] == root).all()
    load = hi.p_load[island].sum(axis=1)
    ens = res.ens_kw[island]
    assert (ens >= np.maximum(hi.shortfall[island], 0.0) - 1e-6).all()
    assert (ens <= load + 1e-6).all()
    assert (ens > 0).all()  # ~2-3.5 MW of local units cannot carry a 6-13 MW feeder


def test_failed_solve_is_never_zero_ens(beijing: System, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SheddingOPF, "_run", lambda self: "error: injected")
    assert beijing.fleet is not None
    opf = SheddingOPF(beijing.network, beijing.units, beijing.fleet.bus)
    # seed 48: its first year has islanded hours that neither certificate split decides and where the OPF
    # sheds less than the whole load (most years have no such hour)
    hist = sample_year(beijing, 48, 0)
    res = evaluate_year(beijing, hist, opf)
    assert res.opf_solves > 0
    assert res.opf_failed == res.opf_solves
    assert len(res.failed_hours) == res.opf_failed
    hi = hour_inputs(beijing, hist)
    failed = np.asarray(res.failed_hours)
    np.testing.assert_allclose(res.ens_kw[failed], hi.p_load[failed].sum(axis=1), rtol=1e-12)
    assert (res.ens_kw[failed] > 0).all()
    # through assess() too: the count is reported and the ENS is not lower than with a working solver
    spec = SequentialMonteCarlo(years=1, seed=48)
    broken = assess(beijing, spec)
    assert broken.opf_failed_hours == res.opf_failed > 0
    assert broken.eens_kwh_per_year.mean == pytest.approx(res.ens_kwh, rel=1e-12)
    monkeypatch.undo()
    fine = assess(beijing, spec)
    assert fine.opf_failed_hours == 0
    assert broken.eens_kwh_per_year.mean > fine.eens_kwh_per_year.mean


# ============================================================================================ GPL
def one_pev_fleet(system: System, **kw: Any) -> Fleet:
    assert system.fleet is not None
    base = dict(n_chargers=1, charge_kw=3.5, discharge_kw=3.5, eta=0.95, battery_kwh=20.5, soc_threshold=0.9,
                v2g_min_soc=0.5, rate_v2g=0.5, rate_lr=0.7, v2g_dispatched=True)
    base.update(kw)
    return dataclasses.replace(system.fleet, **base)


def one_session(arrival: float, departure: float, soc: float, willingness: float) -> Sessions:
    return Sessions(arrival=np.array([[arrival]]), departure=np.array([[departure]]),
                    soc_ini=np.array([[soc]]), willingness=np.array([[willingness]]), charger=np.array([0]))


def test_charging_time_eq_4_9(beijing: System) -> None:
    fleet = one_pev_fleet(beijing)
    sess = one_session(8.3, 20.0, 0.5, 0.99)   # not a participant: nothing but charging
    fy = simulate_fleet(fleet, sess, np.ones((1, 24, 1), bool), np.full(24, 1e6))
    energy = (0.9 - 0.5) * 20.5 / 0.95
    t_ch = charging_time_h(fleet, 0.5)
    assert t_ch == pytest.approx(energy / 3.5, rel=1e-12)
    assert fy.charging_kw.sum() == pytest.approx(energy, rel=1e-12)
    end = 8.3 + t_ch                            # 10.766 h
    expected = np.zeros(24)
    expected[8] = 3.5 * (9 - 8.3)               # fractional first hour
    expected[9] = 3.5
    expected[10] = 3.5 * (end - 10)             # fractional last hour: charging ends at arrival + t_ch
    np.testing.assert_allclose(fy.charging_kw, expected, atol=1e-9)
    assert fy.v2g_kw.sum() == 0 and fy.load_reduction_kw.sum() == 0 and (fy.need_kw < 0).all()


def test_charging_stops_at_departure_and_above_threshold(beijing: System) -> None:
    fleet = one_pev_fleet(beijing)
    # leaves after 1.5 h: charges 1.5 h x 3.5 kW only
    fy = simulate_fleet(fleet, one_session(8.0, 9.5, 0.5, 0.99), np.ones((1, 24, 1), bool), np.full(24, 1e6))
    assert fy.charging_kw.sum() == pytest.approx(1.5 * 3.5, rel=1e-12)
    # arrives above the threshold: never charges
    fy = simulate_fleet(fleet, one_session(8.0, 20.0, 0.9, 0.99), np.ones((1, 24, 1), bool), np.full(24, 1e6))
    assert fy.charging_kw.sum() == 0.0
    # a failed charger neither charges nor discharges
    fy = simulate_fleet(fleet, one_session(8.0, 20.0, 0.9, 0.0), np.zeros((1, 24, 1), bool), np.full(24, -1e6))
    assert fy.charging_kw.sum() == 0.0 and fy.v2g_kw.sum() == 0.0


def test_v2g_is_energy_limited_and_floored(beijing: System) -> None:
    """A participant at the threshold through a long deficit gives exactly (threshold - floor) E eta, never
    goes below the floor, and recharges to the threshold before it leaves once the deficit is over."""
    fleet = one_pev_fleet(beijing)
    margin = np.full(24, 1e6)
    margin[9:15] = -1e6                         # six deficit hours
    fy = simulate_fleet(fleet, one_session(8.0, 20.0, 0.9, 0.0), np.ones((1, 24, 1), bool), margin)
    delivered = (0.9 - 0.5) * 20.5 * 0.95
    assert fy.v2g_kw.sum() == pytest.approx(delivered, rel=1e-12)
    np.testing.assert_allclose(fy.v2g_kw[9:12], [3.5, 3.5, delivered - 7.0], atol=1e-9)
    assert fy.v2g_kw[12:].sum() == 0.0 and fy.v2g_kw[:9].sum() == 0.0
    assert fy.min_soc_seen >= 0.5 - 1e-9
    assert fy.min_soc_seen == pytest.approx(0.5, abs=1e-9)
    # recharge during the deficit is deferred (not drawn), afterwards drawn until the threshold
    assert fy.charging_kw[9:15].sum() == 0.0 and fy.deferred_kw[9:15].sum() > 0
    assert fy.charging_kw[15:].sum() == pytest.approx((0.9 - 0.5) * 20.5 / 0.95, rel=1e-12)
    np.testing.assert_allclose(fy.need_kw[9:15], 1e6 - fy.v2g_kw[9:15], rtol=1e-12)


def test_v2g_floor_over_beijing_years(beijing: System, beijing_opf: SheddingOPF) -> None:
    assert beijing.fleet is not None
    floor = beijing.fleet.v2g_min_soc
    seen = []
    for y in range(4):
        r = evaluate_year(beijing, sample_year(beijing, 2021, y), beijing_opf)
        assert r.v2g_kwh > 0
        seen.append(r.min_soc_seen)
    assert min(seen) >= floor - 1e-9, seen
    assert min(seen) < floor + 0.05  # the floor is actually reached in deep events


GRADES = [1.0, 1.25, 1.5, 1.75, 2.0]


def test_participants_nested_in_the_grade(beijing_inst: Instance) -> None:
    systems = [variant(beijing_inst, {"incentive.price_per_kwh": g}) for g in GRADES]
    rates = [s.fleet.rate_v2g for s in systems if s.fleet is not None]
    assert rates == sorted(rates) and rates[0] < rates[-1]
    hists = [sample_year(s, 2021, 0) for s in systems]
    for h in hists[1:]:  # the grade changes no draw, only the threshold the draw is compared with
        assert h.sessions is not None and hists[0].sessions is not None
        np.testing.assert_array_equal(h.sessions.willingness, hists[0].sessions.willingness)
        np.testing.assert_array_equal(h.sessions.arrival, hists[0].sessions.arrival)
    assert hists[0].sessions is not None
    sets = [hists[0].sessions.willingness < r for r in rates]
    for lo, hi in zip(sets, sets[1:], strict=False):
        assert not (lo & ~hi).any()          # superset at the higher grade
    assert sets[-1].sum() > sets[0].sum()


def test_v2g_energy_non_decreasing_in_the_grade(beijing_inst: Instance) -> None:
    systems = [variant(beijing_inst, {"incentive.price_per_kwh": g}) for g in GRADES]
    for y in range(4):
        energy = []
        for s in systems:
            fy = hour_inputs(s, sample_year(s, 2021, y)).fleet
            assert fy is not None
            energy.append(float(fy.v2g_kw.sum()))
        assert all(b >= a - 1e-6 for a, b in zip(energy, energy[1:], strict=False)), (y, energy)


def test_v2g_lowers_beijing_eens(beijing: System, beijing_opf: SheddingOPF) -> None:
    diffs = []
    for y in range(8):
        hist = sample_year(beijing, 2021, y)
        off = evaluate_year(beijing, hist, beijing_opf, v2g=False)
        on = evaluate_year(beijing, hist, beijing_opf, v2g=True)
        assert off.v2g_kwh == 0.0 and on.v2g_kwh > 0
        diffs.append(off.ens_kwh - on.ens_kwh)
    d = MeanEstimate.of(diffs)
    assert min(diffs) >= -1e-6, diffs
    assert d.mean > 3 * d.stderr, d


def test_higher_discharge_rating_never_raises_eens(beijing_inst: Instance) -> None:
    systems = [variant(beijing_inst, {"gpl.discharge_kw": r}) for r in (2.0, 3.5, 5.0)]
    opf = [SheddingOPF(s.network, s.units, s.fleet.bus) for s in systems if s.fleet is not None]
    for y in range(4):
        ens = [evaluate_year(s, sample_year(s, 2021, y), o).ens_kwh for s, o in zip(systems, opf, strict=True)]
        assert ens[0] >= ens[1] - 1e-6 and ens[1] >= ens[2] - 1e-6, (y, ens)


def test_adding_chargers_shifts_no_other_draw(beijing_inst: Instance) -> None:
    a = sample_year(variant(beijing_inst, {"gpl.n_chargers": 300}), 2021, 3)
    b = sample_year(variant(beijing_inst, {"gpl.n_chargers": 310}), 2021, 3)
    assert a.charger_up is not None and b.charger_up is not None
    assert a.sessions is not None and b.sessions is not None
    assert b.charger_up.shape[2] == 310
    np.testing.assert_array_equal(a.unit_up, b.unit_up)
    np.testing.assert_array_equal(a.unit_avail_kw, b.unit_avail_kw)
    np.testing.assert_array_equal(a.charger_up, b.charger_up[:, :, :300])
    for f in ("arrival", "departure", "soc_ini", "willingness"):
        np.testing.assert_array_equal(getattr(a.sessions, f), getattr(b.sessions, f)[:, :300])
    np.testing.assert_array_equal(a.sessions.charger, b.sessions.charger[:300])


# ==================================================================================== determinism
def test_beijing_same_seed_same_answer_any_workers_or_batch(beijing: System) -> None:
    ref = comparable(assess(beijing, SequentialMonteCarlo(years=6, seed=3), execution=Execution(batch_years=8)))
    for kw in ({"workers": 2, "batch_years": 8}, {"batch_years": 1}, {"batch_years": 50},
               {"workers": 2, "batch_years": 1}):
        got = comparable(assess(beijing, SequentialMonteCarlo(years=6, seed=3), execution=Execution(**kw)))
        assert got == ref, kw
    other = comparable(assess(beijing, SequentialMonteCarlo(years=6, seed=4)))
    assert other["eens_kwh_per_year"] != ref["eens_kwh_per_year"]


def _rare_system() -> System:
    """EENS dominated by rare double outages: the CoV rule stops after tens of years."""
    return copper_plate([unit("a", 100, 1500, 40), unit("b", 100, 1500, 40)], 60.0)


def test_stop_year_is_batch_and_worker_independent() -> None:
    system = _rare_system()
    spec = SequentialMonteCarlo(seed=8, target_cov=0.1, min_years=5, max_years=5000)
    ref = assess(system, spec, execution=Execution(batch_years=1))
    assert ref.stopped_by == "target_cov" and 20 < ref.years < 5000
    for kw in ({"batch_years": 7}, {"batch_years": 64}, {"workers": 2, "batch_years": 3}):
        got = assess(system, spec, execution=Execution(**kw))
        assert comparable(got) == comparable(ref), kw
    # the stop year is the first n >= min_years with stderr/mean <= target, from the year-by-year values
    per_year = [r.ens_kwh for r in assess(system, SequentialMonteCarlo(years=ref.years + 40, seed=8)).per_year]
    first = next(n for n in range(5, len(per_year) + 1)
                 if MeanEstimate.of(per_year[:n]).mean > 0 and MeanEstimate.of(per_year[:n]).cov <= 0.1)
    assert first == ref.years
    assert [r.year for r in ref.per_year] == list(range(ref.years))


def test_years_runs_exactly_n() -> None:
    system = _rare_system()
    for n in (1, 7, 33):
        res = assess(system, SequentialMonteCarlo(years=n, seed=1), execution=Execution(batch_years=8))
        assert res.years == n and res.stopped_by == "years" and len(res.per_year) == n
        assert [r.year for r in res.per_year] == list(range(n))


def test_stopping_rule_reports_which_stop(beijing: System) -> None:
    early = assess(beijing, SequentialMonteCarlo(seed=2, target_cov=0.5, min_years=2, max_years=50))
    assert early.stopped_by == "target_cov"
    assert early.years < 50 and early.eens_kwh_per_year.cov <= 0.5
    capped = assess(_rare_system(), SequentialMonteCarlo(seed=2, target_cov=0.001, min_years=5, max_years=12))
    assert capped.stopped_by == "max_years" and capped.years == 12
    assert capped.eens_kwh_per_year.cov > 0.001


# ============================================================================================ CLI
def _evaluate_json(run_cli: Any, *args: str) -> dict[str, Any]:
    proc = run_cli("evaluate", "instances/beijing.json", "--years", "4", "--seed", "9", "--json", *args,
                   timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_cli_evaluate_json_contract_and_workers(run_cli: Any) -> None:
    one = _evaluate_json(run_cli, "--workers", "1")
    two = _evaluate_json(run_cli, "--workers", "2")
    for key in ("eens_kwh_per_year", "lole_h_per_year", "lolf_per_year", "v2g_kwh_per_year"):
        assert set(one[key]) >= {"mean", "stderr"}, key
        assert all(isinstance(one[key][k], float) for k in ("mean", "stderr"))
    assert one["years"] == 4 and one["stopped_by"] == "years"
    assert isinstance(one["opf_solves"], int) and one["opf_solves"] >= 0
    assert one["eens_kwh_per_year"]["mean"] > 0 and one["v2g_kwh_per_year"]["mean"] > 0
    one.pop("seconds")
    two.pop("seconds")
    assert one == two


def test_cli_unavailable_solver_exits_2(run_cli: Any) -> None:
    proc = run_cli("evaluate", "instances/beijing.json", "--years", "1", "--solver", "gurobi", "--json")
    if importlib.util.find_spec("gurobipy") is None:
        assert proc.returncode == 2
        assert "gurobi" in proc.stderr and "Traceback" not in proc.stderr
        assert proc.stdout == ""
    else:  # installed: either it works or it says plainly that it is not licensed
        assert proc.returncode in (0, 2) and "Traceback" not in proc.stderr
    proc = run_cli("evaluate", "instances/beijing.json", "--years", "1", "--solver", "cplex")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "highs" in proc.stderr


def test_back_to_back_assessments_of_variants_never_share_a_worker_setup(beijing_path: Path) -> None:
    """Two systems that differ only in a lot parameter (here the incentive grade), assessed one after the other
    in one process, each get their own answer (the worker cache once keyed on name, load and unit ids only)."""
    from gplopt.instance import load_instance
    from gplopt.system import build_system

    low, high = (assess(build_system(load_instance(beijing_path, [f"incentive.price_per_kwh={p}"])),
                        SequentialMonteCarlo(years=2, seed=3)) for p in (1.0, 2.0))
    assert high.v2g_kwh_per_year.mean > low.v2g_kwh_per_year.mean    # a superset of participants
