"""Shared helpers of the BCD tests: small random problems and numpy objective references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp


def make_regression(n=60, p=25, density=None, seed=0, scale_cols=False):
    rng = np.random.default_rng(seed)
    if density is None:
        X = rng.standard_normal((n, p))
    else:
        X = sp.random(n, p, density=density, random_state=seed, format="csr",
                      data_rvs=rng.standard_normal)
    if scale_cols:
        X = X @ np.diag(np.exp(rng.standard_normal(p))) if density is None else (
            X @ sp.diags(np.exp(rng.standard_normal(p))))
    coef = np.zeros(p)
    coef[: max(1, p // 5)] = rng.standard_normal(max(1, p // 5)) * 2
    y = np.asarray(X @ coef).ravel() + 0.1 * rng.standard_normal(n)
    return X, y


def alpha_max_ls(X, y):
    return float(np.max(np.abs(X.T @ y))) / X.shape[0]


def ls_objective(X, y, w, alpha=0.0, kind="l1", b=0.0):
    r = y - X @ w - b
    pen = alpha * np.abs(w).sum() if kind == "l1" else 0.5 * alpha * w @ w
    return 0.5 * r @ r / X.shape[0] + pen


def logistic_objective(X, y, w, alpha=0.0, kind="l1", b=0.0):
    z = X @ w + b
    pen = alpha * np.abs(w).sum() if kind == "l1" else 0.5 * alpha * w @ w
    return np.mean(np.logaddexp(0.0, -y * z)) + pen


def rel_err(a, b):
    diff = np.linalg.norm(np.ravel(a) - np.ravel(b))
    return float(diff / max(np.linalg.norm(np.ravel(b)), 1e-12))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def helpers():
    """The helper functions above, for test modules (they cannot import this file)."""
    from types import SimpleNamespace

    return SimpleNamespace(make_regression=make_regression, alpha_max_ls=alpha_max_ls,
                           ls_objective=ls_objective, logistic_objective=logistic_objective,
                           rel_err=rel_err)
