"""Self-repellent random walks (SRRW) and token SGD driven by them.

Doshi, Hu & Eun (ICML 2023) define the SRRW, a nonlinear Markov chain that avoids the nodes
it visited too often, and prove that the covariance of its visit frequencies shrinks about
``1/alpha`` times; Hu, Doshi & Eun (ICLR 2024) drive distributed stochastic optimization by
such a token (SA-SRRW), whose iterates' covariance shrinks about ``1/alpha^2`` times.

Public names are imported lazily from their modules; importing compiles no numba kernel.
``token_sgd`` is bound eagerly because its module has the same name: a lazy binding would be
replaced by the submodule as soon as another module imports ``.token_sgd``.
"""

from .._lazy import attach
from .token_sgd import token_sgd as token_sgd

_LAZY = {
    "srrw_walk": ".walks",
    "random_walk": ".walks",
    "base_chain": ".chains",
    "asymptotic_covariance": ".covariance",
    "theta_asymptotic_covariance": ".covariance",
    "TokenSGDRegressor": ".estimators",
    "TokenSGDClassifier": ".estimators",
    "partition_data": "..problems.partitioned",
    "DecentralizedProblem": "..problems.partitioned",
    "run_mpi": ".mpi",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, eager=("token_sgd",))
