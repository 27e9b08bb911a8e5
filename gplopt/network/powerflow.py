"""Batched radial AC power flow (backward/forward sweep) and the batched LinDistFlow evaluation.

Both take arrays of hours x buses and contain no per-hour Python loop: the radial structure is one
"subtree" matrix ``T`` (``T[i, j] = 1`` when bus ``i`` lies in the subtree below bus ``j``, itself included),
so branch currents are ``I_load @ T`` and voltage drops ``(Z * I_branch) @ T.T``. Branch ``j`` is the branch
feeding bus ``j`` from its parent; the root column is unused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gplopt.system import Network


def subtree_matrix(net: Network) -> np.ndarray:
    n = net.n_bus
    t = np.eye(n)
    for j in net.order[::-1]:
        p = net.parent[j]
        if p >= 0:
            t[:, p] += t[:, j]
    return t


@dataclass(frozen=True)
class PowerFlowResult:
    """Per hour (rows) and bus (columns); powers in kW/kvar, voltages in pu."""
    vm_pu: np.ndarray              # (H, B) voltage magnitude
    va_deg: np.ndarray             # (H, B) voltage angle
    branch_kva: np.ndarray         # (H, B) apparent power entering the branch feeding each bus (sending end)
    branch_p_kw: np.ndarray        # (H, B) active power entering that branch
    loss_kw: np.ndarray            # (H,) total active losses
    loss_kvar: np.ndarray          # (H,)
    slack_p_kw: np.ndarray         # (H,) active power drawn from the slack (substation)
    slack_q_kvar: np.ndarray       # (H,)
    converged: np.ndarray          # (H,) bool
    iterations: int

    @property
    def slack_kva(self) -> np.ndarray:
        return np.hypot(self.slack_p_kw, self.slack_q_kvar)

    def within_limits(self, net: Network, tol: float = 1e-9) -> np.ndarray:
        """(H,) bool: converged, every voltage in [vmin, vmax] and every branch within its rating."""
        ok = self.converged.copy()
        ok &= (self.vm_pu >= net.vmin - tol).all(axis=1) & (self.vm_pu <= net.vmax + tol).all(axis=1)
        rated = np.isfinite(net.rating_pu)
        if rated.any():
            ok &= (self.branch_kva[:, rated] <= net.rating_pu[rated] * net.base_kva * (1 + tol)).all(axis=1)
        return ok


def run_powerflow(net: Network, p_kw: np.ndarray, q_kvar: np.ndarray, *, tol: float = 1e-9,
                  max_iter: int = 60, v_slack: float | None = None) -> PowerFlowResult:
    """AC power flow for many hours at once. ``p_kw``/``q_kvar``: (H, B) net load (load minus generation).
    Bus shunts (``net.shunt_g_pu``, ``shunt_b_pu``) are constant-admittance loads; their consumption counts in
    the losses, as pandapower counts line charging and transformer no-load losses in its branch losses."""
    p = np.atleast_2d(np.asarray(p_kw, float)) / net.base_kva
    q = np.atleast_2d(np.asarray(q_kvar, float)) / net.base_kva
    h, n = p.shape
    s = p + 1j * q
    t = subtree_matrix(net)
    z = (net.r_pu + 1j * net.x_pu)[None, :]
    y = (net.shunt_g_pu + 1j * net.shunt_b_pu)[None, :] if net.has_shunts else None
    v0 = complex(net.v_ref if v_slack is None else v_slack)
    v = np.full((h, n), v0, complex)
    converged = np.zeros(h, bool)
    it = 0
    i_br = np.zeros((h, n), complex)
    for it in range(1, max_iter + 1):  # noqa: B007 - iterations of the whole batch, not of hours
        i_load = np.conj(s / v) if y is None else np.conj(s / v) + y * v
        i_br = i_load @ t
        i_br[:, net.root] = 0.0
        v_new = v0 - (z * i_br) @ t.T
        dv = np.abs(v_new - v).max(axis=1)
        v = v_new
        converged = dv < tol
        if converged.all() or not np.isfinite(v).all():
            break
    converged &= np.isfinite(v).all(axis=1)
    par = np.where(net.parent >= 0, net.parent, net.root)
    s_send = v[:, par] * np.conj(i_br)
    s_send[:, net.root] = 0.0
    loss = (np.abs(i_br) ** 2 * z).sum(axis=1)
    if y is not None:
        loss = loss + (np.abs(v) ** 2 * np.conj(y)).sum(axis=1)
    slack = s.sum(axis=1) + loss
    kva = net.base_kva
    with np.errstate(invalid="ignore"):
        return PowerFlowResult(
            vm_pu=np.abs(v), va_deg=np.degrees(np.angle(v)), branch_kva=np.abs(s_send) * kva,
            branch_p_kw=s_send.real * kva, loss_kw=loss.real * kva, loss_kvar=loss.imag * kva,
            slack_p_kw=slack.real * kva, slack_q_kvar=slack.imag * kva, converged=converged, iterations=it)


# ------------------------------------------------------------------------------------------ LinDistFlow
def shunt_load_pu(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """(P, Q) the bus shunts consume at 1 pu voltage (pu): the LinDistFlow's constant-power stand-in for
    constant admittance (the OPF, its answer check and :func:`lindistflow` all use it)."""
    return net.shunt_g_pu, -net.shunt_b_pu


OCTAGON = float(np.cos(np.pi / 8))   # scales |P|, |Q| <= S and |P| + |Q| <= sqrt(2) S to lie inside the circle
@dataclass(frozen=True)
class LinDistFlowPoint:
    v2: np.ndarray                 # (H, B) squared voltage magnitude
    p_br: np.ndarray               # (H, B) pu active flow into the branch feeding each bus
    q_br: np.ndarray


def lindistflow(net: Network, p_net_pu: np.ndarray, q_net_pu: np.ndarray, ref_bus: np.ndarray,
                t: np.ndarray | None = None) -> LinDistFlowPoint:
    """Lossless linearized flow for many hours: flows from net loads, squared voltages with ``ref_bus``
    (per hour) held at ``v_ref``. The same equations as the shedding OPF; bus shunts are constant loads at
    1 pu voltage (:func:`shunt_load_pu`)."""
    t = subtree_matrix(net) if t is None else t
    if net.has_shunts:
        g, b = shunt_load_pu(net)
        p_net_pu, q_net_pu = p_net_pu + g[None, :], q_net_pu + b[None, :]
    p_br = p_net_pu @ t
    q_br = q_net_pu @ t
    p_br[:, net.root] = 0.0
    q_br[:, net.root] = 0.0
    drop = (2.0 * (net.r_pu[None, :] * p_br + net.x_pu[None, :] * q_br)) @ t.T
    rows = np.arange(drop.shape[0])
    v2 = net.v_ref**2 + (drop[rows, ref_bus][:, None] - drop)
    return LinDistFlowPoint(v2=v2, p_br=p_br, q_br=q_br)


def lindistflow_feasible(net: Network, pt: LinDistFlowPoint, tol: float = 1e-9) -> np.ndarray:
    """(H,) bool: squared voltages within limits and branch flows inside the rating octagon used by the OPF
    (inscribed in the circle P^2 + Q^2 <= S^2, so it never admits an overload)."""
    ok = (pt.v2 >= net.vmin**2 - tol).all(axis=1) & (pt.v2 <= net.vmax**2 + tol).all(axis=1)
    rated = np.isfinite(net.rating_pu)
    if rated.any():
        s = net.rating_pu[rated][None, :] * OCTAGON
        ap, aq = np.abs(pt.p_br[:, rated]), np.abs(pt.q_br[:, rated])
        ok &= ((ap <= s + tol) & (aq <= s + tol) & (ap + aq <= np.sqrt(2.0) * s + tol)).all(axis=1)
    return np.asarray(ok, bool)
