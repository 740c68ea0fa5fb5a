"""Step sizes of SA-SRRW: ``gamma_n = (n+1)^-a`` for the empirical measure, ``beta_n =
step_size (n+1)^-b`` for the iterate (Hu, Doshi & Eun 2024, Assumption A2), and the three
timescale regimes of the paper.
"""

from __future__ import annotations

import numbers

__all__ = ["DEFAULT_REGIME", "REGIMES", "check_regime"]

#: regime -> (a, b). Hu et al. 2024, Section 4: beta_n = (n+1)^-0.9 throughout, and
#: a = 0.8 (case (i), beta = o(gamma): the walk's measure moves faster than the iterate),
#: a = 0.9 (case (ii), beta = gamma), a = 1 (case (iii), gamma = o(beta)).
REGIMES = {
    "fast_walk": (0.8, 0.9),
    "same": (0.9, 0.9),
    "slow_walk": (1.0, 0.9),
}
#: case (i) is the one in which the iterate's asymptotic covariance falls like 1/alpha^2
#: (Hu et al. 2024, Theorem 3.3 and Corollary 3.4)
DEFAULT_REGIME = "fast_walk"


def check_regime(regime) -> tuple[float, float, str]:
    """``(a, b, case)`` for a regime name or an ``(a, b)`` pair with ``a, b`` in (1/2, 1].

    ``case`` is ``"fast_walk"`` when ``b > a`` (beta = o(gamma)), ``"same"`` when ``a == b``,
    ``"slow_walk"`` when ``a > b``.
    """
    if isinstance(regime, str):
        if regime not in REGIMES:
            raise ValueError(f"regime must be one of {sorted(REGIMES)} or a pair (a, b), got "
                             f"{regime!r}")
        a, b = REGIMES[regime]
        return a, b, regime
    try:
        a, b = regime
    except (TypeError, ValueError):
        raise TypeError(
            f"regime must be one of {sorted(REGIMES)} or a pair (a, b), got {regime!r}"
        ) from None
    for name, v in (("a", a), ("b", b)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.5 < v <= 1:
            raise ValueError(f"regime exponent {name} must be in (0.5, 1], got {v!r}")
    a, b = float(a), float(b)
    case = "fast_walk" if b > a else ("same" if a == b else "slow_walk")
    return a, b, case
