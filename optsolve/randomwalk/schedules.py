"""Step sizes of SA-SRRW: ``gamma_n = (n+1)^-a`` for the empirical measure, ``beta_n =
step_size (n+1)^-b`` for the iterate (Hu, Doshi & Eun 2024, Assumption A2), and the three
timescale regimes of the paper.
"""

from __future__ import annotations

import numbers

__all__ = ["DEFAULT_REGIME", "PAPER_FAST_WALK", "REGIMES", "check_regime"]

#: regime -> (a, b), one pair per case of Hu et al. 2024, Theorem 3.3, all with the paper's
#: beta_n = (n+1)^-0.9 (Section 4):
#:
#: * "fast_walk", case (i), beta_n = o(gamma_n) (b > a): the walk's measure x_n moves on the
#:   faster timescale and the iterate's asymptotic covariance V_theta^(1)(alpha) carries the
#:   factor 1 / (alpha (1 + lambda_i) + 1)^2 on every mode, i.e. falls like 1/alpha^2. The
#:   other two cases fall like 1/alpha at best.
#:   a = 2b/3 = 0.6 balances the two ways a finite run leaves the case (i) limit, which decay
#:   at the same rate n^(-b/3) = n^-0.3 with this choice: (1) the timescale gap
#:   beta_n / gamma_n = n^(a-b), which lets x_n's own noise leak into theta (its share grows
#:   like alpha beta_n / gamma_n; with the paper's a = 0.8 it is n^-0.1 = 0.32 at n = 1e5, and
#:   the measured covariance falls only like 1/alpha^0.95 there); (2) the O(gamma_n) bias of
#:   x_n that the SRRW's nonlinearity (x_j / mu_j)^-alpha creates, against theta's noise
#:   sqrt(beta_n), a ratio n^(b/2-a). Measured on the karate-club ridge problem of
#:   bench/randomwalk_token_sgd.py at n = 1e5 (40 seeds): log-log slope of trace Cov(theta_n)
#:   against alpha -2.03 over alpha in {5, 10, 20} (closed form -1.83) and -1.48 over
#:   {1, 5, 10, 20, 50} (closed form -1.70), against -1.20 and -1.01 with a = 0.8; a = 0.55,
#:   0.65 and 0.7 did no better than 0.6.
#: * "same", case (ii), beta_n = gamma_n: (0.9, 0.9).
#: * "slow_walk", case (iii), gamma_n = o(beta_n): (1.0, 0.9), the original SRRW's 1/(n+1).
REGIMES = {
    "fast_walk": (0.6, 0.9),
    "same": (0.9, 0.9),
    "slow_walk": (1.0, 0.9),
}
#: the case (i) pair of the paper's experiments (Hu et al. 2024, Section 4): within 1e5 steps
#: its iterates' covariance falls only like 1/alpha (see REGIMES), but its smaller gamma_n
#: leaves less bias in x_n and theta_n (9x less at alpha = 10, n = 1e5 on the problem above),
#: which shows in the last iterate's error when many agents hold very different data
PAPER_FAST_WALK = (0.8, 0.9)
#: the regime in which the iterate's covariance falls like 1/alpha^2 (Hu et al. 2024,
#: Theorem 3.3 (i) and Corollary 3.4)
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
