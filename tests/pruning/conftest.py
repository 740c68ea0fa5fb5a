"""Shared fixtures of the pruning tests: small trained networks (module-scoped, cheap)."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="session")
def digits_mlp(digits):
    X, y = digits
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = MLPClassifier(hidden_layer_sizes=(32, 32), max_iter=150, random_state=0)
        net.fit(X[:1000], y[:1000])
    return net


def brute_force(costs, distortions, budget):
    """Least total distortion over all level combinations within the budget."""
    import itertools

    best = np.inf
    L, K = costs.shape
    for combo in itertools.product(range(K), repeat=L):
        c = sum(costs[l, j] for l, j in enumerate(combo))
        if c <= budget:
            best = min(best, sum(distortions[l, j] for l, j in enumerate(combo)))
    return best


@pytest.fixture
def brute():
    return brute_force
