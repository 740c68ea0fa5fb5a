"""Token SGD over MPI processes: the token really travels between agents.

Each MPI rank hosts a block of agents (:func:`optsolve._mpi.node_owners`) and holds only their
data (:func:`optsolve._mpi.local_packed`); the graph's topology (the base chain's rows) is known
to every rank. The token — the iterate ``theta`` and its average, the walk's position and
previous node, the step counter, the SRRW's empirical measure (``lq``, ``log s``) and visit
counts, and the state of the one random generator — is a message passed point to point to the
rank hosting the next agent. A step ``n -> n + 1`` runs where the token lands:

1. the rank holding the token at ``X_n`` draws the step's ``1 + B`` doubles from the token's
   generator and finds ``X_{n+1}`` (:func:`._kernels.move`, the very move ``token_run`` makes);
2. it sends the token, with those doubles, to the rank hosting ``X_{n+1}`` (or keeps it);
3. that rank calls :func:`._kernels.token_run` — the numba function the simulator runs over
   chunks of steps — on that one step, with its own copy of ``X_{n+1}``'s data.

The doubles are drawn one step at a time from the same ``numpy.random.Generator`` stream the
simulator draws in chunks, so the iterates equal :func:`optsolve.randomwalk.token_sgd`'s bit for
bit. Rank 0 also stops the run and gathers the history; monitoring and the final gather are not
on the token's path. A rank that dies ends the run with :class:`optsolve._mpi.MPIRunError`.

Run from Python with :func:`run_mpi`; ``python -m optsolve.randomwalk.mpi --payload DIR`` is the
worker entry that :func:`run_mpi` starts under ``mpiexec``.
"""

from __future__ import annotations

import math
import numbers
import sys
import time

import numpy as np

from .. import _mpi
from . import _kernels
from .schedules import DEFAULT_REGIME

# the workers import this module: what only the launching side needs (scikit-learn through
# the result plumbing, the validation of token_sgd) is imported inside run_mpi, so that a
# worker starts in about a second

__all__ = ["run_mpi"]

#: tag of the token message (engine tags stay below optsolve._mpi.TAG_RESERVED)
TAG_TOKEN = 11
#: tag of the token's return to rank 0 after the last step
TAG_DONE = 12


def run_mpi(problem, graph, walk: str = "srrw", alpha: float = 10.0, n_steps: int = 100_000,
            n_procs: int | None = None, random_state=None, *, step_size="auto",
            regime=DEFAULT_REGIME, batch_size: int | None = None, averaging: bool = False,
            base: str = "mh", x0=None, start: int | None = None,
            history_every: int | None = None, record_history: bool = True,
            timeout: float | None = None, liveness_timeout: float = 10.0):
    """Token SGD with the token passed between ``n_procs`` MPI processes (one per agent, or a
    block of agents per process).

    Launches ``mpiexec -n n_procs python -m optsolve.randomwalk.mpi`` and returns the same
    result as :func:`optsolve.randomwalk.token_sgd` with the same arguments: for the same
    ``random_state`` the iterates are identical (the steps run in the same numba function on
    the same random stream, see the module docstring).

    Parameters
    ----------
    problem, graph, walk, alpha, n_steps, random_state
        As :func:`~optsolve.randomwalk.token_sgd`.
    n_procs : int or None
        MPI processes; None for one per agent up to the CPU count. Agents are split in
        contiguous blocks (:func:`optsolve._mpi.node_owners`).
    step_size, regime, batch_size, averaging, base, x0, start, history_every, record_history
        As :func:`~optsolve.randomwalk.token_sgd` (``tol`` and ``callback`` need the global
        objective during the run, which no agent holds, so they are not offered here).
    timeout : float or None
        Hard wall-clock limit of the whole run in seconds (None: 120 s plus 1 ms per step);
        past it every process is killed and :class:`~optsolve._mpi.MPIRunError` raised.
    liveness_timeout : float, default=10.0
        Seconds of silence after which a process is declared dead.

    Returns
    -------
    OptimizeResult
        The fields of :func:`~optsolve.randomwalk.token_sgd` (``x``, ``fun``, ``history``,
        ``visits``, ``measure``, ``x_last``...) plus ``n_procs``, ``owners`` (rank of each
        agent), ``n_messages`` (token passes between processes), ``wall_time`` (seconds from
        the first step to the last, start-up excluded) and ``launch_time`` (whole call).

    Raises
    ------
    optsolve._mpi.MPIRunError
        A ``RuntimeError`` when a process died, went silent or the run timed out; it names the
        dead rank when it is known.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.graphs import make_graph
    >>> from optsolve.randomwalk import DecentralizedProblem, partition_data, token_sgd
    >>> from optsolve.randomwalk.mpi import run_mpi
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((60, 3)), rng.standard_normal(60)
    >>> prob = DecentralizedProblem.ridge(partition_data(X, y, 4, random_state=0), 0.1)
    >>> res = run_mpi(prob, make_graph("cycle", 4), n_steps=500, n_procs=2,
    ...               random_state=0)  # doctest: +SKIP
    >>> sim = token_sgd(prob, make_graph("cycle", 4), n_steps=500, random_state=0)
    >>> bool(np.array_equal(res.x, sim.x))  # doctest: +SKIP
    True
    """
    t_launch = time.perf_counter()
    if timeout is not None:
        timeout = _seconds(timeout, "timeout")
    liveness_timeout = _seconds(liveness_timeout, "liveness_timeout")
    common, per_rank, ctx = _prepare(
        problem, graph, walk, alpha, n_steps, n_procs, random_state, step_size=step_size,
        regime=regime, batch_size=batch_size, averaging=averaging, base=base, x0=x0,
        start=start, history_every=history_every, record_history=record_history,
        liveness_timeout=liveness_timeout)
    if timeout is None:
        timeout = 120.0 + 1e-3 * ctx["n_steps"]
    out = _mpi.launch("optsolve.randomwalk.mpi", common, per_rank, timeout=float(timeout))
    return _finish(problem, out, ctx, t_launch)


def _seconds(value, name: str) -> float:
    """A finite duration > 0 in seconds, or an error naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0 seconds, got {value!r}")
    return float(value)


def _prepare(problem, graph, walk, alpha, n_steps, n_procs, random_state, *, step_size, regime,
             batch_size, averaging, base, x0, start, history_every, record_history,
             liveness_timeout):
    """Validate run_mpi's arguments (as token_sgd does); build the shared settings (the walk's
    chain and step sizes), each rank's part (its agents' rows only; the token goes to the
    rank hosting the start) and what :func:`_finish` needs."""
    from .token_sgd import _checkpoints, initial_state, prepare_token
    from .walks import as_generator, check_start, check_steps

    setup = prepare_token(problem, graph, walk, alpha, base=base, step_size=step_size,
                          regime=regime, batch_size=batch_size)
    n_steps = check_steps(n_steps)
    n, d = setup.chain.n_nodes, problem.n_features
    theta0 = np.zeros(d) if x0 is None else np.array(x0, dtype=np.float64).ravel()
    if theta0.shape != (d,):
        raise ValueError(f"x0 must have shape ({d},), got {np.shape(x0)}")
    if not np.all(np.isfinite(theta0)):
        raise ValueError("x0 contains non-finite values")
    if not isinstance(averaging, bool | np.bool_):
        raise TypeError(f"averaging must be a bool, got {type(averaging).__name__}")
    P = _mpi.resolve_n_procs(n_procs, n)
    rng = as_generator(random_state)
    state = initial_state(setup, theta0, check_start(start, n, rng))
    checkpoints = _checkpoints(n_steps, history_every)
    owners = _mpi.node_owners(n, P)
    ch = setup.chain
    common = dict(
        n_procs=P, liveness_timeout=float(liveness_timeout), n_steps=n_steps,
        checkpoints=checkpoints, owners=owners, walk_code=setup.walk_code,
        chain=(ch.indptr, ch.indices, ch.p, ch.cum, ch.log_mu), inv_mu=setup.inv_mu,
        alpha=setup.alpha, a=setup.a, b=setup.b, step_size=setup.step_size,
        batch_size=setup.batch_size, d=d, avg_start=n_steps // 2 if averaging else 0,
    )
    token = dict(cur=state.cur, prev=state.prev, n=0, log_s=0.0, lq=state.lq,
                 visits=state.visits, theta=state.theta, theta_avg=state.theta_avg,
                 rng=rng.bit_generator.state, bitgen=type(rng.bit_generator).__name__,
                 u=None, hops=0)
    per_rank = []
    for r in range(P):
        mine = np.flatnonzero(owners == r)
        per_rank.append(dict(nodes=mine, packed=_mpi.local_packed(setup.packed, mine),
                             token=token if owners[state.cur] == r else None))
    _warm_up(common, per_rank[int(owners[state.cur])], token)
    ctx = dict(averaging=averaging, record_history=record_history, walk=walk, n_steps=n_steps,
               n_procs=P, owners=owners, mu=ch.mu, alpha=setup.alpha, step_size=setup.step_size,
               exponents=(setup.a, setup.b))
    return common, per_rank, ctx


def _finish(problem, out, ctx, t_launch):
    """The OptimizeResult of a run from rank 0's record (fields of token_sgd)."""
    from .._optimize import make_result
    from .._status import Status, termination_message, warn_status

    averaging, walk, n_steps = ctx["averaging"], ctx["walk"], ctx["n_steps"]
    record_history = ctx["record_history"]
    tok = out["token"]
    # the history, from the iterates recorded where the token stood at each checkpoint
    x = tok["theta_avg"] if averaging else tok["theta"]
    history = None
    if record_history:
        w_star = problem.solution()
        snaps = sorted(out["snapshots"], key=lambda s: s[0])
        steps = np.array([s[0] for s in snaps], dtype=np.int64)
        history = {"step": steps,
                   "error": np.array([np.linalg.norm((s[2] if averaging else s[1]) - w_star)
                                      for s in snaps])}
        if averaging:
            history["error_last"] = np.array([np.linalg.norm(s[1] - w_star) for s in snaps])
    status, detail = Status.SUCCESS, f"ran the full budget of {n_steps} steps"
    if not np.all(np.isfinite(x)):
        status, detail = Status.NON_FINITE, "reduce step_size"
    message = termination_message(status, detail)
    if status == Status.SUCCESS:
        message = f"completed: {detail} (tol=None, no convergence test)"
    else:
        warn_status("token_sgd (mpi)", status, detail)
    fun = float(problem.value(x)) if np.all(np.isfinite(x)) else float("nan")
    mu = ctx["mu"]
    measure = mu * np.exp(tok["lq"] + tok["log_s"]) if walk == "srrw" else None
    return make_result(
        x.copy(), fun, success=status == Status.SUCCESS and math.isfinite(fun), status=status,
        message=message, nit=int(tok["n"]), history=history, visits=tok["visits"].copy(),
        measure=measure, x_last=tok["theta"].copy(), walk=walk, alpha=ctx["alpha"],
        step_size=ctx["step_size"], exponents=ctx["exponents"], n_procs=ctx["n_procs"],
        owners=ctx["owners"],
        n_messages=int(tok["hops"]), wall_time=float(out["wall_time"]),
        launch_time=time.perf_counter() - t_launch,
    )


# --------------------------------------------------------------------------------------------
# worker
# --------------------------------------------------------------------------------------------


def _warm_up(common: dict, local: dict, token: dict) -> None:
    """One step on copies, with the workers' argument types: numba compiles (or loads) the
    kernels here, once, instead of in every worker at the same time."""
    indptr, indices, p, cum, log_mu = common["chain"]
    pk = local["packed"]
    B = common["batch_size"]
    buf = np.empty(int(np.diff(indptr).max()))
    rows = np.empty(max(B, 1), dtype=np.int64)
    u = np.full(1 + B, 0.5)
    lq = token["lq"].copy()
    _kernels.move(common["walk_code"], token["cur"], token["prev"], u[0], indptr, indices, p,
                  cum, lq, common["alpha"], buf)
    _kernels.token_run(
        common["walk_code"], token["cur"], token["prev"], 0, u[None], indptr, indices, p, cum,
        lq, log_mu, common["alpha"], common["a"], 0.0, token["visits"].copy(),
        common["inv_mu"], common["step_size"], common["b"], token["theta"].copy(),
        token["theta_avg"].copy(), common["avg_start"], pk["loss_code"], pk["is_sparse"],
        pk["X"], pk["indptr"], pk["indices"], pk["data"], pk["y"], pk["offsets"],
        pk["inv_n_total"], pk["reg"], rows, np.empty(common["d"]), buf, pk["center"])


def _restore_rng(token) -> np.random.Generator:
    bitgen = getattr(np.random, token["bitgen"])()
    bitgen.state = token["rng"]
    return np.random.Generator(bitgen)


def _agent(w: _mpi.Worker):
    """Body of one rank: wait for the token, run the steps whose node it hosts, pass it on."""
    from mpi4py import MPI

    c = w.common
    pk = w.local["packed"]
    owners = c["owners"]
    indptr, indices, p, cum, log_mu = c["chain"]
    walk, alpha, a, b = c["walk_code"], c["alpha"], c["a"], c["b"]
    inv_mu, step_size, n_steps = c["inv_mu"], c["step_size"], c["n_steps"]
    B = c["batch_size"]
    avg_start = c["avg_start"]
    checkpoints = set(int(s) for s in c["checkpoints"])
    rows = np.empty(max(B, 1), dtype=np.int64)
    grad = np.empty(c["d"])
    buf = np.empty(int(np.diff(indptr).max()))
    data = (pk["loss_code"], pk["is_sparse"], pk["X"], pk["indptr"], pk["indices"], pk["data"],
            pk["y"], pk["offsets"], pk["inv_n_total"], pk["reg"])
    monitor = _mpi.Monitor(w, 1, period=0.05)
    snapshots = []
    steps_here = 0
    sends = []  # outstanding token sends (kept alive until complete)

    def step(tok, u):
        """Run step ``tok['n'] -> tok['n'] + 1`` here, exactly as the simulator's loop does."""
        nonlocal steps_here
        w.tick()
        tok["cur"], tok["prev"], tok["log_s"] = _kernels.token_run(
            walk, tok["cur"], tok["prev"], tok["n"], u[None], indptr, indices, p, cum,
            tok["lq"], log_mu, alpha, a, tok["log_s"], tok["visits"], inv_mu, step_size, b,
            tok["theta"], tok["theta_avg"], avg_start, *data, rows, grad, buf, pk["center"])
        tok["cur"], tok["prev"] = int(tok["cur"]), int(tok["prev"])
        tok["n"] += 1
        steps_here += 1
        if tok["n"] in checkpoints:
            snapshots.append((tok["n"], tok["theta"].copy(), tok["theta_avg"].copy()))

    # warm the kernels up before the clock starts (numba's cache makes this a load)
    _kernels.move(walk, 0, -1, 0.5, indptr, indices, p, cum, np.zeros(owners.size), alpha, buf)
    w.barrier(what="the start barrier", timeout=max(60.0, 4 * w.liveness_timeout))
    t0 = time.perf_counter()
    tok = w.local["token"]
    pending_u = None
    final = None
    while True:
        if tok is None:
            msg = w.comm.improbe(source=MPI.ANY_SOURCE, tag=TAG_TOKEN)
            if msg is not None:
                tok = msg.recv()
                pending_u = tok.pop("u")
        if tok is not None:
            if pending_u is not None:  # the step whose node this rank hosts
                step(tok, pending_u)
                pending_u = None
            rng = _restore_rng(tok)
            while tok["n"] < n_steps:
                u = rng.random(1 + B)
                nxt = int(_kernels.move(walk, tok["cur"], tok["prev"], u[0], indptr, indices, p,
                                        cum, tok["lq"], alpha, buf))
                if owners[nxt] == w.rank:
                    step(tok, u)
                    monitor.step(np.array([steps_here], dtype=np.float64))
                    continue
                tok["rng"], tok["u"] = rng.bit_generator.state, u
                tok["hops"] += 1
                sends.append(w.comm.isend(tok, dest=int(owners[nxt]), tag=TAG_TOKEN))
                tok = None
                break
            if tok is not None:  # the last step was taken here
                tok["rng"] = rng.bit_generator.state
                if w.rank == 0:
                    final = tok
                else:
                    sends.append(w.comm.isend(tok, dest=0, tag=TAG_DONE))
                tok = None
        if w.rank == 0 and final is None:
            msg = w.comm.improbe(source=MPI.ANY_SOURCE, tag=TAG_DONE)
            if msg is not None:
                final = msg.recv()
        stop = monitor.step(np.array([steps_here], dtype=np.float64), stop=final is not None)
        sends = [s for s in sends if not s.Test()]
        if stop == _mpi.CMD_STOP:
            break
        time.sleep(w.poll_interval)
    wall = time.perf_counter() - t0
    for s in sends:
        w.wait(s, what="a token send")
    monitor.close()
    w.barrier(what="the final barrier", serve=monitor.drain)
    gathered = w.gather_object({"snapshots": snapshots, "steps": steps_here})
    if w.rank != 0:
        return None
    return {"token": final, "wall_time": wall,
            "snapshots": [s for g in gathered for s in g["snapshots"]],
            "steps_per_rank": [g["steps"] for g in gathered]}


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    """``mpiexec -n N python -m optsolve.randomwalk.mpi [options]``.

    Started by :func:`run_mpi` with ``--payload DIR``; started by hand, rank 0 builds the
    problem from the options (``--help``), the token runs over the ranks, and rank 0 prints a
    summary (and writes ``--out``).
    """
    import argparse

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--payload" in argv:
        return _mpi.worker_main(_agent, argv)
    parser = argparse.ArgumentParser(
        prog="mpiexec -n N python -m optsolve.randomwalk.mpi",
        description="Token SGD with the token passed between MPI processes (agents).")
    _mpi.add_problem_arguments(parser)
    parser.add_argument("--walk", default="srrw", choices=("srrw", "srw", "mh", "nbrw", "iid"))
    parser.add_argument("--alpha", type=float, default=10.0, help="SRRW strength")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--averaging", action="store_true")
    parser.add_argument("--liveness-timeout", type=float, default=10.0)
    args = parser.parse_args(argv)

    def prepare(n_procs):
        problem, graph = _mpi.problem_from_arguments(args, n_procs)
        common, per_rank, ctx = _prepare(
            problem, graph, args.walk, args.alpha, args.steps, n_procs, args.seed,
            step_size="auto", regime=DEFAULT_REGIME, batch_size=args.batch_size,
            averaging=args.averaging, base="mh", x0=None, start=None, history_every=None,
            record_history=True, liveness_timeout=args.liveness_timeout)
        return common, per_rank, dict(ctx, problem=problem, t0=time.perf_counter())

    def finish(out, ctx):
        res = _finish(ctx["problem"], out, ctx, ctx["t0"])
        sys.stdout.write(
            f"token SGD ({res.walk}) on {res.n_procs} MPI processes, "
            f"{ctx['problem'].n_nodes} agents: {res.message}\n"
            f"  wall {res.wall_time:.3f} s for {res.nit} steps, {res.n_messages} token passes "
            f"between processes; ||x - x*|| = {res.history['error'][-1]:.3e}\n")
        if args.out:
            _mpi.save_result(args.out, res)

    return _mpi.standalone_main(prepare, _agent, finish)


if __name__ == "__main__":
    sys.exit(main())
