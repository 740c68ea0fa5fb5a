import numpy as np
import pytest

from optsolve.graphs import make_graph
from optsolve.randomwalk import DecentralizedProblem, partition_data


@pytest.fixture(scope="session")
def small_graph():
    """A connected non-regular graph of 8 nodes (hubs and leaves: MH holds at some nodes)."""
    return make_graph("power_law", 8, random_state=0)


@pytest.fixture(scope="session")
def ridge_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(120)
    return DecentralizedProblem.ridge(partition_data(X, y, 8, random_state=0), alpha=0.1)
