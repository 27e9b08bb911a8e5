"""The shedding OPF: LinDistFlow with voltage and branch limits, unit and GPL limits, VoLL-weighted shedding.

``build_shedding_model(network, units, lot_buses)`` is a pure builder returning a Pyomo ConcreteModel whose
hour-dependent data are mutable Params; :class:`SheddingOPF` builds it once, keeps one persistent solver,
and per hour only updates the Params and re-solves (never rebuilds). Loads are shed at constant power factor;
bus shunts are constant loads at 1 pu voltage.
While the external grid is up the root holds the voltage; in an islanded hour the ``ref`` Param moves the
voltage reference to a local unit's bus.

Parking lots: one V2G column ``pgpl[k]`` per lot, at its bus, bounded by the V2G the lot scheduled in the hour
(its energy limits stay per PEV, in :mod:`gplopt.fleet`). Which lot delivers is the OPF's decision: least
VoLL-weighted shed first; with several lots, ties are broken by least V2G energy, then by lot order (an earlier
lot first), through a tie-break cost ``TIE_BREAK x (1 + k / L)`` per pu of lot k's V2G (k = 0 .. L-1), far below
any VoLL, so it never trades shed for V2G and makes the dispatch unique. With one lot there is no tie to break
and no tie-break term: single-lot numbers are those of the scalar model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from gplopt.errors import SolverError
from gplopt.network.opf_check import lp_network, verify_answer
from gplopt.network.powerflow import OCTAGON, shunt_load_pu
from gplopt.system import Network, Units

SOLVERS = ("highs", "gurobi")
TIE_BREAK = 1e-6     # cost per pu of V2G (x (1 + k / L) for lot k) among several lots; VoLL is >= 1e-3 per kWh


@dataclass(frozen=True)
class OpfResult:
    status: str                    # "optimal" or the solver's reason
    shed_kw: np.ndarray            # (B,) shed active load per bus
    ok: bool

    @property
    def total_kw(self) -> float:
        return float(self.shed_kw.sum())


def build_shedding_model(net: Network, units: Units, lot_buses: tuple[int, ...]) -> pyo.ConcreteModel:
    """Every hour-dependent number is a mutable Param used only as a variable bound, so a persistent solver
    updates bounds and never re-walks expressions. Loads are variables pinned by their bounds."""
    lots = tuple(int(b) for b in lot_buses)
    m = pyo.ConcreteModel(name="lindistflow_shedding")
    nb = net.n_bus
    m.B = pyo.RangeSet(0, nb - 1)
    m.U = pyo.RangeSet(0, units.n - 1) if units.n else pyo.Set(initialize=[])
    m.L = pyo.Set(initialize=[j for j in range(nb) if j != net.root])
    m.R = pyo.Set(initialize=[j for j in range(nb) if j != net.root and math.isfinite(net.rating_pu[j])])
    # hour data (pu)
    m.pd = pyo.Param(m.B, mutable=True, initialize=0.0)     # active load
    m.qd = pyo.Param(m.B, mutable=True, initialize=0.0)     # reactive load
    m.pmax = pyo.Param(m.U, mutable=True, initialize=0.0)
    m.pmin = pyo.Param(m.U, mutable=True, initialize=0.0)
    m.qmax = pyo.Param(m.U, mutable=True, initialize=0.0)
    m.qmin = pyo.Param(m.U, mutable=True, initialize=0.0)
    m.K = pyo.RangeSet(0, len(lots) - 1) if lots else pyo.Set(initialize=[])
    m.gplmax = pyo.Param(m.K, mutable=True, initialize=0.0)
    m.v2lo = pyo.Param(m.B, mutable=True, initialize=net.vmin**2)   # = v_ref^2 at the reference bus
    m.v2hi = pyo.Param(m.B, mutable=True, initialize=net.vmax**2)
    # variables
    m.load_p = pyo.Var(m.B, bounds=lambda m, j: (m.pd[j], m.pd[j]))             # pinned to the hour's load
    m.load_q = pyo.Var(m.B, bounds=lambda m, j: (m.qd[j], m.qd[j]))
    m.shed = pyo.Var(m.B, bounds=lambda m, j: (0.0, m.pd[j]))                # shed active load
    m.pg = pyo.Var(m.U, bounds=lambda m, u: (m.pmin[u], m.pmax[u]))
    m.qg = pyo.Var(m.U, bounds=lambda m, u: (m.qmin[u], m.qmax[u]))
    m.pgpl = pyo.Var(m.K, bounds=lambda m, k: (0.0, m.gplmax[k]))
    m.pf = pyo.Var(m.B)                                      # flow into the branch feeding each bus
    m.qf = pyo.Var(m.B)
    m.v2 = pyo.Var(m.B, bounds=lambda m, j: (m.v2lo[j], m.v2hi[j]))
    children: dict[int, list[int]] = {j: [] for j in range(nb)}
    for j in range(nb):
        if net.parent[j] >= 0:
            children[int(net.parent[j])].append(j)
    at_bus: dict[int, list[int]] = {j: [] for j in range(nb)}
    for u in range(units.n):
        at_bus[int(units.bus[u])].append(u)
    qop = {j: float(net.q_over_p[j]) for j in range(nb)}
    sh_p, sh_q = (np.asarray(a, float) for a in shunt_load_pu(net))    # constant: shunts at 1 pu voltage

    def p_bal(m: pyo.ConcreteModel, j: int) -> pyo.Expression:
        gen = sum(m.pg[u] for u in at_bus[j]) + sum(m.pgpl[k] for k in range(len(lots)) if lots[k] == j)
        return m.pf[j] + gen + m.shed[j] == m.load_p[j] + float(sh_p[j]) + sum(m.pf[c] for c in children[j])

    def q_bal(m: pyo.ConcreteModel, j: int) -> pyo.Expression:  # loads shed at constant power factor
        gen = sum(m.qg[u] for u in at_bus[j])
        return m.qf[j] + gen + qop[j] * m.shed[j] == m.load_q[j] + float(sh_q[j]) + sum(m.qf[c] for c in children[j])

    m.p_balance = pyo.Constraint(m.B, rule=p_bal)
    m.q_balance = pyo.Constraint(m.B, rule=q_bal)
    m.drop = pyo.Constraint(m.L, rule=lambda m, j: m.v2[j] == m.v2[int(net.parent[j])]
                            - 2.0 * (float(net.r_pu[j]) * m.pf[j] + float(net.x_pu[j]) * m.qf[j]))
    # branch ratings: an octagon inscribed in the circle P^2 + Q^2 <= S^2 (as in the certificate)
    rating = {j: float(net.rating_pu[j]) * OCTAGON for j in m.R}
    m.s_p = pyo.Constraint(m.R, [1, -1], rule=lambda m, j, s: s * m.pf[j] <= rating[j])
    m.s_q = pyo.Constraint(m.R, [1, -1], rule=lambda m, j, s: s * m.qf[j] <= rating[j])
    m.s_pq = pyo.Constraint(m.R, [1, -1], [1, -1], rule=lambda m, j, a, b:
                            a * m.pf[j] + b * m.qf[j] <= math.sqrt(2.0) * rating[j])
    m.pf[net.root].fix(0.0)  # the root has no feeding branch
    m.qf[net.root].fix(0.0)
    voll = {j: float(net.voll[j]) for j in range(nb)}
    tie = sum(TIE_BREAK * (1.0 + k / len(lots)) * m.pgpl[k] for k in range(len(lots))) if len(lots) > 1 else 0.0
    m.obj = pyo.Objective(expr=sum(voll[j] * m.shed[j] for j in range(nb)) + tie, sense=pyo.minimize)
    return m


class SheddingOPF:
    """One model, one persistent solver; ``solve`` per hour updates Params in place. Every answer the solver
    calls optimal is verified against the hour's constraints (:mod:`gplopt.network.opf_check`) before use."""

    SOLUTION = ("pf", "qf", "v2", "pg", "qg", "shed")

    def __init__(self, net: Network, units: Units, lot_buses: tuple[int, ...] | int | None,
                 solver: str = "highs") -> None:
        net = lp_network(net, units)     # a power base on which the LP is well scaled
        if lot_buses is None or isinstance(lot_buses, int | np.integer):   # one GPL bus (or none), as before lots
            lot_buses = () if lot_buses is None else (int(lot_buses),)
        self.net, self.units, self.lot_buses = net, units, tuple(int(b) for b in lot_buses)
        self.solver_name = solver
        self._key = key = _model_key(net, units, self.lot_buses, solver)
        built = _BUILT.get(key)
        if built is not None:   # the same LP loaded into HiGHS by an earlier OPF of this process: reuse it
            self.model, self.solver = built
        else:
            self.model = build_shedding_model(net, units, self.lot_buses)
            self.solver = make_solver(solver)
        self.solves = 0
        self._last: dict[str, np.ndarray] = {}
        self._built = False                 # the persistent model has been loaded into HiGHS
        self._cols: np.ndarray | None = None
        self._gplmax = np.zeros(len(self.lot_buses))
        self._sol: dict[str, np.ndarray] = {}
        self._sol_cols: np.ndarray | None = None
        if built is not None:
            self._built = True
        elif solver == "highs":   # load the LP into HiGHS now, as part of building: every solve then only sets
            try:                  # the hour's column bounds (``_fast``), the first one included
                self.solver.set_instance(self.model)
                _highs_options(self.solver)
                self._built = True
                _BUILT.clear()    # one model kept: the last system's
                _BUILT[key] = (self.model, self.solver)
            except Exception:   # noqa: BLE001 - then the first solve loads it through Pyomo, as before
                self._built = False

    def _set(self, name: str, values: np.ndarray) -> None:
        """Record the hour's values; Pyomo Params are written only when Pyomo itself solves."""
        self._last[name] = np.asarray(values, float)

    def _sync_params(self) -> None:
        m = self.model
        for name, values in self._last.items():
            param = getattr(m, name)
            for i, v in enumerate(values):
                param[i] = float(v)
        for k, v in enumerate(self._gplmax):
            m.gplmax[k] = float(v)

    def solve(self, p_kw: np.ndarray, q_kvar: np.ndarray, pmax_kw: np.ndarray, pmin_kw: np.ndarray,
              qmax_kvar: np.ndarray, gpl_max_kw: np.ndarray | float, ref_bus: int) -> OpfResult:
        """Shed per bus of one hour; ``gpl_max_kw``: each lot's V2G bound (a scalar with one lot)."""
        base = self.net.base_kva
        self._set("pd", np.asarray(p_kw, float) / base)
        self._set("qd", np.asarray(q_kvar, float) / base)
        self._set("pmax", np.asarray(pmax_kw, float) / base)
        self._set("pmin", np.asarray(pmin_kw, float) / base)
        qmax = np.minimum(np.asarray(qmax_kvar, float) / base, 1e6)
        self._set("qmax", qmax)
        self._set("qmin", -qmax)
        net = self.net
        lo = np.full(net.n_bus, net.vmin**2)
        hi = np.full(net.n_bus, net.vmax**2)
        lo[ref_bus] = hi[ref_bus] = net.v_ref**2
        self._set("v2lo", lo)
        self._set("v2hi", hi)
        self._gplmax = np.broadcast_to(np.asarray(gpl_max_kw, float), (len(self.lot_buses),)) / base
        self.solves += 1
        status = self._verified(self._run())
        if status != "optimal":
            # a fresh solver once: a persistent solver can be left in a bad state by an earlier failure (and
            # no later OPF may pick the suspect one up from the cache)
            if _BUILT.get(self._key, (None, None))[1] is self.solver:
                del _BUILT[self._key]
            self.solver = make_solver(self.solver_name)
            self._built, self._cols, self._sol_cols = False, None, None
            status = self._verified(self._run())
        if status != "optimal":
            return OpfResult(status=status, shed_kw=np.full(self.net.n_bus, np.nan), ok=False)
        shed = self._sol["shed"] * base
        return OpfResult(status=status, shed_kw=np.clip(shed, 0.0, np.asarray(p_kw, float)), ok=True)

    def _verified(self, status: str) -> str:
        """``status``, or why an "optimal" answer breaks the hour's constraints (then it is not used)."""
        if status != "optimal":
            return status
        reason = verify_answer(self.net, self.units.bus, self.lot_buses, self._sol, self._last, self._gplmax)
        return "optimal" if reason is None else f"unverified answer: {reason}"

    def _solution_cols(self, vmap: dict[int, int]) -> np.ndarray | None:
        """HiGHS columns of pf, qf, v2, pg, qg, shed and pgpl (each in model order), in that order."""
        if self._sol_cols is None:
            m = self.model
            order = [v for name in self.SOLUTION for v in getattr(m, name).values()] + list(m.pgpl.values())
            try:
                self._sol_cols = np.array([vmap[id(v)] for v in order], dtype=np.int32)
            except KeyError:   # a fixed variable the interface kept out of the LP
                return None
        return self._sol_cols

    def _read_solution(self, values: np.ndarray | None = None) -> None:
        """The solver's point, from HiGHS column values (fast path) or from the Pyomo variables."""
        m = self.model
        sizes = [len(getattr(m, name)) for name in self.SOLUTION]
        if values is None:
            flat = np.array([v.value if v.value is not None else np.nan for name in self.SOLUTION
                             for v in getattr(m, name).values()] + [v.value or 0.0 for v in m.pgpl.values()],
                            float)
        else:
            flat = values
        cuts = np.cumsum(sizes)
        parts = np.split(flat, cuts)
        self._sol = dict(zip(self.SOLUTION, parts[:-1], strict=True))
        self._sol["pgpl"] = parts[-1]

    def _bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(columns, lower, upper) of every variable whose bounds carry the hour's data, read from the
        Params just set, in the persistent HiGHS model's own column numbering."""
        vmap = getattr(self.solver, "_pyomo_var_to_solver_var_map", None)
        if vmap is None:
            return None
        m = self.model
        if self._cols is None:
            order = [v for name in ("load_p", "load_q", "shed", "pg", "qg", "v2") for v in getattr(m, name).values()]
            order += list(m.pgpl.values())
            try:
                self._cols = np.array([vmap[id(v)] for v in order], dtype=np.int32)
            except KeyError:
                return None
        last = self._last
        pd_, qd = last["pd"], last["qd"]
        lo = np.concatenate([pd_, qd, np.zeros_like(pd_), last["pmin"], last["qmin"], last["v2lo"],
                             np.zeros(len(self.lot_buses))])
        hi = np.concatenate([pd_, qd, pd_, last["pmax"], last["qmax"], last["v2hi"], self._gplmax])
        return self._cols, lo, hi

    def _fast(self) -> str | None:
        """Solve through the HiGHS model the persistent interface built, changing only column bounds
        (the hour's data); None when that path is not available (then Pyomo's own update runs)."""
        import highspy

        inner = getattr(self.solver, "_solver_model", None)
        if inner is None or not self._built:
            return None
        b = self._bounds()
        if b is None:
            return None
        cols, lo, hi = b
        inner.changeColsBounds(int(cols.size), cols, lo, hi)
        inner.clearSolver()
        inner.run()
        if inner.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return str(inner.getModelStatus()).split(".")[-1].lower()
        values = np.asarray(inner.getSolution().col_value)
        vmap = getattr(self.solver, "_pyomo_var_to_solver_var_map", None)
        sol_cols = self._solution_cols(vmap) if vmap is not None else None
        self._read_solution(values[sol_cols] if sol_cols is not None else None)
        if sol_cols is None:   # fall back on the Pyomo variables
            self.solver.load_vars()
            self._read_solution()
        return "optimal"

    def _run(self) -> str:
        try:
            fast = self._fast()
            if fast is not None:
                return fast
            self._sync_params()
            inner = getattr(self.solver, "_solver_model", None)
            if inner is not None and hasattr(inner, "clearSolver"):
                # no warm start: each hour's answer depends on that hour alone, never on which hours
                # this process solved before (workers and batch sizes must not change a digit)
                inner.clearSolver()
            res = self.solver.solve(self.model)
            tc = str(res.termination_condition).split(".")[-1].lower()
            if tc == "optimal":
                res.solution_loader.load_vars()
                self._read_solution()
                self._built = True
                return "optimal"
            return tc
        except Exception as exc:  # solver faults are reported per hour, never swallowed as zero ENS
            return f"error: {type(exc).__name__}: {exc}"[:200]


# The LP loaded into HiGHS, per (network, units, lots, solver) content: every solve writes all of the hour's
# column bounds and starts cold (``clearSolver``), so an OPF sharing it answers exactly as a fresh one; a process
# running several ``assess`` of one system (capacity value, sweeps, design) builds it once.
_BUILT: dict[str, tuple[pyo.ConcreteModel, Any]] = {}


def _model_key(net: Network, units: Units, lot_buses: tuple[int, ...], solver: str) -> str:
    h = hashlib.sha256(repr((solver, lot_buses, units.n)).encode())
    for f in dataclasses.fields(net):
        v = getattr(net, f.name)
        h.update(f.name.encode())
        h.update(np.ascontiguousarray(v).tobytes() + str(np.asarray(v).dtype).encode() if isinstance(v, np.ndarray)
                 else repr(v).encode())
    h.update(np.ascontiguousarray(units.bus).tobytes())
    return h.hexdigest()


def _highs_options(solver) -> None:  # type: ignore[no-untyped-def]
    """The options Pyomo's appsi HiGHS interface sets before each of its own runs (``Highs._solve``), set once
    on the HiGHS model it built, so a model loaded by ``set_instance`` solves exactly as after Pyomo's first solve."""
    inner, config = solver._solver_model, solver.config
    inner.setOptionValue("log_to_console", True)
    if config.logfile != "":
        inner.setOptionValue("log_file", config.logfile)
    if config.time_limit is not None:
        inner.setOptionValue("time_limit", config.time_limit)
    if config.mip_gap is not None:
        inner.setOptionValue("mip_rel_gap", config.mip_gap)
    for key, option in solver.highs_options.items():
        inner.setOptionValue(key, option)


def make_solver(name: str):  # type: ignore[no-untyped-def]
    """A persistent LP solver: HiGHS (default) or Gurobi when importable and licensed."""
    if name not in SOLVERS:
        raise SolverError(f"--solver: must be one of {', '.join(SOLVERS)}, got {name!r}")
    from pyomo.contrib.appsi.solvers import Gurobi, Highs

    solver = Highs() if name == "highs" else Gurobi()
    try:
        avail = solver.available()
    except Exception as exc:  # unlicensed gurobi raises here
        raise SolverError(f"--solver {name}: not usable here ({exc})") from None
    if not avail or "NotFound" in str(avail) or "Bad" in str(avail) or "NeedsCompiled" in str(avail):
        raise SolverError(f"--solver {name}: must be installed and licensed, got {avail}")
    solver.config.stream_solver = False
    solver.config.load_solution = False
    if name == "highs":   # tight tolerances: shed is reported in kW from a per-unit model
        # presolve off: on an LP of ~200 columns it costs more than it saves (25 % per solve measured)
        solver.highs_options = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10,
                                "output_flag": False, "presolve": "off"}
    uc = solver.update_config   # the structure never changes after the build: only bounds move
    uc.check_for_new_or_removed_constraints = False
    uc.check_for_new_or_removed_vars = False
    uc.check_for_new_or_removed_params = False
    uc.check_for_new_objective = False
    uc.update_constraints = False
    uc.update_named_expressions = False
    uc.update_objective = False
    uc.update_vars = False
    uc.update_params = True
    return solver
