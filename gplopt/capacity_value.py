"""The capacity-value API under its historical name: see the package :mod:`gplopt.capacity`."""

from gplopt.capacity.search import solve_monotone
from gplopt.capacity.shortdays import add_reserve, drop_row, restrict_history, restrict_system, with_row
from gplopt.capacity.spec import CapacityValueResult, CapacityValueSpec, Probe, Progress
from gplopt.capacity.value import capacity_value
from gplopt.sampling import REFERENCE_ID

__all__ = ["REFERENCE_ID", "CapacityValueResult", "CapacityValueSpec", "Probe", "Progress", "add_reserve",
           "capacity_value", "drop_row", "restrict_history", "restrict_system", "solve_monotone", "with_row"]
