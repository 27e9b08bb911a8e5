"""The batched radial AC power flow against published results, pandapower and physics; LinDistFlow vs AC."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gplopt.instance import load_instance
from gplopt.network.powerflow import lindistflow, run_powerflow
from gplopt.system import System, build_system

REF = Path(__file__).resolve().parent / "reference" / "case33bw.json"


@pytest.fixture(scope="module")
def ieee33(ieee33_path: Path) -> System:
    return build_system(load_instance(ieee33_path), base_dir=ieee33_path.parent)


IEEE33 = load_instance(Path(__file__).resolve().parent.parent / "instances" / "ieee33.json")


def base_loads(system: System) -> tuple[np.ndarray, np.ndarray]:
    """(B,) active and reactive bus loads of the instance's reference condition, in kW/kvar (``system`` is
    built from instances/ieee33.json; a System keeps no reference to its instance)."""
    assert system.name == IEEE33.name
    buses = IEEE33.network.buses
    return np.array([b.p_kw for b in buses]), np.array([b.q_kvar for b in buses])


def branch_currents(system: System, vm: np.ndarray, va_deg: np.ndarray) -> np.ndarray:
    """(H, B) pu current in the branch feeding each bus, from the voltages alone (root column 0)."""
    net = system.network
    v = vm * np.exp(1j * np.radians(va_deg))
    fed = net.parent >= 0
    i = np.zeros_like(v)
    i[:, fed] = (v[:, net.parent[fed]] - v[:, fed]) / (net.r_pu[fed] + 1j * net.x_pu[fed])
    return i


# ------------------------------------------------------------------------------------- ieee33 reference
def test_ieee33_cli_matches_published(run_cli) -> None:
    res = run_cli("powerflow", "instances/ieee33.json", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["converged"] is True
    assert out["loss_kw"] == pytest.approx(202.67, rel=0.005)
    assert out["loss_kvar"] == pytest.approx(135.14, rel=0.005)
    assert out["vmin_pu"] == pytest.approx(0.9131, abs=1e-4)
    assert out["vmin_bus"] == 18
    assert out["substation_p_kw"] == pytest.approx(3715.0 + out["loss_kw"], abs=1e-6)


def test_ieee33_every_bus_matches_pandapower_and_reference(ieee33: System) -> None:
    pp = pytest.importorskip("pandapower")
    pn = pytest.importorskip("pandapower.networks")
    net_pp = pn.case33bw()
    pp.runpp(net_pp, numba=False)  # numba is not installed; asking for it only prints a slowness notice
    vm_pp = net_pp.res_bus.vm_pu.to_numpy()  # bus index k is bus k + 1

    p, q = base_loads(ieee33)
    res = run_powerflow(ieee33.network, p[None, :], q[None, :])
    assert res.converged.all()
    ids = ieee33.network.bus_ids
    ours = res.vm_pu[0]
    assert np.abs(ours - vm_pp[ids - 1]).max() <= 1e-4
    assert res.loss_kw[0] == pytest.approx(net_pp.res_line.pl_mw.sum() * 1000.0, rel=1e-4)

    ref = json.loads(REF.read_text())["reference"]
    vm_ref = np.asarray(ref["vm_pu_by_bus"], float)  # buses 1..33, six decimals
    assert np.abs(ours - vm_ref[ids - 1]).max() <= 1e-5
    assert res.loss_kw[0] == pytest.approx(ref["p_loss_kw"], abs=1e-3)
    assert res.slack_q_kvar[0] == pytest.approx(ref["slack_q_kvar"], abs=1e-3)


# ------------------------------------------------------------------------------------- batching
def test_batched_equals_hour_by_hour(ieee33: System) -> None:
    """Each row of a 50-hour batch equals the same hour solved alone: no coupling across hours."""
    p, q = base_loads(ieee33)
    rng = np.random.default_rng(7)
    scale = rng.uniform(0.0, 1.5, size=(50, p.size))
    p_b, q_b = p[None, :] * scale, q[None, :] * scale
    batch = run_powerflow(ieee33.network, p_b, q_b, tol=1e-13)
    assert batch.converged.all()
    kva = ieee33.network.base_kva  # powers compared in pu: BLAS may sum a 50-row matmul in another order
    for h in range(50):
        one = run_powerflow(ieee33.network, p_b[h], q_b[h], tol=1e-13)
        for name, scale in (("vm_pu", 1.0), ("va_deg", 1.0), ("branch_kva", kva), ("branch_p_kw", kva)):
            np.testing.assert_allclose(getattr(batch, name)[h] / scale, getattr(one, name)[0] / scale,
                                       rtol=0, atol=1e-10, err_msg=f"{name}, hour {h}")
        for name in ("loss_kw", "loss_kvar", "slack_p_kw", "slack_q_kvar"):
            assert getattr(batch, name)[h] / kva == pytest.approx(getattr(one, name)[0] / kva, abs=1e-10), (
                name, h)


# ------------------------------------------------------------------------------------- physics
@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.5, allow_nan=False), min_size=33, max_size=33))
def test_physics_of_random_pure_loads(ieee33: System, scales: list[float]) -> None:
    net = ieee33.network
    p0, q0 = base_loads(ieee33)
    s = np.asarray(scales)
    p, q = (p0 * s)[None, :], (q0 * s)[None, :]
    r = run_powerflow(net, p, q)
    assert r.converged.all()

    # losses are non-negative and equal sum r|I|^2 with I from the voltage drops
    assert (r.loss_kw >= 0).all() and (r.loss_kvar >= 0).all()
    i = branch_currents(ieee33, r.vm_pu, r.va_deg)
    loss_branch = np.abs(i) ** 2 * net.r_pu * net.base_kva
    assert loss_branch.sum() == pytest.approx(r.loss_kw[0], abs=1e-6)

    # energy balance: slack = load + losses, and the slack is what enters the root's branches. Flows are
    # V x conj(I) of the last two sweep iterates, so they agree to the 1e-9 pu voltage tolerance x current
    # x base (a few 1e-6 kW; 3,000 random draws gave at most 1.7e-6 kW).
    assert r.slack_p_kw[0] == pytest.approx(p.sum() + r.loss_kw[0], abs=1e-6)
    flow_tol = 2e-5
    root_children = net.parent == net.root
    assert r.slack_p_kw[0] == pytest.approx(p[0, net.root] + r.branch_p_kw[0, root_children].sum(),
                                            abs=flow_tol)

    # KCL at every bus: received = own load + sent on to the children
    received = r.branch_p_kw[0] - loss_branch[0]
    sent = np.zeros(net.n_bus)
    fed = net.parent >= 0
    np.add.at(sent, net.parent[fed], r.branch_p_kw[0, fed])
    np.testing.assert_allclose(received[fed], p[0, fed] + sent[fed], rtol=0, atol=flow_tol)

    # voltages: at most the slack's, and never rising down a path of pure loads
    vm = r.vm_pu[0]
    assert (vm <= net.v_ref + 1e-12).all()
    assert (vm[fed] <= vm[net.parent[fed]] + 1e-12).all()


# ------------------------------------------------------------------------------------- LinDistFlow
def test_lindistflow_close_to_ac_at_light_load(ieee33: System) -> None:
    net = ieee33.network
    p, q = base_loads(ieee33)
    p, q = 0.3 * p[None, :], 0.3 * q[None, :]
    ac = run_powerflow(net, p, q)
    lin = lindistflow(net, p / net.base_kva, q / net.base_kva, np.array([net.root]))
    assert lin.v2[0, net.root] == net.v_ref**2
    np.testing.assert_allclose(np.sqrt(lin.v2), ac.vm_pu, rtol=0.01)
    # lossless flows: the root's branches carry exactly the load below them
    assert lin.p_br[0, net.parent == net.root].sum() == pytest.approx(p.sum() / net.base_kva, rel=1e-12)


def _lindistflow_other_refs(ieee33: System) -> tuple[np.ndarray, np.ndarray]:
    net = ieee33.network
    p, q = base_loads(ieee33)
    rng = np.random.default_rng(11)
    h = 400
    scale = rng.uniform(-1.5, 1.5, size=(h, p.size))  # net injections too (generation > load)
    ref = rng.integers(0, net.n_bus, size=h)
    lin = lindistflow(net, p * scale / net.base_kva, q * scale / net.base_kva, ref)
    return lin.v2[np.arange(h), ref], ref


def test_lindistflow_holds_any_reference_bus(ieee33: System) -> None:
    v2_ref, ref = _lindistflow_other_refs(ieee33)
    assert (ref != ieee33.network.root).any()
    np.testing.assert_allclose(v2_ref, ieee33.network.v_ref**2, rtol=0, atol=4 * np.finfo(float).eps)


def test_lindistflow_reference_bus_exact(ieee33: System) -> None:
    v2_ref, _ = _lindistflow_other_refs(ieee33)
    assert (v2_ref == ieee33.network.v_ref**2).all()


# ------------------------------------------------------------------------------------- Beijing
def test_beijing_peak_voltages_and_branches_within_limits_substation_overloaded(run_cli) -> None:
    """At the 13 MW peak with 300 chargers charging and the gas turbine at 2 MW, ~14.9 MVA must come through the
    10 MVA substation (the case is chronically short, docs/method.md): that, and only that, is a violation."""
    res = run_cli("powerflow", "instances/beijing.json", "--hour", "peak", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["converged"] is True
    assert out["within_limits"] is False
    [v] = out["violations"]
    assert (v["element"], v["id"], v["limit"]) == ("external_grid", "substation", 10000.0)
    assert v["value"] == pytest.approx(out["substation_mva"] * 1000.0)
    assert out["vmin_pu"] >= 0.95
    assert out["system_load_kw"] == pytest.approx(13000.0)
    assert out["gpl_charging_kw"] == pytest.approx(300 * 3.5)
    assert out["max_branch_loading"] <= 1.0
