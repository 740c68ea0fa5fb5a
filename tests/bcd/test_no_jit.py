"""The public API runs with numba disabled (NUMBA_DISABLE_JIT=1), in a subprocess."""

import os
import subprocess
import sys

SCRIPT = r"""
import warnings
import numpy as np
from optsolve.bcd import (L1, L2, GreedyBCDClassifier, GreedyBCDRegressor, LeastSquares,
                          Logistic, Multinomial, minimize_bcd)
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.standard_normal((30, 6)); y = X[:, 0] - X[:, 1]
r = minimize_bcd(LeastSquares(), L1(0.05), X=X, y=y, tol=1e-8)
assert r.success, r
r = minimize_bcd(LeastSquares(), L1(0.05), X=X, y=y, selection="gsq", update="newton",
                 block_size=2, tol=1e-6, max_iter=500)
assert r.success, r
yl = np.sign(y)
assert GreedyBCDClassifier(alpha=0.01).fit(X, yl).score(X, yl) > 0.8
assert GreedyBCDRegressor(alpha=0.01).fit(X, y).score(X, y) > 0.9
r = minimize_bcd(Multinomial(3), L2(0.1), X=X, y=(X[:, 0] > 0) + (X[:, 1] > 0), tol=1e-5)
assert r.success, r
print("ok")
"""


def test_public_api_without_jit():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ok" in out.stdout
