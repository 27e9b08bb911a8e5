"""The design loop: choose incentive grade, charger count, discharge rating and SoC threshold.

``space`` (the lattice from the instance), ``evaluate`` (one design -> an Evaluation, the inner noisy
evaluator), ``surrogate`` (GP + noisy EI, Kriging-believer batches), ``journal`` (append-only JSONL; resume),
``loop`` (``optimize``: ask/tell over batches, confirmation on fresh years, Pareto front).
"""

from gplopt.design.evaluate import Evaluation, evaluate_design
from gplopt.design.loop import DesignResult, DesignSpec, optimize
from gplopt.design.space import Design, DesignSpace

__all__ = ["Design", "DesignResult", "DesignSpace", "DesignSpec", "Evaluation", "evaluate_design", "optimize"]
