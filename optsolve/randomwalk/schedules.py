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
#:   Every case (i) pair has that limit; a finite run leaves it in two ways, which pull a in
#:   opposite directions (measured with bench/randomwalk_token_sgd.py, 20-40 seeds):
#:   (1) theta's step filter passes the walk's fast noise, which the self-repulsion does not
#:   damp, so Cov(theta_n) / beta_n exceeds V_theta by about a factor 1 + alpha s h n^(a-b)
#:   (s h = step scale times curvature): on the karate-club ridge (s h ~ 1.3) the simulated
#:   over closed-form ratio at alpha = 20 and n = 1e6 is 1.7 for a = 0.6, 3.4 for a = 0.7,
#:   12 for a = 0.8, and the log-log slope over alpha in {5, 10, 20} is -1.71, -1.56, -0.94
#:   (closed form -1.83; -2.03 for a = 0.6 at n = 1e5 with 40 seeds); (2) the kernel is
#:   nonlinear in x, so x_n and with it theta_n carry a bias of order gamma_n: on the same
#:   problem ||E theta_n - theta*|| = (6-7) gamma_n for a = 0.6, 0.7 and 0.8 alike (alpha =
#:   10, n = 1e5 and 1e6): its square is 100x trace Cov(theta_n) at a = 0.6, n = 1e6, a
#:   seventh of it at a = 0.8.
#:   a = 0.6 is the largest a whose covariance visibly falls like 1/alpha^2 within 1e6 steps,
#:   which is what the default promises. On many very different agents the bias (2) decides
#:   the error of the last iterate instead: ijcnn1 logistic over 100 label-sorted agents,
#:   n = 1e5, alpha = 10, relative bias 0.0103 / 0.0059 / 0.0038 and spread 0.0030 / 0.0030 /
#:   0.0029 for a = 0.6 / 0.7 / 0.8, the non-backtracking walk 0.0030 and 0.0091; the
#:   default's bias falls like n^-0.6 against NBRW's spread n^-0.45, and they meet at about
#:   1e6 steps (0.0027 and 0.0026, 5 seeds); pass regime=(0.7, 0.9) or PAPER_FAST_WALK
#:   there. Raising b instead (smaller gap (1) at a larger a) slows theta: (0.7, 0.95)
#:   shows slope -1.68 at 1e6, but on ijcnn1 at 1e5 its initial transient is not gone
#:   (error 0.017, 2.7x that of (0.7, 0.9), NBRW's 0.017).
#: * "same", case (ii), beta_n = gamma_n: (0.9, 0.9).
#: * "slow_walk", case (iii), gamma_n = o(beta_n): (1.0, 0.9), the original SRRW's 1/(n+1).
REGIMES = {
    "fast_walk": (0.6, 0.9),
    "same": (0.9, 0.9),
    "slow_walk": (1.0, 0.9),
}
#: the case (i) pair of the paper's experiments (Hu et al. 2024, Section 4): its smaller
#: gamma_n leaves less bias in x_n and theta_n (see REGIMES), which shows in the last iterate's
#: error when many agents hold very different data, but within 1e6 steps its iterates'
#: covariance falls only like 1/alpha
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
