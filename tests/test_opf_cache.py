"""The LP loaded into HiGHS is built once per (network, units, lots, solver) and shared (gplopt/network/opf.py):
OPFs sharing it answer bit for bit as a freshly built one, in any order; a solver that failed leaves the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gplopt.adequacy import hour_inputs, source_limits
from gplopt.instance import load_instance
from gplopt.network import opf as opf_mod
from gplopt.network.opf import SheddingOPF
from gplopt.sampling import sample_year
from gplopt.system import System, build_system


@pytest.fixture(scope="module")
def beijing(beijing_path: Path) -> System:
    return build_system(load_instance(beijing_path), base_dir=beijing_path.parent)


def _hours(system: System) -> list[tuple[np.ndarray, ...]]:
    hi = hour_inputs(system, sample_year(system, 11, 0))
    lim = source_limits(system, hi)
    hours = np.flatnonzero((hi.shortfall > 0) & ~hi.grid_up)[:12]
    assert hours.size >= 6
    return [(hi.p_load[h], hi.q_load[h], lim.pmax[:, h], lim.pmin[:, h], lim.qmax[:, h], hi.lot_kw[:, h],
             int(hi.ref_bus[h])) for h in hours]


def test_shared_lp_answers_as_a_fresh_one(beijing: System) -> None:
    assert beijing.fleet is not None
    cases = _hours(beijing)
    opf_mod._BUILT.clear()
    fresh = SheddingOPF(beijing.network, beijing.units, beijing.fleet.bus)
    want = [fresh.solve(*c).shed_kw for c in cases]
    a = SheddingOPF(beijing.network, beijing.units, beijing.fleet.bus)
    b = SheddingOPF(beijing.network, beijing.units, beijing.fleet.bus)
    assert a.solver is b.solver is fresh.solver
    for i, c in enumerate(reversed(cases)):       # another order, alternating between the two
        got = (a if i % 2 else b).solve(*c)
        assert got.ok and np.array_equal(got.shed_kw, want[len(cases) - 1 - i])
    other = SheddingOPF(beijing.network, beijing.units, ())      # another model: its own LP
    assert other.solver is not a.solver


def test_failed_solver_leaves_the_cache(beijing: System, monkeypatch: pytest.MonkeyPatch) -> None:
    assert beijing.fleet is not None
    cases = _hours(beijing)
    a = SheddingOPF(beijing.network, beijing.units, beijing.fleet.bus)
    suspect = a.solver
    calls = {"n": 0}
    real = SheddingOPF._run

    def fail_once(self: SheddingOPF) -> str:
        calls["n"] += 1
        return "error: injected" if calls["n"] == 1 else real(self)

    monkeypatch.setattr(SheddingOPF, "_run", fail_once)
    assert a.solve(*cases[0]).ok                    # retried on a fresh solver
    assert a.solver is not suspect
    monkeypatch.undo()
    b = SheddingOPF(beijing.network, beijing.units, beijing.fleet.bus)
    assert b.solver is not suspect
