"""The Newton working set when the ε-active set holds more rows than can be independent.

The Newton step of :mod:`._active_step` holds every row of the ε-active set ``A`` as an
equality. Under LICQ (the paper's assumption) ``A`` has at most ``n`` rows near a solution;
far from it, and on the discretized semi-infinite and data-fitting problems of CUTEst (SIPOW,
OET, PT, EXPFIT: 2 to 5 variables, 100 to 2000 nearly parallel constraints), ``A`` holds every
violated row, hundreds of them. ``m_E + |A| > n`` rows cannot be independent: the Newton matrix
is singular, its equations inconsistent (no step satisfies hundreds of linearized constraints
in two unknowns), the sketched solve never reaches its accuracy and falls back to least
squares on a 2000 x 2000 matrix, and the least-squares step spreads the multipliers over the
nearly parallel rows; the penalty then ran away (``μ`` 1e10) and the runs ended at the time
limit.

An active-set QP method settles what to hold at such a degenerate point by solving the QP of
the linearization over the candidate rows (Nocedal & Wright, Sec. 16.5): its active set is at
most ``n`` linearly independent rows, with nonnegative multipliers, and the step satisfies every
other linearized row of ``A``. Here that QP::

    min ½ dᵀ H d + ∇fᵀ d   s.t.   c_E + G_E d = 0,   g_i + ∇g_iᵀ d <= 0  (i ∈ A)

(``H`` the Hessian of the Lagrangian shifted to be positive definite) is solved by the dual
active-set method of Goldfarb & Idnani (Math. Program. 27, 1983), which starts from the
unconstrained minimizer, adds the most violated row, and drops rows (a partial step in the
dual) whenever the new row depends on the held ones, so that its working set is linearly
independent at every step: exactly the choice a degenerate vertex needs. Its active set is the
working set of the Newton step; the Newton step itself, the merit and the line search are
unchanged (a row of ``A`` left out gets ``Δy_i = −y_i``, as an inactive row). The selection
runs only where it is needed (:func:`degenerate_rows`): ``m_E + |A| > n``, or rows so nearly
dependent that the Newton step's multipliers are meaningless (EXPFITC: five violated rows with
relative singular values down to 4e-11, multipliers ±1e10, after which 247 rows were
violated), and for ``n <= WORKING_SET_MAX_N`` (a dense ``O(n³)`` factorization per added
row).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

__all__ = ["WORKING_SET_MAX_N", "degenerate_rows", "qp_working_set"]

#: largest n for which the working set is chosen by the dense QP (one n x n Cholesky and a QR
#: of the held rows per added row)
WORKING_SET_MAX_N = 100
#: curvature floor of the QP's Hessian: B + δI with λ_min(B + δI) = QP_CURVATURE max(1, ‖B‖)
#: (a linear objective, B = 0, makes the QP the LP of the linearization with a tiny proximal
#: term: its active set is the vertex the LP would choose)
QP_CURVATURE = 1e-8
#: a row is linearly dependent on the held ones when the part of its (H-scaled) gradient
#: outside their span is at most DEPENDENCE_RTOL times the whole (the multipliers of nearly
#: dependent rows grow like its inverse: at 4e-11 on EXPFITC they reached ±1e10 with
#: alternating signs)
DEPENDENCE_RTOL = 1e-8
#: a linearized row counts as violated above VIOLATION_RTOL (1 + |g_i| + ‖∇g_i‖ ‖d‖)
VIOLATION_RTOL = 1e-10
#: Goldfarb–Idnani iterations (row additions and drops) per variable and candidate row
MAX_ITER_FACTOR = 3


def _dense(M) -> np.ndarray:
    return M.toarray() if sp.issparse(M) else np.asarray(M, dtype=np.float64)


def degenerate_rows(GE, GI, active: np.ndarray) -> bool:
    """Whether the rows of the equalities and of ``active`` cannot all be held: more rows than
    variables, or (normalized) rows whose smallest singular value is at most
    ``DEPENDENCE_RTOL`` times the largest (nearly dependent: the Newton matrix is then nearly
    singular and its multipliers huge). False without an inequality row.

    Examples
    --------
    >>> import numpy as np
    >>> GI = np.array([[1.0, 0.0], [1.0, 1e-12], [0.0, 1.0]])
    >>> degenerate_rows(np.zeros((0, 2)), GI, np.array([True, True, False]))
    True
    >>> degenerate_rows(np.zeros((0, 2)), GI, np.array([True, False, True]))
    False
    """
    n = GI.shape[1]
    idx = np.flatnonzero(active)
    k = GE.shape[0] + idx.size
    if not idx.size:
        return False
    if k > n:
        return True
    if k < 2:
        return False
    rows = np.vstack([_dense(GE), _dense(GI[idx])])
    norms = np.linalg.norm(rows, axis=1)
    if not np.all(np.isfinite(rows)) or np.any(norms == 0.0):
        return False
    s = np.linalg.svd(rows / norms[:, None], compute_uv=False)
    return bool(s[-1] <= DEPENDENCE_RTOL * s[0])


def qp_working_set(B, grad_f: np.ndarray, GE, cE: np.ndarray, GI, gI: np.ndarray,
                   active: np.ndarray) -> np.ndarray | None:
    """The rows of ``active`` (a mask over the inequalities ``g <= 0``) held at the solution of
    the QP of the module docstring, or None when the QP could not be set up (non-finite data)
    or has no feasible point (inconsistent linearized rows).

    Examples
    --------
    Three rows through the vertex (1, 1) of ``d0 <= 1, d1 <= 1, d0 + 2 d1 <= 3``, where the
    QP's solution lies: only two of them can be held.

    >>> import numpy as np
    >>> GI = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 2.0]])
    >>> w = qp_working_set(np.eye(2), np.array([-3.0, -3.0]), np.zeros((0, 2)), np.zeros(0),
    ...                    GI, np.array([-1.0, -1.0, -3.0]), np.ones(3, bool))
    >>> w.tolist()
    [True, False, True]
    """
    n = grad_f.size
    idx = np.flatnonzero(active)
    A = np.vstack([_dense(GE), _dense(GI[idx]) if idx.size else np.zeros((0, n))])
    b = -np.concatenate([cE, gI[idx]])  # rows: A d <= b (the first m_E: A d = b)
    m_e = cE.size
    Bd = _dense(B)
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b)) and np.all(np.isfinite(Bd))
            and np.all(np.isfinite(grad_f))):
        return None
    Bd = 0.5 * (Bd + Bd.T)
    lam = np.linalg.eigvalsh(Bd)
    floor = QP_CURVATURE * max(1.0, float(np.max(np.abs(lam))))
    H = Bd + max(0.0, floor - float(lam[0])) * np.eye(n)
    try:
        L = scipy.linalg.cholesky(H, lower=True)
    except np.linalg.LinAlgError:
        return None
    Linv = scipy.linalg.solve_triangular(L, np.eye(n), lower=True)
    d = -scipy.linalg.cho_solve((L, True), grad_f)
    held: list[int] = []  # rows of A, in order of addition
    sign: dict[int, float] = {}  # equalities are held as ±(a d - b) <= 0
    u = np.zeros(0)
    row_norm = np.linalg.norm(A, axis=1)
    for _ in range(MAX_ITER_FACTOR * (n + A.shape[0])):
        s = A @ d - b
        tol = VIOLATION_RTOL * (1.0 + np.abs(b) + row_norm * float(np.linalg.norm(d)))
        cand = np.abs(s) > tol
        cand[m_e:] = s[m_e:] > tol[m_e:]
        cand[held] = False
        if not np.any(cand):
            break
        eq = np.flatnonzero(cand[:m_e])
        p = int(eq[0]) if eq.size else m_e + int(np.argmax(np.where(cand[m_e:], s[m_e:],
                                                                   -np.inf)))
        sp_ = 1.0 if s[p] > 0 else -1.0
        ap, sp_val = sp_ * A[p], abs(float(s[p]))
        up = 0.0
        while True:
            q = len(held)
            N = (A[held] * np.array([sign.get(j, 1.0) for j in held])[:, None]).T \
                if q else np.zeros((n, 0))
            Q, R = scipy.linalg.qr(Linv @ N, mode="full") if q else (np.eye(n), None)
            v = Q.T @ (Linv @ ap)
            d1, d2 = v[:q], v[q:]
            z = Linv.T @ (Q[:, q:] @ d2)  # d(t) = d − t z
            r = scipy.linalg.solve_triangular(R[:q, :q], d1) if q else np.zeros(0)
            # partial (dual) step: the first held inequality whose multiplier reaches 0
            t1, drop = np.inf, -1
            for k, j in enumerate(held):
                if j >= m_e and r[k] > 0 and u[k] / r[k] < t1:
                    t1, drop = u[k] / r[k], k
            dependent = float(np.linalg.norm(d2)) <= DEPENDENCE_RTOL * max(
                float(np.linalg.norm(v)), 1e-300)
            t2 = np.inf if dependent else sp_val / float(ap @ z)
            if not np.isfinite(min(t1, t2)):
                # the linearization over A is inconsistent (LOOTSMA in S2MPJ: two violated rows
                # with opposite gradients): the QP has no solution to take the working set
                # from, and the caller keeps A
                return None
            t = min(t1, t2)
            if not dependent:
                d = d - t * z
                sp_val -= t * float(ap @ z)
            u = u - t * r
            up += t
            if t == t2:
                held.append(p)
                if p < m_e:
                    sign[p] = sp_
                u = np.append(u, up)
                break
            del held[drop]
            u = np.delete(u, drop)
    keep = np.zeros_like(active)
    rows = np.array([j - m_e for j in held if j >= m_e], dtype=np.intp)
    keep[idx[rows]] = True
    return keep
