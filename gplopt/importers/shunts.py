"""Shunt admittances of an imported pandapower net, lumped per bus (``shunt_g_kw``, ``shunt_b_kvar``).

Admittances are complex per unit of a 1 MVA base at each bus's own rated voltage, so ``y.real`` is the MW a
shunt consumes at 1 pu and ``y.imag`` the Mvar it injects (> 0 capacitive). They follow pandapower's own
models (pandapower.build_branch) so that the radial power flow reproduces ``pandapower.runpp``:

* line: pi model, half of ``(g_us_per_km + j 2 pi f c_nf_per_km) x length x parallel`` at each end;
* two-winding transformer: pandapower's default T model (``runpp(trafo_model="t")``): the magnetizing branch
  (``pfe_kw``, ``i0_percent``) between the two halves of the leakage impedance, split by
  ``leakage_resistance_ratio_hv``/``leakage_reactance_ratio_hv`` (0.5 if absent), turned into the exact
  pi equivalent (star-delta), as pandapower does: a new series impedance and unequal shunts at the two ends;
* a branch opened at one end by a switch still charges from the other end: that end gets the admittance the
  open branch presents, ``y_closed + y_open / (1 + z y_open)`` (pandapower's auxiliary bus);
* the ``shunt`` element: ``p_mw - j q_mvar`` x ``step``, referred from its ``vn_kv`` to the bus's rating.
"""

from __future__ import annotations

import math
from typing import Any

Shunts = dict[int, complex]      # pandapower bus index -> admittance (pu of 1 MVA at the bus's rating)


def _num(v: Any, default: float) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(f) else f


def line_end_admittance(ln: Any, vn_kv: float, f_hz: float) -> complex:
    """Half the line's shunt admittance (one end of the pi model), pu of 1 MVA at ``vn_kv``."""
    n_par = _num(ln.get("parallel", 1), 1.0) or 1.0
    length = float(ln["length_km"])
    siemens = complex(_num(ln.get("g_us_per_km", 0.0), 0.0) * 1e-6,
                      2.0 * math.pi * f_hz * _num(ln.get("c_nf_per_km", 0.0), 0.0) * 1e-9)
    return siemens * length * n_par * vn_kv**2 / 2.0


def magnetizing_admittance(tr: Any, ratio: float) -> complex:
    """The transformer's magnetizing admittance, pu of 1 MVA at the low-voltage bus's rating (``ratio`` =
    vn_lv_kv / the lv bus's vn_kv), as pandapower's _calc_y_from_dataframe: g from pfe_kw, |y| from
    i0_percent, inductive."""
    n_par = _num(tr.get("parallel", 1), 1.0) or 1.0
    pfe_mw = _num(tr.get("pfe_kw", 0.0), 0.0) / 1000.0
    ym = _num(tr.get("i0_percent", 0.0), 0.0) / 100.0 * float(tr["sn_mva"])
    b = -math.sqrt(max(ym**2 - pfe_mw**2, 0.0))
    return complex(pfe_mw, b) * n_par / ratio**2


def t_to_pi(z: complex, y_m: complex, r_ratio: float, x_ratio: float) -> tuple[complex, complex, complex]:
    """(series z, shunt at the hv end, shunt at the lv end) of the T model with magnetizing ``y_m`` between
    the hv share (``r_ratio``, ``x_ratio``) and the lv share of ``z``; ``z`` unchanged when ``y_m`` is 0."""
    if y_m == 0:
        return z, 0j, 0j
    za = complex(z.real * r_ratio, z.imag * x_ratio)
    zb = z - za
    zc = 1.0 / y_m
    total = za * zb + za * zc + zb * zc
    return total / zc, zb / total, za / total


def transformer_pi(tr: Any, z: complex, ratio: float) -> tuple[complex, complex, complex]:
    """:func:`t_to_pi` of a pandapower ``trafo`` row whose leakage impedance is ``z``."""
    return t_to_pi(z, magnetizing_admittance(tr, ratio), _num(tr.get("leakage_resistance_ratio_hv"), 0.5),
                   _num(tr.get("leakage_reactance_ratio_hv"), 0.5))


def add_branch(shunts: Shunts, a: int, b: int, z: complex, ya: complex, yb: complex, opened: set[int]) -> None:
    """Add a branch's end admittances (``ya`` at bus ``a``, ``yb`` at ``b``); with the branch open at one end
    the other end carries the open branch's admittance; open at both ends (or at neither of its buses) it
    adds nothing."""
    open_a, open_b = a in opened, b in opened
    if not opened:
        shunts[a] = shunts.get(a, 0j) + ya
        shunts[b] = shunts.get(b, 0j) + yb
    elif open_a != open_b:
        closed, y_c, y_o = (b, yb, ya) if open_a else (a, ya, yb)
        shunts[closed] = shunts.get(closed, 0j) + y_c + y_o / (1.0 + z * y_o)


def shunt_element(sh: Any, vn_bus_kv: float) -> complex:
    """A pandapower ``shunt`` row (consumes p_mw + j q_mvar per step at its vn_kv) as an admittance."""
    step = _num(sh.get("step", 1), 1.0)
    vn = _num(sh.get("vn_kv"), vn_bus_kv) or vn_bus_kv
    return complex(float(sh["p_mw"]), -float(sh["q_mvar"])) * step * (vn_bus_kv / vn) ** 2


def bus_fields(total: complex) -> dict[str, float]:
    """``shunt_g_kw``/``shunt_b_kvar`` of a bus (nothing for a bus without shunts)."""
    out = {}
    if total.real != 0:
        out["shunt_g_kw"] = total.real * 1000.0
    if total.imag != 0:
        out["shunt_b_kvar"] = total.imag * 1000.0
    return out
