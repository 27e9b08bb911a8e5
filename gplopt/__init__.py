"""gplopt: capacity value and design of grid-connected EV parking lots as virtual energy storage."""

from gplopt.errors import GploptError, InstanceError, SolverError
from gplopt.instance import Instance, load_instance, with_overrides
from gplopt.system import System, build_system

__all__ = ["GploptError", "Instance", "InstanceError", "SolverError", "System", "build_system",
           "load_instance", "with_overrides"]
__version__ = "0.1.0"
