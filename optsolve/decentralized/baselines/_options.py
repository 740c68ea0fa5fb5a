"""Option validators of the baselines (``(value, name) -> value``, as ``solver.Method`` wants)."""

from __future__ import annotations

import math
import numbers


def positive_float_or_none(value, name: str):
    """``value`` as a float > 0, or None (use the theory's default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number or None, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return float(value)


def positive_int_or_none(value, name: str):
    """``value`` as an int >= 1, or None (use the theory's default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer or None, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def unit_interval_or_none(value, name: str):
    """``value`` in [0, 1), or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number or None, got {type(value).__name__}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def boolean(value, name: str):
    if not isinstance(value, (bool, numbers.Integral)) or value not in (0, 1):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def choice(*allowed: str):
    """Validator accepting one of ``allowed`` strings."""

    def check(value, name: str):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
        return value

    return check


def fixed_graph(solver: str, info) -> None:
    """Methods tuned by one graph's spectrum refuse a :class:`TimeVaryingGraph` clearly."""
    if info.is_time_varying:
        raise ValueError(
            f"solver={solver!r} needs a fixed communication graph (its parameters come from one "
            "graph's spectrum); for a TimeVaryingGraph use 'dadao', 'dgd', 'adom+' or "
            "'extra' with variant='gradient_tracking'"
        )
