"""Bus shunt admittance: the radial power flow against closed forms, the LinDistFlow and the shedding OPF with
shunts as constant loads at 1 pu, and the transformer T -> pi conversion against pandapower's own."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gplopt.instance import load_instance
from gplopt.network.opf import SheddingOPF
from gplopt.network.powerflow import lindistflow, run_powerflow
from gplopt.system import Network, build_system


def two_bus(g_pu: float, b_pu: float, r: float = 0.01, x: float = 0.03) -> Network:
    """Slack bus 1, one branch to bus 2 carrying the shunt G + jB."""
    return Network(
        bus_ids=np.array([1, 2]), root=0, parent=np.array([-1, 0]), order=np.array([0, 1]),
        branch_ids=np.array([-1, 1]), r_pu=np.array([0.0, r]), x_pu=np.array([0.0, x]),
        rating_pu=np.array([np.inf, np.inf]), p_share=np.array([0.0, 1.0]), q_over_p=np.array([0.0, 0.5]),
        voll=np.array([10.0, 10.0]), shunt_g_pu=np.array([0.0, g_pu]), shunt_b_pu=np.array([0.0, b_pu]),
        base_kva=1000.0, base_kv=10.0, vmin=0.9, vmax=1.1, v_ref=1.02)


@pytest.mark.parametrize(("g", "b"), [(0.0, 0.2), (0.05, -0.1), (0.02, 0.0)])
def test_unloaded_shunt_matches_the_closed_form(g: float, b: float) -> None:
    """No load: V2 = V1 / (1 + Z Y), the slack supplies |V2|^2 conj(Y) plus |I|^2 Z, all of it losses."""
    net = two_bus(g, b)
    res = run_powerflow(net, np.zeros((1, 2)), np.zeros((1, 2)), tol=1e-13)
    z, y = complex(0.01, 0.03), complex(g, b)
    v2 = 1.02 / (1 + z * y)
    current = y * v2
    s_slack = (abs(v2) ** 2 * y.conjugate() + abs(current) ** 2 * z) * 1000.0
    assert res.converged.all()
    assert res.vm_pu[0, 1] == pytest.approx(abs(v2), abs=1e-12)
    assert res.va_deg[0, 1] == pytest.approx(np.degrees(np.angle(v2)), abs=1e-10)
    assert res.slack_p_kw[0] == pytest.approx(s_slack.real, abs=1e-9)
    assert res.slack_q_kvar[0] == pytest.approx(s_slack.imag, abs=1e-9)
    assert res.loss_kw[0] == pytest.approx(s_slack.real, abs=1e-9)


def test_line_charging_raises_the_voltage_and_the_lindistflow_follows() -> None:
    p, q = np.array([[0.0, 400.0]]), np.array([[0.0, 200.0]])
    plain, charged = two_bus(0.0, 0.0), two_bus(0.0, 0.15)
    v_plain = run_powerflow(plain, p, q).vm_pu[0, 1]
    v_charged = run_powerflow(charged, p, q).vm_pu[0, 1]
    assert v_charged > v_plain + 3e-3                    # 150 kvar injected through x = 0.03 pu
    lin = lindistflow(charged, p / 1000.0, q / 1000.0, np.array([0]))
    lin0 = lindistflow(plain, p / 1000.0, q / 1000.0, np.array([0]))
    # constant injection at 1 pu: the squared voltage rises by 2 x B x (1 pu)^2
    assert lin.v2[0, 1] - lin0.v2[0, 1] == pytest.approx(2 * 0.03 * 0.15, abs=1e-12)
    assert np.sqrt(lin.v2[0, 1]) == pytest.approx(v_charged, abs=2e-3)


def test_shedding_opf_supplies_the_shunt_losses(ieee33_path) -> None:  # type: ignore[no-untyped-def]
    """The substation short by 50 kW of load plus shunt conductance: exactly 50 kW is shed, and the answer
    passes the independent check (which includes the shunts)."""
    inst = load_instance(ieee33_path)
    system = build_system(inst)
    g_kw = np.zeros(system.network.n_bus)
    g_kw[[5, 17, 30]] = [20.0, 7.5, 12.0]
    net = dataclasses.replace(system.network, shunt_g_pu=g_kw / system.network.base_kva,
                              shunt_b_pu=np.full(system.network.n_bus, 30.0) / system.network.base_kva)
    units = system.units
    p = np.asarray([b.p_kw for b in inst.network.buses], float) * 0.5
    q = p * net.q_over_p
    pmax = np.zeros(units.n)
    grid = units.kind.index("external_grid")
    pmax[grid] = p.sum() + g_kw.sum() - 50.0
    qmax = np.where(np.arange(units.n) == grid, 1e5, 0.0)
    res = SheddingOPF(net, units, None).solve(p, q, pmax, np.zeros(units.n), qmax, 0.0, int(net.root))
    assert res.ok, res.status
    assert res.total_kw == pytest.approx(50.0, abs=1e-5)


def test_t_model_to_pi_matches_pandapower() -> None:
    build_branch = pytest.importorskip("pandapower.build_branch")
    from gplopt.importers.shunts import t_to_pi

    z, y_m, rr, xr = complex(0.004, 0.06), complex(2e-4, -3e-3), 0.3, 0.7
    r, x = np.array([z.real]), np.array([z.imag])
    g, b = np.array([y_m.real]), np.array([y_m.imag])
    r2, x2, g2, b2, ga, ba = build_branch._wye_delta(r, x, g, b, np.array([rr]), np.array([xr]))
    zs, y_hv, y_lv = t_to_pi(z, y_m, rr, xr)
    assert zs == pytest.approx(complex(r2[0], x2[0]), rel=1e-12)
    assert y_hv == pytest.approx(complex(g2[0], b2[0]) / 2, rel=1e-12)              # makeYbus halves BR_B
    assert y_lv == pytest.approx(complex(g2[0] + ga[0], b2[0] + ba[0]) / 2, rel=1e-12)
    assert t_to_pi(z, 0j, rr, xr) == (z, 0j, 0j)
