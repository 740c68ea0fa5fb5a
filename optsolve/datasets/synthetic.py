"""Synthetic problems with known structure, reproducible through ``random_state``."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._validation import check_positive_int, check_scalar_in_range

__all__ = ["make_incoherent_low_rank", "make_sparse_classification", "make_sparse_regression"]


#: above this many cells, positions are drawn in O(nnz) memory: ``scipy.sparse.random`` draws
#: them as a permutation of all n_samples * n_features cells (30 GiB for 20000 x 200000)
PERMUTATION_MAX_CELLS = 1 << 24


def _sparse_design(n_samples, n_features, density, column_scale, rng):
    total = n_samples * n_features
    if total <= PERMUTATION_MAX_CELLS:
        X = sp.random(
            n_samples, n_features, density=density, format="csc", random_state=rng,
            data_rvs=rng.standard_normal,
        )
    else:
        pos = _distinct_cells(total, round(density * total), rng)
        X = sp.csc_matrix((rng.standard_normal(pos.shape[0]),
                           (pos // n_features, pos % n_features)), shape=(n_samples, n_features))
    if column_scale:
        # log-normal column scales spread the coordinate Lipschitz constants over orders of
        # magnitude, the setting where Lipschitz-aware greedy rules differ from plain ones
        scales = np.exp(column_scale * rng.standard_normal(n_features))
        X = X @ sp.diags(scales)
    return sp.csr_matrix(X)


def _distinct_cells(total: int, k: int, rng) -> np.ndarray:
    """``k`` distinct cell ids of ``range(total)``, uniformly at random, in O(k) memory
    (draws with replacement until ``k`` are distinct; ``k <= total`` by the density check)."""
    if 2 * k > total:  # dense: a permutation costs at most twice the matrix
        return np.sort(rng.choice(total, k, replace=False))
    cells = np.unique(rng.randint(0, total, size=k + k // 8 + 16, dtype=np.int64))
    while cells.shape[0] < k:
        more = rng.randint(0, total, size=k - cells.shape[0] + 16, dtype=np.int64)
        cells = np.unique(np.concatenate([cells, more]))
    if cells.shape[0] > k:
        cells = np.sort(cells[rng.choice(cells.shape[0], k, replace=False)])
    return cells


def make_sparse_regression(
    n_samples: int = 1000,
    n_features: int = 10000,
    *,
    density: float = 0.01,
    n_informative: int = 100,
    noise: float = 0.1,
    column_scale: float = 0.0,
    random_state=None,
):
    """Sparse Gaussian design and a sparse ground-truth linear model.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of ``X``.
    density : float in (0, 1]
        Fraction of non-zero entries of ``X`` (standard normal values).
    n_informative : int
        Number of non-zero coefficients of the true ``coef`` (standard normal values).
    noise : float
        Standard deviation of the Gaussian noise added to ``y``.
    column_scale : float
        When > 0, columns are multiplied by ``exp(column_scale * N(0, 1))`` (the "scaled
        columns" of Nutini et al.'s least-squares experiment).
    random_state : int, RandomState or None

    Returns
    -------
    X : csr_matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    coef : ndarray of shape (n_features,)

    Examples
    --------
    >>> X, y, coef = make_sparse_regression(50, 200, density=0.1, n_informative=5,
    ...                                     random_state=0)
    >>> X.shape, int((coef != 0).sum())
    ((50, 200), 5)
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_features = check_positive_int(n_features, "n_features")
    check_scalar_in_range(density, "density", low=0, high=1, include_low=False)
    n_informative = check_positive_int(n_informative, "n_informative", allow_zero=True)
    if n_informative > n_features:
        raise ValueError(f"n_informative={n_informative} exceeds n_features={n_features}")
    check_scalar_in_range(noise, "noise", low=0)
    rng = check_random_state(random_state)
    X = _sparse_design(n_samples, n_features, density, column_scale, rng)
    coef = np.zeros(n_features)
    support = rng.choice(n_features, n_informative, replace=False)
    coef[support] = rng.standard_normal(n_informative)
    y = X @ coef + noise * rng.standard_normal(n_samples)
    return X, y, coef


def make_sparse_classification(
    n_samples: int = 1000,
    n_features: int = 10000,
    *,
    n_classes: int = 2,
    density: float = 0.01,
    n_informative: int = 100,
    flip_y: float = 0.1,
    column_scale: float = 0.0,
    random_state=None,
):
    """Sparse design with labels from a sparse linear model, a fraction of them flipped.

    Binary labels are ``sign(X @ coef)`` in {-1, +1}; with ``n_classes > 2`` they are
    ``argmax(X @ W)`` in {0..n_classes-1} for a sparse ``W`` of shape (n_features, n_classes).
    A fraction ``flip_y`` of labels is replaced by a different random class (10% in the
    logistic experiment of Nutini et al.).

    Returns
    -------
    X : csr_matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    coef : ndarray of shape (n_features,) or (n_features, n_classes)

    Examples
    --------
    >>> X, y, _ = make_sparse_classification(40, 100, density=0.2, n_informative=5,
    ...                                      random_state=0)
    >>> sorted(set(y.tolist()))
    [-1.0, 1.0]
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_features = check_positive_int(n_features, "n_features")
    n_classes = check_positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    check_scalar_in_range(density, "density", low=0, high=1, include_low=False)
    check_scalar_in_range(flip_y, "flip_y", low=0, high=1)
    if n_informative > n_features:
        raise ValueError(f"n_informative={n_informative} exceeds n_features={n_features}")
    rng = check_random_state(random_state)
    X = _sparse_design(n_samples, n_features, density, column_scale, rng)
    k = 1 if n_classes == 2 else n_classes
    coef = np.zeros((n_features, k))
    support = rng.choice(n_features, n_informative, replace=False)
    coef[support] = rng.standard_normal((n_informative, k))
    scores = X @ coef
    if n_classes == 2:
        coef = coef[:, 0]
        y = np.where(scores[:, 0] >= 0, 1.0, -1.0)
        flip = rng.random_sample(n_samples) < flip_y
        y[flip] = -y[flip]
    else:
        y = np.argmax(scores, axis=1).astype(np.float64)
        flip = np.flatnonzero(rng.random_sample(n_samples) < flip_y)
        shift = rng.randint(1, n_classes, size=flip.size)
        y[flip] = (y[flip] + shift) % n_classes
    return X, y, coef


def make_incoherent_low_rank(
    m: int,
    n: int,
    rank: int,
    p: float,
    *,
    noise: float = 0.0,
    condition_number: float = 1.0,
    random_state=None,
):
    """Observed entries of a random incoherent rank-``rank`` matrix ``M = U @ V.T``.

    Factors have orthonormal Gaussian-random column spaces (incoherent with high probability)
    and singular values spread geometrically from 1 to ``1/condition_number``, scaled so that
    entries are O(1). Each entry is observed independently with probability ``p`` (Bernoulli
    model of the completion literature); ``M`` itself is never formed.

    Parameters
    ----------
    m, n : int
        Matrix shape.
    rank : int
        True rank, ``rank < min(m, n)``.
    p : float in (0, 1]
        Sampling probability, ``E|Omega| = p m n``.
    noise : float
        Standard deviation of Gaussian noise added to the observed values.
    condition_number : float >= 1
    random_state : int, RandomState or None

    Returns
    -------
    X : csr_matrix of shape (m, n)
        The observed entries (explicit values; zero values are kept as stored entries).
    U : ndarray of shape (m, rank)
    V : ndarray of shape (n, rank)
        Ground truth: ``M = U @ V.T``.

    Examples
    --------
    >>> X, U, V = make_incoherent_low_rank(100, 80, 3, 0.3, random_state=0)
    >>> X.shape, U.shape, V.shape
    ((100, 80), (100, 3), (80, 3))
    """
    m = check_positive_int(m, "m")
    n = check_positive_int(n, "n")
    rank = check_positive_int(rank, "rank")
    if rank >= min(m, n):
        raise ValueError(f"rank={rank} must be smaller than min(m, n)={min(m, n)}")
    check_scalar_in_range(p, "p", low=0, high=1, include_low=False)
    check_scalar_in_range(noise, "noise", low=0)
    check_scalar_in_range(condition_number, "condition_number", low=1)
    rng = check_random_state(random_state)
    gen = np.random.default_rng(rng.randint(np.iinfo(np.int32).max))
    Qu, _ = np.linalg.qr(gen.standard_normal((m, rank)))
    Qv, _ = np.linalg.qr(gen.standard_normal((n, rank)))
    sigma = np.geomspace(1.0, 1.0 / condition_number, rank) * np.sqrt(m * n / rank)
    U = Qu * np.sqrt(sigma)
    V = Qv * np.sqrt(sigma)
    total = m * n
    k = int(gen.binomial(total, p))
    lin = np.sort(gen.choice(total, size=k, replace=False)) if p < 1 else np.arange(total)
    rows, cols = np.divmod(lin, n)
    vals = np.einsum("ij,ij->i", U[rows], V[cols])
    if noise:
        vals = vals + noise * gen.standard_normal(vals.shape[0])
    X = sp.csr_matrix((vals, (rows, cols)), shape=(m, n))
    return X, U, V
