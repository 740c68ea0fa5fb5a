"""Benchmark rows of the decentralized family for ``optsolve bench``, and the helpers that
``bench/decentralized_comparison.py`` shares with them.

Suite ``decentralized``: ridge (synthetic) and logistic regression (a9a subset) split across
16 nodes of a cycle or a barbell graph, solved to ``max_i ‖∇F(x_i)‖ / ‖∇F(x⁰)‖ <= 1e-6`` by
DADAO (uniform and SDP rates) and its baselines in the event simulator, each row against ADOM+
(the multi-consensus state of the art the paper compares with). The runner's ``time`` is the
simulator's wall clock and its ``iters`` column is the number of **communications** (the
paper's cost); ``bench/decentralized_comparison.py`` reports gradients and communications to
the tolerance over the paper's whole grid. The condition number κ = L/μ of every problem is
fixed (``KAPPA``) by choosing α.
``quick`` gets one small cycle row (DADAO vs ADOM+).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..bench.registry import BenchProblem, SolveOutcome, SolverSpec

BENCH_TOL = 1e-6
#: condition number L/μ the suite's problems are built with (α chosen to match it); the
#: comparison script runs κ = 1e3
KAPPA = 1e2
#: simulated-time budget of one run: one unit is about one local gradient per node (DADAO)
#: or one gradient round (synchronous methods), so it is the same gradient budget for all;
#: 20x DADAO's bound √κ ln(1/ε) without constants. Unconverged rows say so.
SUITE_MAX_TIME = 20.0 * math.sqrt(KAPPA) * math.log(1.0 / BENCH_TOL)
#: simulated time between the central checks, the same for every contender (DADAO: about one
#: gradient per node per unit; synchronous methods: one round per unit)
MONITOR_INTERVAL = 5.0
#: DADAO first, then the methods its authors' experiments compare with (ADOM+, MSDA, continuized)
#: and the two classical non-accelerated references (EXTRA, DGD)
SOLVERS = ("dadao", "adom+", "msda", "continuized", "extra", "dgd")
PEER = "adom+"


def load_bench_data(name: str, n_samples: int | None = None, random_state: int = 0):
    """``(X, y)`` with labels ±1: a LIBSVM set (``$OPTSOLVE_DATA``, never downloaded) or
    ``'synthetic'`` (Gaussian features, a noisy linear rule). ``n_samples`` keeps a random
    subset of the rows."""
    rng = np.random.default_rng(random_state)
    if name == "synthetic":
        n = n_samples or 2000
        X = rng.standard_normal((n, 20)) / math.sqrt(20)
        w = rng.standard_normal(20)
        y = np.where(X @ w + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
        return X, y
    from ..datasets import load_libsvm

    X, y = load_libsvm(name, download_if_missing=False)
    y = np.where(y > 0, 1.0, -1.0)
    if n_samples is not None and n_samples < X.shape[0]:
        rows = np.sort(rng.choice(X.shape[0], n_samples, replace=False))
        X, y = X[rows], y[rows]
    return X, y


def bench_graph(kind: str, n: int):
    """The graph ``kind`` on ``n`` nodes; ``'grid'`` takes the most square ``rows x cols``."""
    from ..graphs import make_graph

    if kind == "grid":
        rows = max(r for r in range(1, math.isqrt(n) + 1) if n % r == 0)
        return make_graph("grid", n, rows=rows, cols=n // rows)
    return make_graph(kind, n, random_state=0)


def build_problem(X, y, loss: str, n_nodes: int, kappa: float, random_state: int = 0):
    """Partition ``(X, y)`` i.i.d. over ``n_nodes`` and choose α so that κ = L/μ = ``kappa``.

    Node ``i``'s constants are ``L_i = Ld_i + α/n`` and ``μ_i = α/n`` (``Ld_i`` the data
    term's), so ``κ = max L_i / min μ_i = 1 + n max Ld_i / α`` gives
    ``α = n max Ld_i / (κ − 1)``.
    """
    from . import DecentralizedProblem, partition_data

    parts = partition_data(X, y, n_nodes, how="iid", random_state=random_state)
    make = DecentralizedProblem.ridge if loss == "ridge" else DecentralizedProblem.logistic
    probe = make(parts, 1.0)
    data_L = float(np.max(np.asarray(probe.L_local) - np.asarray(probe.mu_local)))
    alpha = n_nodes * data_L / (kappa - 1.0)
    return make(parts, alpha)


def theory_counts(n: int, kappa: float, chi1: float, chi2: float, tol: float,
                  n_edges: int | None = None):
    """DADAO's complexity as the paper's abstract states it, without the constants:
    ``n √κ log(1/ε)`` gradients and ``n √(χ₁*χ₂*) √κ log(1/ε)`` communications.

    The paper's ``χ₁*, χ₂*`` belong to the gossip Laplacian normalized to the communication
    budget of n exchanges per unit of time (``Σ_e λ_e = n``). ``chi1, chi2`` here are those of
    the unit-weight Laplacian (:func:`optsolve.graphs.chi1`); rescaling the ``|E|`` unit rates
    to total ``n`` multiplies each χ by ``|E|/n``, so the bound reads
    ``|E| √(χ₁χ₂) √κ log(1/ε)`` in unit-weight terms (``n_edges`` given; without it the
    unit-weight χ's are used as if ``|E| = n``, which understates dense graphs by ``|E|/n``).
    It is also DADAO's total admissible rate ``Σ_e λ_e = |E| √(2χ₁χ₂)`` times its horizon
    ``√κ log(1/ε)``, up to the √2.
    """
    log = math.log(1.0 / tol)
    m = n if n_edges is None else n_edges
    return n * math.sqrt(kappa) * log, m * math.sqrt(chi1 * chi2) * math.sqrt(kappa) * log


def run_solver(problem, A, solver: str, *, tol: float = BENCH_TOL, max_events: int | None,
               max_time: float | None = None, max_wall: float | None = None,
               random_state: int = 0,
               **options: Any) -> tuple[dict[str, Any], Any]:
    """One bounded run: ``(record, result)``; the record says plainly when ``tol`` was missed.

    ``max_time`` bounds the simulated clock: about one local gradient per node per unit for
    DADAO and one gradient round per unit for the synchronous methods, so the same
    ``max_time`` is the same gradient budget for every method. ``max_wall`` (seconds) stops
    the run through the callback, recorded as unconverged.
    """
    from . import solve

    start = time.perf_counter()
    callback = None
    if max_wall is not None:
        def callback(_res):
            if time.perf_counter() - start > max_wall:
                raise StopIteration

    with warnings.catch_warnings():
        # an unconverged run is a row marked not reached, with the status message kept
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = solve(problem, A, solver=solver, tol=tol, max_events=max_events,
                    max_time=max_time, random_state=random_state, callback=callback,
                    **options)
    wall = time.perf_counter() - start
    rel = final_rel_grad(problem, res)
    reached = bool(res.success) and rel <= tol * (1 + 1e-9)
    record = {
        "solver": solver + ("[sdp]" if options.get("rates") == "sdp" else ""),
        "reached": reached,
        "status": int(res.status),
        "message": str(res.message),
        "rel_grad": rel,
        "n_gradients": int(res.n_gradients),
        "n_communications": int(res.n_communications),
        "sim_time": float(res.get("time", math.nan)),
        "wall_s": wall,
    }
    return record, res


def final_rel_grad(problem, res) -> float:
    """``max_i ‖∇F(x_i)‖ / ‖∇F(0)‖`` of the final iterates, recomputed independently."""
    X = np.asarray(res.x).reshape(problem.n_nodes, -1)
    g0 = np.linalg.norm(problem.grad(np.zeros(X.shape[1])))
    return float(max(np.linalg.norm(problem.grad(x)) for x in X) / g0)


# --- suite rows ---------------------------------------------------------------------------

def _problem(dataset: str, n_samples: int | None, loss: str, graph: str, n: int,
             max_time: float = SUITE_MAX_TIME) -> Callable[[], BenchProblem | None]:
    def make():
        try:
            X, y = load_bench_data(dataset, n_samples)
        except (FileNotFoundError, OSError):
            return None
        problem = build_problem(X, y, loss, n, KAPPA)
        A = bench_graph(graph, n)
        size = f"[{n_samples}]" if n_samples else ""
        return BenchProblem(
            name=f"decentralized/{dataset}{size}/{loss}/{graph}{n}",
            kind="decentralized",
            data=(problem, A, max_time),
            metric="rel_grad",
            tol=BENCH_TOL,
            peer=PEER,
            meta={"kappa": KAPPA, "alpha": float(problem.alpha)},
        )

    return make


def _collect(makers):
    def problems():
        for make in makers:
            p = make()
            if p is not None:
                yield p

    return problems


def decentralized_problems():
    makers = [_problem("synthetic", 2000, "ridge", g, 16) for g in ("cycle", "barbell")]
    makers += [_problem("a9a", 4000, "logistic", "cycle", 16)]
    return _collect(makers)()


def quick_problems():
    return _collect([_problem("synthetic", 1000, "ridge", "cycle", 8)])()


def _contender(solver: str, **options):
    def prepare(bp: BenchProblem):
        problem, A, max_time = bp.data

        def run():
            record, res = run_solver(problem, A, solver, tol=bp.tol, max_events=None,
                                     max_time=max_time,
                                     random_state=0, monitor_interval=MONITOR_INTERVAL,
                                     exact_monitor=False, **options)
            return SolveOutcome(
                metric_value=record["rel_grad"],
                objective=float(problem.value(np.asarray(res.x).reshape(problem.n_nodes, -1)
                                              .mean(axis=0))),
                n_iter=record["n_communications"],
                success=record["reached"],
                extra=record,
            )

        return run

    return prepare


def _solvers():
    specs = [SolverSpec(s, ("decentralized",), _contender(s), is_peer=(s == PEER))
             for s in SOLVERS]
    specs.insert(1, SolverSpec("dadao[sdp]", ("decentralized",), _contender("dadao", rates="sdp"),
                               requires=("cvxpy",)))
    return specs


def register(registry) -> None:
    suite = registry.suite(
        "decentralized",
        "decentralized ridge/logistic to rel. gradient 1e-6 on star/cycle/barbell graphs: DADAO "
        "(uniform and SDP rates) vs ADOM+, MSDA, continuized, EXTRA, DGD (iters = communications)",
        repeats=1,
    )
    suite.problem_sets.append(decentralized_problems)
    suite.solvers += _solvers()
    suite.notes.append(
        "decentralized: 'iters' is the number of communications to the tolerance; time is the "
        f"simulator's wall clock; kappa = L/mu = {KAPPA:g} for every problem")
    quick = registry.suite("quick")
    quick.problem_sets.append(quick_problems)
    quick.solvers += [SolverSpec("dadao", ("decentralized",), _contender("dadao")),
                      SolverSpec(PEER, ("decentralized",), _contender(PEER), is_peer=True)]
