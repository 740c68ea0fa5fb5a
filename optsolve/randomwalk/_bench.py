"""Benchmark rows of the random-walk family for ``optsolve bench``, and the helpers the
``bench/randomwalk_*.py`` scripts share with them.

Suite ``randomwalk``:

* *sampling*: wall time for the walk's empirical measure ``visits / n`` to come within total
  variation ``SAMPLING_TVD_TOL`` of its target μ, for every one of ``SAMPLING_SEEDS`` seeds,
  on a 1000-node power-law and a 1000-node community graph. SRRW (α = 10, 20) against its own
  base chain (the peer: the Metropolis–Hastings walk to the uniform target, or the simple random
  walk to the degree law). Each seed's step count is found once, untimed, from a long path; the
  timed call then draws exactly that many steps, so the time is the cost of a sample of that
  accuracy (walk cost per step included).
* *token SGD*: wall time for the token's iterate to come within relative error
  ``TOKEN_SGD_TOL`` of the centralized optimum θ*, for each of ``TOKEN_SGD_SEEDS`` seeds
  (ℓ2-logistic regression on ijcnn1 over 100 agents of a power-law graph, each holding a block
  of the label-sorted samples, or a synthetic problem when the data file is absent), with the
  same steps β_n = 20 (n+1)^-0.9 for every walk; SRRW against the Metropolis–Hastings token
  (the peer, same target), the non-backtracking and simple random walks (importance-reweighted)
  and i.i.d. agent sampling.

``quick`` gets one sampling row on the karate-club graph.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ..bench.registry import BenchProblem, SolveOutcome, SolverSpec

# suite sizes, chosen so that the whole suite runs in about two minutes on one core
SAMPLING_TVD_TOL = 0.1
SAMPLING_SEEDS = 10
SAMPLING_MAX_STEPS = 200_000
TOKEN_SGD_TOL = 0.05
TOKEN_SGD_SEEDS = 3
TOKEN_SGD_MAX_STEPS = 200_000
TOKEN_SGD_N_AGENTS = 100
TOKEN_SGD_PARTITION = "sorted"  # agents hold contiguous label-sorted blocks: their data differ
TOKEN_SGD_CHECK_EVERY = 500  # steps between two checks of the stopping test
LOGISTIC_L2 = 1e-2  # ℓ2 weight of the token-SGD logistic problem (α/2 ||w||² in F)

__all__ = [
    "bench_graph",
    "ijcnn1_problem",
    "real_graphs",
    "register",
    "sampling_errors",
    "target_measure",
    "tvd_along_path",
]


def bench_graph(kind: str, n: int = 1000, *, random_state=0) -> sp.csr_matrix:
    """A connected generated graph: ``"power_law"`` (Barabási–Albert, m = 3) or
    ``"community"`` (stochastic block model: 4 blocks, p_in = 0.04, p_out = 0.001)."""
    params = {"power_law": {"m": 3}, "community": {"n_blocks": 4, "p_in": 0.04, "p_out": 0.001}}
    if kind not in params:
        raise ValueError(f"kind must be 'power_law' or 'community', got {kind!r}")
    from ..graphs import make_graph

    return sp.csr_matrix(make_graph(kind, n, random_state=random_state, **params[kind]),
                         dtype=np.float64)


def _unweighted(G) -> sp.csr_matrix:
    import networkx as nx

    A = sp.csr_matrix(nx.to_scipy_sparse_array(G, weight=None, dtype=np.float64))
    A.setdiag(0)
    A.eliminate_zeros()
    return A


def real_graphs() -> dict[str, sp.csr_matrix]:
    """The social graphs networkx ships, unweighted (edge weights such as the co-appearance
    counts of Les Misérables are dropped: the walks of the papers run on simple graphs)."""
    import networkx as nx

    return {
        "karate_club": _unweighted(nx.karate_club_graph()),
        "florentine_families": _unweighted(nx.florentine_families_graph()),
        "davis_southern_women": _unweighted(nx.davis_southern_women_graph()),
        "les_miserables": _unweighted(nx.les_miserables_graph()),
    }


def target_measure(graph: sp.csr_matrix, base: str) -> np.ndarray:
    """Stationary law μ of the base chain: uniform for ``'mh'``, degree-proportional for
    ``'srw'`` (the law the SRRW's empirical measure converges to)."""
    if base == "mh":
        return np.full(graph.shape[0], 1.0 / graph.shape[0])
    if base == "srw":
        d = np.asarray(graph.sum(axis=1)).ravel()
        return d / d.sum()
    raise ValueError(f"base must be 'mh' or 'srw', got {base!r}")


def tvd_along_path(path: np.ndarray, mu: np.ndarray, checkpoints) -> np.ndarray:
    """Total variation ½‖x_t − μ‖₁ of the empirical measure of ``path[:t]`` at each
    checkpoint ``t`` (increasing), in one pass over the path."""
    counts = np.zeros(mu.size)
    out = np.empty(len(checkpoints))
    start = 0
    for k, t in enumerate(checkpoints):
        counts += np.bincount(path[start:t], minlength=mu.size)
        start = t
        out[k] = 0.5 * np.abs(counts / t - mu).sum()
    return out


def sampling_errors(graph, alpha: float, base: str, n_steps: int, seeds,
                    checkpoints=None) -> dict:
    """Monte-Carlo sampling error of the SRRW empirical measure x = visits / n over ``seeds``.

    Returns
    -------
    dict
        ``n_trace_cov``: n · trace of the covariance of x across seeds (→ trace V_X(α));
        ``n_mse``: n · mean ‖x − μ‖² (bias included); ``tvd``: mean ½‖x − μ‖₁;
        ``tvd_q10`` / ``tvd_q90``: its 10 % / 90 % quantiles across seeds; ``seconds``: walk
        time summed over seeds; with ``checkpoints``, ``tvd_curves`` (seeds × checkpoints),
        the TVD of the running empirical measure along each path.
    """
    import time

    from . import base_chain, srrw_walk

    chain = base_chain(graph, base)  # validated once for all the seeds
    mu = target_measure(graph, base)
    X = np.empty((len(seeds), mu.size))
    curves = None if checkpoints is None else np.empty((len(seeds), len(checkpoints)))
    seconds = 0.0
    for k, s in enumerate(seeds):
        t0 = time.perf_counter()
        visits, path = srrw_walk(chain, alpha, n_steps, base=base, random_state=s,
                                 return_path=curves is not None)
        seconds += time.perf_counter() - t0
        X[k] = visits / visits.sum()
        if curves is not None:
            curves[k] = tvd_along_path(np.asarray(path[1:]), mu, checkpoints)  # X_1 .. X_n
    dev = X - X.mean(axis=0)
    tvd = 0.5 * np.abs(X - mu).sum(axis=1)
    n = float(n_steps)
    out = {
        "n_trace_cov": n * float((dev**2).sum() / max(len(seeds) - 1, 1)),
        "n_mse": n * float(((X - mu) ** 2).sum(axis=1).mean()),
        "tvd": float(tvd.mean()),
        "tvd_q10": float(np.quantile(tvd, 0.1)),
        "tvd_q90": float(np.quantile(tvd, 0.9)),
        "seconds": seconds,
    }
    if curves is not None:
        out["tvd_curves"] = curves
    return out


def ijcnn1_problem(n_agents: int = TOKEN_SGD_N_AGENTS, *, l2: float = LOGISTIC_L2,
                   how: str = TOKEN_SGD_PARTITION, synthetic_if_missing: bool = True,
                   random_state=0):
    """ℓ2-logistic regression on ijcnn1 split over ``n_agents`` (``partition_data(how=...)``);
    returns ``(problem, name)``.

    Without the data file (``$OPTSOLVE_DATA/libsvm/ijcnn1.bz2``) a synthetic problem of the
    same shape family (20 000 samples, 22 features, scikit-learn's ``make_classification``)
    stands in when ``synthetic_if_missing``.
    """
    from . import DecentralizedProblem, partition_data

    try:
        from ..datasets import load_libsvm

        X, y = load_libsvm("ijcnn1", download_if_missing=False)
        # 22 columns, 59 % of them stored: the dense local gradient runs ~1.8x faster per
        # token step than the CSR one and agrees with it to rounding (1e-16)
        X = X.toarray()
        name = "ijcnn1"
    except (FileNotFoundError, OSError):
        if not synthetic_if_missing:
            raise
        from sklearn.datasets import make_classification

        X, y = make_classification(20_000, 22, n_informative=10, random_state=random_state)
        name = "synthetic_20000x22"
    parts = partition_data(X, y, n_agents, how=how, random_state=random_state)
    return DecentralizedProblem.logistic(parts, l2), name


# ----------------------------------------------------------------------------- suite rows


def _sampling_problem(graph_name: str, A, base: str, tol=SAMPLING_TVD_TOL,
                      seeds=SAMPLING_SEEDS, max_steps=SAMPLING_MAX_STEPS) -> BenchProblem:
    return BenchProblem(
        name=f"randomwalk/sampling/{graph_name}/{base}",
        kind=f"graph_sampling_{base}",
        data={"graph": A, "base": base, "seeds": tuple(range(seeds)), "max_steps": max_steps},
        metric="tvd",
        tol=tol,
        peer=f"{base}_walk",
        meta={"n_nodes": A.shape[0], "n_edges": A.nnz // 2},
    )


def sampling_problems():
    for kind in ("power_law", "community"):
        A = bench_graph(kind, 1000, random_state=0)
        for base in ("mh", "srw"):
            yield _sampling_problem(f"{kind}_1000", A, base)


def quick_problems():
    # TVD 0.03 on 34 nodes: the base chain needs ~4e4 steps per seed, enough to time
    yield _sampling_problem("karate_club", real_graphs()["karate_club"], "mh", tol=0.03,
                            seeds=10, max_steps=100_000)


def _steps_to_tol(path: np.ndarray, mu: np.ndarray, tol: float) -> int:
    """First checkpoint after which the running TVD stays ≤ tol (checkpoints every N/4 steps);
    0 when it never settles below tol within the path."""
    step = max(mu.size // 4, 1)
    cps = np.arange(step, path.size + 1, step)
    tvd = tvd_along_path(path, mu, cps)
    above = np.flatnonzero(tvd > tol)
    if above.size == 0:
        return int(cps[0])
    if above[-1] == cps.size - 1:
        return 0
    return int(cps[above[-1] + 1])


def _sampler(alpha: float | None):
    """SRRW of strength ``alpha`` on the row's base chain; ``None``: the base chain itself
    (``random_walk``, the peer)."""

    def prepare(problem):
        from . import base_chain, random_walk, srrw_walk

        d = problem.data
        base = d["base"]
        A = base_chain(d["graph"], base)
        mu = target_measure(d["graph"], base)

        def walk(n, seed, return_path=False):
            if alpha is None:
                return random_walk(A, n, base, random_state=seed, return_path=return_path)
            return srrw_walk(A, alpha, n, base=base, random_state=seed,
                             return_path=return_path)

        steps = []
        for s in d["seeds"]:  # untimed: how many steps each seed needs
            _, path = walk(d["max_steps"], s, return_path=True)
            steps.append(_steps_to_tol(path[1:], mu, problem.tol))

        def solve():
            if min(steps) == 0:
                return SolveOutcome(math.inf, n_iter=d["max_steps"], success=False)
            worst = 0.0
            for s, n in zip(d["seeds"], steps, strict=True):
                visits, _ = walk(n, s)
                worst = max(worst, 0.5 * float(np.abs(visits / visits.sum() - mu).sum()))
            return SolveOutcome(worst, n_iter=int(np.mean(steps)))

        return solve

    return prepare


def _token_problems(tol=TOKEN_SGD_TOL, max_steps=TOKEN_SGD_MAX_STEPS):
    def make():
        from . import token_sgd

        problem, name = ijcnn1_problem()
        A = bench_graph("power_law", problem.n_nodes, random_state=0)
        theta = problem.solution()
        # one scale of beta_n = step_size (n+1)^-0.9 for every walk: the SRRW's "auto" (the
        # largest first step that keeps every local step nonexpansive under uniform weights;
        # 20.1 on the sorted ijcnn1 split), with which the error is the walk's noise rather
        # than the initial bias after a few thousand steps. The SRW and NBRW tokens' own
        # "auto" is smaller (their leaves weigh 2|E|/d_i) and would slow them down.
        step_size = token_sgd(problem, A, n_steps=1, record_history=False).step_size
        yield BenchProblem(
            name=f"randomwalk/token_sgd/{name}/power_law_{problem.n_nodes}",
            kind="token_sgd",
            data={"problem": problem, "graph": A, "theta_star": theta, "max_steps": max_steps,
                  "step_size": step_size, "seeds": tuple(range(TOKEN_SGD_SEEDS))},
            metric="rel_error",
            tol=tol,
            peer="token[mh]",
            meta={"n_agents": problem.n_nodes},
        )

    return make


def _token(walk: str, alpha: float = 0.0):
    def prepare(problem):
        from . import token_sgd

        d = problem.data
        theta = d["theta_star"]
        scale = float(np.linalg.norm(theta))

        def stop(intermediate_result):
            if np.linalg.norm(intermediate_result.x - theta) <= problem.tol * scale:
                raise StopIteration

        def solve():
            errs, steps, fun = [], [], 0.0
            for seed in d.get("seeds", (0,)):
                res = token_sgd(d["problem"], d["graph"], walk=walk, alpha=alpha,
                                n_steps=d["max_steps"], step_size=d.get("step_size", "auto"),
                                random_state=seed, callback=stop,
                                history_every=TOKEN_SGD_CHECK_EVERY)
                errs.append(float(np.linalg.norm(res.x - theta) / scale))
                steps.append(int(res.nit))
                fun = max(fun, float(res.fun))
            # the worst seed decides whether the row reached the tolerance
            return SolveOutcome(max(errs), fun, int(np.mean(steps)))

        return solve

    return prepare


def _solvers():
    out = []
    for base in ("mh", "srw"):
        kinds = (f"graph_sampling_{base}",)
        out.append(SolverSpec(f"{base}_walk", kinds, _sampler(None), is_peer=True))
        for a in (10.0, 20.0):
            out.append(SolverSpec(f"srrw[{base},alpha={a:g}]", kinds, _sampler(a)))
    for a in (10.0, 20.0):
        out.append(SolverSpec(f"token[srrw,alpha={a:g}]", ("token_sgd",), _token("srrw", a)))
    out.append(SolverSpec("token[mh]", ("token_sgd",), _token("mh"), is_peer=True))
    for walk in ("nbrw", "srw", "iid"):
        out.append(SolverSpec(f"token[{walk}]", ("token_sgd",), _token(walk)))
    return out


def register(registry) -> None:
    suite = registry.suite(
        "randomwalk",
        "self-repellent random walks: time for the empirical measure to reach TVD "
        f"{SAMPLING_TVD_TOL} (SRRW vs its base chain) and for token SGD to reach relative "
        f"error {TOKEN_SGD_TOL} (SRRW vs Metropolis–Hastings, NBRW, SRW, i.i.d.)",
        repeats=3,
    )
    suite.problem_sets += [sampling_problems, _token_problems()]
    suite.solvers += _solvers()
    quick = registry.suite("quick")
    quick.problem_sets.append(quick_problems)
    quick.solvers += [s for s in _solvers() if "graph_sampling_mh" in s.kinds]

