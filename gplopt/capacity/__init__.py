"""Capacity value of a resource (ECC, EFC, ELCC) on common random numbers, as a small package:

- :mod:`~gplopt.capacity.spec`: what is asked (``CapacityValueSpec``) and answered (``CapacityValueResult``);
- :mod:`~gplopt.capacity.shortdays`: the paired short-day re-evaluation (ECC, EFC);
- :mod:`~gplopt.capacity.search`: the one search (Newton/bisection) and bootstrap, through the ``Metric`` protocol;
- :mod:`~gplopt.capacity.metrics`: the metrics by name (ECC, EFC; ELCC in :mod:`~gplopt.capacity.elcc`);
- :mod:`~gplopt.capacity.value`: ``capacity_value`` and the stopping rule on the value's own precision.

What ``--resource`` names (a lot, all lots, a unit) and the system without it live in :mod:`gplopt.resources`.
"""

from gplopt.capacity.search import Base, Metric, Run, search
from gplopt.capacity.spec import CapacityValueResult, CapacityValueSpec, Probe, Progress
from gplopt.capacity.value import capacity_value

__all__ = ["Base", "CapacityValueResult", "CapacityValueSpec", "Metric", "Probe", "Progress", "Run",
           "capacity_value", "search"]
