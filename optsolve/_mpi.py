"""One launcher and one worker harness for the MPI runs of the distributed families.

Both ``optsolve.decentralized`` (DADAO on MPI) and ``optsolve.randomwalk`` (token SGD on MPI)
run through this module; neither family imports the other.

The parent side (:func:`launch`) writes a payload to a private temporary directory — one
file of settings shared by every rank and one file per rank holding *only that rank's data* —
starts ``mpiexec -n N python -m <module> --payload DIR`` in a new session (its own process
group), waits with a hard wall-clock timeout, and reads back what rank 0 wrote. It never hangs:

* when a worker dies (signal, crash), MPICH's process manager (hydra) kills the others and
  exits non-zero; the dead rank is named from the PID in hydra's report, mapped back through
  the ``pid.<rank>`` file each worker writes at start-up;
* when a worker notices a dead or silent peer itself (its own liveness timeouts, for process
  managers that do not clean up), it writes ``error.<rank>`` naming the peer and calls
  ``MPI_Abort``;
* when nothing of the above happens within ``timeout`` seconds, the whole process group is
  killed (SIGTERM, then SIGKILL) and :class:`MPIRunError` is raised.

The worker side (:func:`worker_main` and :class:`Worker`) gives the engines non-blocking
point-to-point helpers whose every wait is bounded, and a monitoring channel (:class:`Monitor`):
non-root ranks send small monitoring records to rank 0 at a fixed wall-clock period and rank 0
answers with heartbeats and, eventually, the stop command. Monitoring is *not* on the data path
and is not counted as communication by the algorithms; it also serves as the liveness check (a
rank that stays silent for ``liveness_timeout`` seconds is declared dead).

Test hooks: the environment variable ``OPTSOLVE_MPI_TEST_KILL="<rank>:<ticks>"`` makes that rank
``SIGKILL`` itself at its ``ticks``-th call of :meth:`Worker.tick` (engines tick once per local
event/step); ``OPTSOLVE_MPI_TEST_HANG`` makes it stop answering instead (alive but silent). They
exist only to test the failure paths.

``python -m optsolve._mpi --payload DIR`` runs the built-in ring self-test (:func:`selftest`),
which checks that an MPI installation works end to end.
"""

from __future__ import annotations

import functools
import logging
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MPIRunError",
    "Monitor",
    "PeerFailure",
    "Worker",
    "add_problem_arguments",
    "find_mpiexec",
    "launch",
    "local_packed",
    "mpi_available",
    "node_owners",
    "problem_from_arguments",
    "resolve_n_procs",
    "save_result",
    "selftest",
    "standalone_main",
    "worker_main",
]

logger = logging.getLogger("optsolve.mpi")

#: environment variable naming the mpiexec to use (overrides the search)
MPIEXEC_ENV = "OPTSOLVE_MPIEXEC"
#: test-only failure injection: "<rank>:<ticks>"
TEST_KILL_ENV = "OPTSOLVE_MPI_TEST_KILL"
#: test-only hang injection: "<rank>:<ticks>" (the rank stops answering, but stays alive)
TEST_HANG_ENV = "OPTSOLVE_MPI_TEST_HANG"

#: message tags of the shared channels (engines use tags < TAG_RESERVED)
TAG_RESERVED = 1000
TAG_MONITOR = 1001
TAG_CONTROL = 1002
TAG_FINAL = 1003

#: control commands sent by rank 0
CMD_CONTINUE = 0
CMD_STOP = 1


class MPIRunError(RuntimeError):
    """An MPI run ended abnormally (a process died, a peer went silent, or the run timed out).

    Attributes
    ----------
    dead_ranks : list of int
        Ranks known to have died or gone silent (empty when unknown).
    returncode : int or None
        Exit status of ``mpiexec`` (None when it was killed on timeout).
    log : str
        The tail of the run's combined output.
    """

    def __init__(self, message, *, dead_ranks=(), returncode=None, log=""):
        super().__init__(message)
        self.dead_ranks = list(dead_ranks)
        self.returncode = returncode
        self.log = log


class PeerFailure(RuntimeError):
    """Raised inside a worker when a peer does not answer within the liveness timeout."""

    def __init__(self, message, peer=None):
        super().__init__(message)
        self.peer = peer


# --------------------------------------------------------------------------------------------
# parent side
# --------------------------------------------------------------------------------------------


def find_mpiexec() -> str | None:
    """Path of the ``mpiexec`` to use, or None.

    Order: ``$OPTSOLVE_MPIEXEC``; the one beside the running interpreter (where the ``mpich``
    wheel installs it); the first on ``PATH``.
    """
    env = os.environ.get(MPIEXEC_ENV)
    if env:
        return env if shutil.which(env) else None
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("mpiexec")


def mpi_available() -> tuple[bool, str]:
    """Return ``(True, "")`` when mpi4py imports and an ``mpiexec`` is found, else the reason."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False, "mpi4py is not installed (pip install 'optsolve[distributed]')"
    if find_mpiexec() is None:
        return False, "no mpiexec found (pip install mpich, or set OPTSOLVE_MPIEXEC)"
    return True, ""


def _package_root() -> str:
    return str(Path(__file__).resolve().parent.parent)


@functools.lru_cache(maxsize=4)
def _cleanup_args(mpiexec: str) -> tuple[str, ...]:
    """Hydra kills every rank as soon as one dies, and then names an arbitrary one of them;
    with its auto-cleanup off, the survivors stay up long enough for the launcher's watch (and
    their own liveness checks) to tell which rank died first."""
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return ()
    return ("-disable-auto-cleanup",) if "HYDRA" in out.stdout else ()


#: environment of an enclosing MPI job, which would make the workers join it instead
_FOREIGN_MPI_ENV = ("PMI_", "PMIX_", "HYDI_", "HYDRA_", "OMPI_", "MPI_LOCAL")


def _worker_env(extra: dict | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_MPI_ENV)}
    # workers must import the very optsolve the parent runs (a source checkout, a worktree)
    root = _package_root()
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # N processes share the cores: one BLAS / numba thread each
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env.setdefault(var, "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


def _kill_group(proc: subprocess.Popen, workdir: Path) -> None:
    """Terminate mpiexec's whole process group, then any worker PID still alive."""
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    killed = []
    for rank, pid in _read_pids(workdir).items():
        if not _pid_alive(pid):
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
        killed.append(pid)
        logger.info("killed leftover MPI worker rank %d (pid %d)", rank, pid)
    t_end = time.monotonic() + 2.0
    while any(_pid_alive(pid) for pid in killed) and time.monotonic() < t_end:
        time.sleep(0.01)


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().split(b") ", 1)[1][:1] != b"Z"
    except (OSError, IndexError):
        pass
    try:  # no procfs
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _watch(proc: subprocess.Popen, workdir: Path, timeout: float,
           n_procs: int) -> tuple[int | None, list[int]]:
    """Wait for mpiexec; watch each worker's PID meanwhile.

    Returns ``(returncode, vanished)``: ``returncode`` is None on timeout; ``vanished`` lists the
    ranks first seen to disappear without having finished (no ``done.<rank>``) while no worker
    had reported an error — the ranks that died. The run is then killed at once instead of
    waiting for the survivors' liveness timeouts. Exits are watched through pidfds where the
    kernel has them, so that a death is seen at once, before the process manager's cleanup
    takes the other ranks down too.
    """
    import select

    t_end = time.monotonic() + timeout
    use_pidfd = hasattr(os, "pidfd_open") and hasattr(select, "poll")
    poller = select.poll() if use_pidfd else None
    watched: dict[int, int] = {}  # rank -> pid
    fds: dict[int, int] = {}  # pidfd -> rank
    ended: set[int] = set()

    def unwatch(rank):
        for fd in [fd for fd, r in fds.items() if r == rank]:
            poller.unregister(fd)
            os.close(fd)
            del fds[fd]
        watched.pop(rank, None)
        ended.add(rank)

    try:
        while True:
            ready = set()
            if len(watched) + len(ended) < n_procs:
                for rank, pid in _read_pids(workdir).items():
                    if rank in watched or rank in ended:
                        continue
                    watched[rank] = pid
                    if use_pidfd:
                        try:
                            fd = os.pidfd_open(pid)
                        except OSError:
                            ready.add(rank)
                            continue
                        fds[fd] = rank
                        poller.register(fd, select.POLLIN)
            if use_pidfd:
                ready.update(fds[fd] for fd, _ in poller.poll(10) if fd in fds)
            else:
                time.sleep(0.01)
                ready.update(r for r, pid in watched.items() if not _pid_alive(pid))
            for rank in ready:
                unwatch(rank)
            gone = sorted(r for r in ready if not (workdir / f"done.{r}").exists())
            if gone and not any(workdir.glob("error.*")):
                _kill_group(proc, workdir)
                return (proc.returncode if proc.returncode is not None else -9), gone
            rc = proc.poll()
            if rc is not None:
                return rc, []
            if time.monotonic() > t_end:
                _kill_group(proc, workdir)
                return None, []
    finally:
        for fd in fds:
            os.close(fd)


def _read_pids(workdir: Path) -> dict[int, int]:
    pids = {}
    for f in workdir.glob("pid.*"):
        try:
            pids[int(f.suffix[1:])] = int(f.read_text().strip())
        except ValueError:
            continue
    return pids


def _tail(path: Path, n_chars: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-n_chars:]


def _diagnose(workdir: Path, log: str, n_procs: int,
              vanished: Sequence[int] = ()) -> tuple[str, list[int]]:
    """Explain an abnormal end: which rank died, went silent or raised."""
    errors = {}  # what the workers wrote themselves: an exception, a silent peer
    for f in sorted(workdir.glob("error.*")):
        try:
            text = f.read_text(errors="replace").strip()
            if text:
                errors[int(f.suffix[1:])] = text
        except ValueError:
            continue
    crashed = {r: e for r, e in errors.items() if not e.startswith("PeerFailure")}
    if crashed:
        rank, text = min(crashed.items())
        return f"MPI rank {rank} failed: {text.splitlines()[-1]}", sorted(crashed)
    if len(vanished) == 1:
        return (f"a peer process died: MPI rank {vanished[0]} of {n_procs} terminated "
                "abnormally; the other ranks were stopped"), list(vanished)
    if vanished:  # seen ending within the same instant: the first to die is one of them
        names = ", ".join(str(r) for r in vanished)
        return (f"a peer process died: MPI ranks {names} of {n_procs} ended abnormally at once "
                "(the one that died first is among them); the other ranks were stopped"), \
            list(vanished)
    pids = {pid: rank for rank, pid in _read_pids(workdir).items()}
    dead = set()
    # hydra: "BAD TERMINATION ... PID 1234 RUNNING AT host / EXIT CODE: 9"
    for m in re.finditer(r"PID (\d+) RUNNING AT", log):
        if int(m.group(1)) in pids:
            dead.add(pids[int(m.group(1))])
    if dead:
        code = re.search(r"EXIT CODE: (\d+)", log)
        how = f" (exit code {code.group(1)})" if code else ""
        names = ", ".join(str(r) for r in sorted(dead))
        return (f"a peer process died: MPI rank {names} of {n_procs} terminated abnormally{how}; "
                "the other ranks were stopped"), sorted(dead)
    # the monitor's verdict (a rank silent on the monitoring channel) names the culprit; a
    # data-path timeout may only name a neighbour that was itself waiting on the culprit
    silent, reports = set(), []
    for monitor_only in (True, False):
        for text in errors.values():
            last = text.splitlines()[-1].removeprefix("PeerFailure: ")
            m = re.search(r"rank (\d+) died or is silent", last)
            if m and (not monitor_only or "monitoring report" in last or "heartbeat" in last):
                silent.add(int(m.group(1)))
                reports.append(last)
        if silent:
            break
    if silent:
        names = ", ".join(str(r) for r in sorted(silent))
        return (f"a peer process died or hung: MPI rank {names} of {n_procs} stopped answering; "
                f"the run was aborted ({reports[0]})"), sorted(silent)
    return "a peer process died: the MPI run ended abnormally", []


def launch(
    module: str,
    common: dict,
    per_rank: Sequence[dict],
    *,
    timeout: float,
    env: dict | None = None,
    mpiexec_args: Sequence[str] = (),
) -> Any:
    """Run ``mpiexec -n len(per_rank) python -m module`` on a payload; return rank 0's result.

    Parameters
    ----------
    module : str
        Worker module (its ``__main__`` calls :func:`worker_main`).
    common : dict
        Settings every rank reads (small: options, graph, seeds).
    per_rank : sequence of dict
        One payload per rank, holding only that rank's data.
    timeout : float
        Hard wall-clock limit in seconds, start-up included; past it the process group is
        killed and :class:`MPIRunError` raised.
    env : dict, optional
        Extra environment variables for the workers.
    mpiexec_args : sequence of str
        Extra arguments for ``mpiexec`` (before ``-n``).

    Returns
    -------
    object
        What rank 0's body returned (unpickled).

    Raises
    ------
    MPIRunError
        When a process died, a peer went silent, a worker raised, or the run timed out.
    """
    ok, why = mpi_available()
    if not ok:
        raise RuntimeError(f"cannot run with MPI: {why}")
    n_procs = len(per_rank)
    if n_procs < 1:
        raise ValueError("per_rank must hold at least one payload")
    workdir = Path(tempfile.mkdtemp(prefix="optsolve-mpi-"))
    try:
        with open(workdir / "common.pkl", "wb") as f:
            pickle.dump(common, f, protocol=pickle.HIGHEST_PROTOCOL)
        for r, payload in enumerate(per_rank):
            with open(workdir / f"rank.{r}.pkl", "wb") as f:
                pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        mpiexec = find_mpiexec()
        cmd = [mpiexec, *_cleanup_args(mpiexec), *mpiexec_args, "-n", str(n_procs),
               sys.executable, "-m", module, "--payload", str(workdir)]
        logfile = workdir / "output.log"
        t0 = time.perf_counter()
        with open(logfile, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=_worker_env(env),
                                    start_new_session=True)
            try:
                rc, vanished = _watch(proc, workdir, timeout, n_procs)
            except BaseException:  # KeyboardInterrupt: leave no orphan behind
                _kill_group(proc, workdir)
                raise
        logger.debug("mpiexec -n %d %s finished in %.2f s (rc=%s)", n_procs, module,
                     time.perf_counter() - t0, rc)
        log = _tail(logfile)
        if rc is None:
            raise MPIRunError(
                f"the MPI run did not finish within timeout={timeout:g} s; its process group "
                "was killed", returncode=None, log=log)
        result_file = workdir / "result.pkl"
        if rc != 0 or vanished or not result_file.exists():
            _kill_group(proc, workdir)  # leave no rank behind, whatever the process manager did
            message, dead = _diagnose(workdir, log, n_procs, vanished)
            raise MPIRunError(f"{message}\n--- output tail ---\n{log[-2000:]}", dead_ranks=dead,
                              returncode=rc, log=log)
        with open(result_file, "rb") as f:
            return pickle.load(f)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# data placement shared by the families
# --------------------------------------------------------------------------------------------


def resolve_n_procs(n_procs, n_nodes: int) -> int:
    """``n_procs`` validated (``None``: one process per node, at most the CPU count)."""
    import numbers

    if n_procs is None:
        return max(1, min(n_nodes, os.cpu_count() or 1))
    if isinstance(n_procs, bool) or not isinstance(n_procs, numbers.Integral):
        raise TypeError(f"n_procs must be an int >= 1 or None, got {type(n_procs).__name__}")
    if not 1 <= n_procs <= n_nodes:
        raise ValueError(f"n_procs must be in [1, n_nodes={n_nodes}], got {n_procs}")
    return int(n_procs)


def node_owners(n_nodes: int, n_procs: int) -> np.ndarray:
    """Rank hosting each node: contiguous blocks of ``n_nodes / n_procs`` nodes (sizes differ by
    at most one, the first ranks taking the extra nodes), so node ``i`` lives on one rank and a
    rank hosts ``ceil`` or ``floor`` of ``n_nodes / n_procs`` nodes."""
    sizes = np.full(n_procs, n_nodes // n_procs)
    sizes[: n_nodes % n_procs] += 1
    return np.repeat(np.arange(n_procs), sizes)


def local_packed(packed, nodes) -> dict:
    """The rows of ``packed`` (a ``DecentralizedProblem.packed``) that ``nodes`` own, and nothing
    else, in the same layout: ``offsets`` keeps one entry per node of the whole problem, with
    empty row ranges for the nodes held elsewhere, so that the numba kernels index a node's rows
    exactly as in the simulator. ``inv_n_total`` (1/N over all nodes) and ``reg`` are kept.

    Returns a dict of the ``PackedData`` fields (picklable, for a rank's payload).
    """
    nodes = np.sort(np.asarray(nodes, dtype=np.int64))
    off = np.asarray(packed.offsets, dtype=np.int64)
    counts = np.zeros(off.size - 1, dtype=np.int64)
    counts[nodes] = off[nodes + 1] - off[nodes]
    rows = (np.concatenate([np.arange(off[i], off[i + 1]) for i in nodes]) if nodes.size
            else np.zeros(0, dtype=np.int64))
    out = dict(loss_code=int(packed.loss_code), is_sparse=bool(packed.is_sparse),
               y=np.ascontiguousarray(packed.y[rows]),
               offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
               inv_n_total=float(packed.inv_n_total), reg=float(packed.reg))
    if packed.is_sparse:
        import scipy.sparse as sp

        A = sp.csr_matrix((packed.data, packed.indices, packed.indptr),
                          shape=(off[-1], int(packed.indices.max(initial=-1)) + 1))[rows]
        out.update(X=np.zeros((0, 0)), indptr=A.indptr.astype(np.int64),
                   indices=A.indices.astype(np.int64), data=A.data.astype(np.float64))
    else:
        empty_i = np.zeros(0, dtype=np.int64)
        out.update(X=np.ascontiguousarray(packed.X[rows]), indptr=empty_i, indices=empty_i,
                   data=np.zeros(0))
    return out


# --------------------------------------------------------------------------------------------
# worker side
# --------------------------------------------------------------------------------------------


class Worker:
    """What a worker body receives: the communicator, its payload and bounded waits.

    Attributes
    ----------
    comm : mpi4py.MPI.Comm
        ``COMM_WORLD``.
    rank, size : int
    common : dict
        The shared settings.
    local : dict
        This rank's own payload.
    liveness_timeout : float
        Seconds a rank may stay silent on the monitoring channel before it is declared dead
        (``common['liveness_timeout']``, default 10). A wait on the data path lasts at most
        twice as long, so that the monitor, which knows who is silent, speaks first.
    poll_interval : float
        Sleep between two tests of a pending request (seconds).
    """

    def __init__(self, comm, common: dict, local: dict, workdir: Path | None = None):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.common = common
        self.local = local
        self.workdir = workdir
        self.liveness_timeout = float(common.get("liveness_timeout", 10.0))
        self.poll_interval = float(common.get("poll_interval", 2e-4))
        self._ticks = 0
        self._kill_at = _parse_kill(os.environ.get(TEST_KILL_ENV), self.rank)
        self._hang_at = _parse_kill(os.environ.get(TEST_HANG_ENV), self.rank)

    # ---- failure injection (tests only) -----------------------------------------------------
    def tick(self, n: int = 1) -> None:
        """Count local events; kill this process when the test hook says so."""
        self._ticks += n
        if self._kill_at is not None and self._ticks >= self._kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if self._hang_at is not None and self._ticks >= self._hang_at:
            while True:  # alive but silent: the peers' liveness timeouts must catch it
                time.sleep(1.0)

    # ---- bounded waits ----------------------------------------------------------------------
    def wait(self, req, *, peer: int | None = None, what: str = "a message",
             timeout: float | None = None, serve: Callable[[], Any] | None = None):
        """Wait for ``req`` (an ``MPI.Request``), at most ``timeout`` seconds.

        ``serve`` is called between tests, so a rank keeps answering its neighbours while it
        waits. Raises :class:`PeerFailure` naming ``peer`` on timeout (default: twice the
        liveness timeout, so that the monitor, which knows who is silent, speaks first).
        """
        limit = 2 * self.liveness_timeout if timeout is None else timeout
        t_end = time.monotonic() + limit
        while True:
            done = req.Test()
            if done:
                return done
            if serve is not None:
                serve()
            if time.monotonic() > t_end:
                who = f"rank {peer}" if peer is not None else "a peer"
                raise PeerFailure(f"{who} died or is silent: no answer for {what} within "
                                  f"{limit:g} s (rank {self.rank} waiting)", peer)
            time.sleep(self.poll_interval)

    def recv_object(self, source: int, tag: int, *, what: str = "a message",
                    timeout: float | None = None, serve: Callable[[], Any] | None = None):
        """Receive one pickled object from ``source`` with a bounded wait (matched probe)."""
        limit = 2 * self.liveness_timeout if timeout is None else timeout
        t_end = time.monotonic() + limit
        while True:
            msg = self.comm.improbe(source=source, tag=tag)
            if msg is not None:
                return msg.recv()
            if serve is not None:
                serve()
            if time.monotonic() > t_end:
                raise PeerFailure(f"rank {source} died or is silent: no {what} within {limit:g} s "
                                  f"(rank {self.rank} waiting)", source)
            time.sleep(self.poll_interval)

    def barrier(self, *, what: str = "a barrier", timeout: float | None = None,
                serve: Callable[[], Any] | None = None) -> None:
        """Non-blocking barrier with a bounded wait (``serve`` keeps answering meanwhile)."""
        self.wait(self.comm.Ibarrier(), what=what, timeout=timeout, serve=serve)

    def gather_object(self, obj, *, root: int = 0, timeout: float | None = None,
                      serve: Callable[[], Any] | None = None) -> list | None:
        """Gather one object per rank at ``root`` by point-to-point messages, bounded waits."""
        if self.rank != root:
            req = self.comm.isend(obj, dest=root, tag=TAG_FINAL)
            self.wait(req, peer=root, what="the final gather", timeout=timeout, serve=serve)
            return None
        out = [None] * self.size
        out[root] = obj
        for r in range(self.size):
            if r != root:
                out[r] = self.recv_object(r, TAG_FINAL, what="its final state", timeout=timeout,
                                          serve=serve)
        return out


def _parse_kill(spec: str | None, rank: int) -> int | None:
    if not spec:
        return None
    try:
        r, ticks = spec.split(":")
        return int(ticks) if int(r) == rank else None
    except ValueError:
        return None


class Monitor:
    """Monitoring and stopping channel: non-root ranks report to rank 0, rank 0 decides.

    Non-root ranks call :meth:`step` often; every ``period`` seconds it sends their monitoring
    vector (``float64``, fixed length ``size``) to rank 0 and returns rank 0's latest command.
    Rank 0 calls :meth:`step` too: it collects the reports into :attr:`values` (one row per
    rank), and each period sends every rank a control message — the command followed by
    ``control_size`` floats of :attr:`control` that rank 0 may fill (a snapshot to evaluate, for
    instance) — which doubles as a heartbeat. Rank 0 raises :class:`PeerFailure` naming a rank
    silent for ``worker.liveness_timeout`` seconds; a non-root rank that hears nothing from rank
    0 for that long raises it naming rank 0.

    Monitoring traffic is not counted as communication by the algorithms.
    """

    def __init__(self, worker: Worker, size: int, period: float = 0.05, control_size: int = 0):
        self.w = worker
        self.period = float(period)
        self.values = np.zeros((worker.size, size))
        self.reported = np.zeros(worker.size, dtype=bool)
        now = time.monotonic()
        self.last_seen = np.full(worker.size, now)
        self._next = now
        self._sends = []
        self._recv_buf = np.zeros(size)
        #: ``control[0]`` is the command, ``control[1:]`` rank 0's payload
        self.control = np.zeros(1 + int(control_size))
        self._ctrl_buf = np.zeros(1 + int(control_size))
        self.command = CMD_CONTINUE
        self.n_messages = 0

    def _flush(self) -> None:
        self._sends = [(req, buf) for req, buf in self._sends if not req.Test()]

    def step(self, values, stop: bool = False) -> int:
        """Exchange monitoring data when due; return the current command.

        ``values`` is this rank's monitoring vector, or a callable returning it (called only
        when a report is due). On rank 0, ``stop`` is its decision to stop the run.
        """
        from mpi4py import MPI

        w = self.w
        now = time.monotonic()
        if w.rank == 0:
            self.last_seen[0] = now
            status = MPI.Status()
            while w.comm.Iprobe(source=MPI.ANY_SOURCE, tag=TAG_MONITOR, status=status):
                src = status.Get_source()
                w.comm.Recv(self._recv_buf, source=src, tag=TAG_MONITOR)
                self.values[src] = self._recv_buf
                self.reported[src] = True
                self.last_seen[src] = now
            if stop:
                self.command = CMD_STOP
            if now >= self._next or stop:
                self._next = now + self.period
                self.values[0] = values() if callable(values) else values
                self.reported[0] = True
                self._flush()
                self.control[0] = self.command
                for r in range(1, w.size):
                    buf = self.control.copy()
                    self._sends.append((w.comm.Isend(buf, dest=r, tag=TAG_CONTROL), buf))
                    self.n_messages += 1
                silent = np.flatnonzero(now - self.last_seen > w.liveness_timeout)
                if silent.size:
                    r = int(silent[0])
                    raise PeerFailure(f"rank {r} died or is silent: no monitoring report for "
                                      f"{w.liveness_timeout:g} s", r)
            return self.command
        while w.comm.Iprobe(source=0, tag=TAG_CONTROL):
            w.comm.Recv(self._ctrl_buf, source=0, tag=TAG_CONTROL)
            self.last_seen[0] = now
            self.control[:] = self._ctrl_buf
            if self._ctrl_buf[0] == CMD_STOP:
                self.command = CMD_STOP
        if now >= self._next:
            self._next = now + self.period
            self._flush()
            buf = np.array(values() if callable(values) else values, dtype=np.float64)
            self._sends.append((w.comm.Isend(buf.reshape(-1), dest=0, tag=TAG_MONITOR), buf))
            self.n_messages += 1
            if now - self.last_seen[0] > w.liveness_timeout:
                raise PeerFailure(f"rank 0 died or is silent: no heartbeat for "
                                  f"{w.liveness_timeout:g} s", 0)
        return self.command

    def close(self, timeout: float | None = None) -> None:
        """Complete the outstanding monitoring sends and drain unread monitoring messages."""
        w = self.w
        limit = w.liveness_timeout if timeout is None else timeout
        t_end = time.monotonic() + limit
        while self._sends and time.monotonic() < t_end:
            self._flush()
            self.drain()
            time.sleep(w.poll_interval)
        self.drain()

    def drain(self) -> None:
        """Receive and drop the monitoring messages still arriving (after the stop)."""
        from mpi4py import MPI

        w = self.w
        tag = TAG_MONITOR if w.rank == 0 else TAG_CONTROL
        status = MPI.Status()
        while w.comm.Iprobe(source=MPI.ANY_SOURCE, tag=tag, status=status):
            w.comm.Recv(self._recv_buf if w.rank == 0 else self._ctrl_buf,
                        source=status.Get_source(), tag=tag)


def worker_main(body: Callable[[Worker], Any], argv: Sequence[str] | None = None) -> int:
    """Entry point of a worker module: load the payload, run ``body``, report.

    ``body(worker)`` runs on every rank; what rank 0 returns is pickled for the parent.
    Any exception on a rank is written to ``error.<rank>`` and the job is aborted, so that no
    rank waits on it forever.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--payload" not in argv:
        raise SystemExit("usage: mpiexec -n N python -m <module> --payload DIR")
    workdir = Path(argv[argv.index("--payload") + 1])
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    (workdir / f"pid.{rank}").write_text(str(os.getpid()))
    try:
        with open(workdir / "common.pkl", "rb") as f:
            common = pickle.load(f)
        with open(workdir / f"rank.{rank}.pkl", "rb") as f:
            local = pickle.load(f)
        if comm.Get_size() != int(common.get("n_procs", comm.Get_size())):
            raise RuntimeError(f"the payload is for {common['n_procs']} processes, mpiexec started "
                               f"{comm.Get_size()}")
        worker = Worker(comm, common, local, workdir)
        result = body(worker)
        if rank == 0:
            tmp = workdir / "result.pkl.part"
            with open(tmp, "wb") as f:
                pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(workdir / "result.pkl")
        (workdir / f"done.{rank}").write_text("")
    except BaseException as exc:
        kind = "PeerFailure" if isinstance(exc, PeerFailure) else type(exc).__name__
        text = f"{kind}\n{traceback.format_exc()}\n{kind}: {exc}"
        try:  # written whole or not at all: the abort may kill this rank mid-write
            tmp = workdir / f"error-part.{rank}"
            tmp.write_text(text)
            tmp.replace(workdir / f"error.{rank}")
        finally:
            sys.stderr.write(f"[optsolve mpi rank {rank}] {kind}: {exc}\n")
            sys.stderr.flush()
            comm.Abort(1)
        return 1
    return 0


def standalone_main(prepare: Callable[[int], tuple[dict, list, Any]],
                    body: Callable[[Worker], Any], finish: Callable[[Any, Any], None]) -> int:
    """A run started by the user as ``mpiexec -n N python -m <module> [options]``.

    Rank 0 calls ``prepare(N)`` -> ``(common, per_rank, ctx)`` and writes the payload to a
    temporary directory (the ranks must share a file system: set ``TMPDIR`` to a shared path on
    a cluster); every rank then runs ``body`` on its own part exactly as under :func:`launch`,
    and rank 0 calls ``finish(result, ctx)``. An error while preparing aborts the job.
    """
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    workdir = None
    ctx = None
    if comm.Get_rank() == 0:
        try:
            common, per_rank, ctx = prepare(comm.Get_size())
            if len(per_rank) != comm.Get_size():
                raise RuntimeError(f"prepared {len(per_rank)} parts for {comm.Get_size()} ranks")
            common = dict(common, n_procs=comm.Get_size())
            workdir = tempfile.mkdtemp(prefix="optsolve-mpi-")
            with open(Path(workdir) / "common.pkl", "wb") as f:
                pickle.dump(common, f, protocol=pickle.HIGHEST_PROTOCOL)
            for r, payload in enumerate(per_rank):
                with open(Path(workdir) / f"rank.{r}.pkl", "wb") as f:
                    pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:
            sys.stderr.write(f"[optsolve mpi rank 0] {type(exc).__name__}: {exc}\n")
            sys.stderr.flush()
            comm.Abort(2)
    workdir = comm.bcast(workdir, root=0)
    rc = worker_main(body, ["--payload", workdir])
    if comm.Get_rank() == 0:
        try:
            if rc == 0:
                with open(Path(workdir) / "result.pkl", "rb") as f:
                    finish(pickle.load(f), ctx)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return rc


def add_problem_arguments(parser) -> None:
    """Command-line options describing a partitioned problem (shared by the MPI entry points)."""
    parser.add_argument("--data", default="synthetic",
                        help="'synthetic' or a LIBSVM data set name (a9a, w8a, ijcnn1...) "
                             "looked up in $OPTSOLVE_DATA")
    parser.add_argument("--samples", type=int, default=2000, help="synthetic: rows")
    parser.add_argument("--features", type=int, default=20, help="synthetic: columns")
    parser.add_argument("--loss", choices=("ridge", "logistic"), default="ridge")
    parser.add_argument("--reg", type=float, default=0.1,
                        help="regularization alpha of F = (1/N) sum loss + alpha/2 ||w||^2")
    parser.add_argument("--nodes", type=int, default=None,
                        help="graph nodes (default: one per MPI process)")
    parser.add_argument("--graph", default="cycle", help="optsolve.graphs.make_graph kind")
    parser.add_argument("--partition", choices=("iid", "sorted", "dirichlet"), default="iid")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the result to this .npz file")


def problem_from_arguments(args, n_procs: int):
    """``(problem, graph)`` from :func:`add_problem_arguments`' options (rank 0 only)."""
    from .graphs import make_graph
    from .problems.partitioned import DecentralizedProblem, partition_data

    n_nodes = n_procs if args.nodes is None else args.nodes
    if args.data == "synthetic":
        rng = np.random.default_rng(args.seed)
        X = rng.standard_normal((args.samples, args.features))
        z = X @ rng.standard_normal(args.features)
        y = np.sign(z) if args.loss == "logistic" else z + 0.1 * rng.standard_normal(z.size)
    else:
        from .datasets import load_libsvm

        X, y = load_libsvm(args.data)
    parts = partition_data(X, y, n_nodes, how=args.partition, random_state=args.seed)
    problem = (DecentralizedProblem.logistic if args.loss == "logistic"
               else DecentralizedProblem.ridge)(parts, args.reg)
    return problem, make_graph(args.graph, n_nodes, random_state=args.seed)


def save_result(path: str, result) -> None:
    """Write the arrays and numbers of an ``OptimizeResult`` to an ``.npz`` file."""
    fields = {k: np.asarray(v) for k, v in result.items()
              if isinstance(v, np.ndarray | int | float | str | bool | np.number)}
    for k, v in (result.get("history") or {}).items():
        fields[f"history_{k}"] = np.asarray(v)
    np.savez(path, **fields)


# --------------------------------------------------------------------------------------------
# self-test: a counter passed around a ring with the same bounded, non-blocking machinery
# --------------------------------------------------------------------------------------------


def _ring_body(w: Worker):
    n_rounds = int(w.common["n_rounds"])
    monitor = Monitor(w, 1, period=float(w.common.get("monitor_period", 0.02)))
    right, left = (w.rank + 1) % w.size, (w.rank - 1) % w.size
    token = np.zeros(1, dtype=np.int64)
    incoming = np.zeros(1, dtype=np.int64)
    n_messages = 0

    def serve():
        monitor.step(np.array([float(token[0])]))

    for _ in range(n_rounds):
        w.tick()
        # the receive is posted before the send: a rank may be its own neighbour
        recv = w.comm.Irecv(incoming, source=left, tag=1)
        if w.rank == 0:
            token[0] += 1
            send = w.comm.Isend(token, dest=right, tag=1)
            w.wait(recv, peer=left, what="the ring token", serve=serve)
            token[0] = incoming[0]
        else:
            w.wait(recv, peer=left, what="the ring token", serve=serve)
            token[0] = incoming[0] + 1
            send = w.comm.Isend(token, dest=right, tag=1)
        w.wait(send, peer=right, what="the ring token", serve=serve)
        n_messages += 1
    monitor.close()
    w.barrier(what="the final barrier")
    values = w.gather_object({"rank": w.rank, "token": int(token[0]), "n_messages": n_messages})
    if w.rank == 0:
        return {"token": int(token[0]), "ranks": values, "pid": os.getpid()}
    return None


def selftest(n_procs: int = 2, n_rounds: int = 10, *, timeout: float = 60.0,
             liveness_timeout: float = 10.0, env: dict | None = None) -> dict:
    """Pass a counter ``n_rounds`` times around a ring of ``n_procs`` MPI processes.

    Returns rank 0's record; the counter ends at ``n_rounds * n_procs``. Raises
    :class:`MPIRunError` when the run fails (which is what the failure tests provoke).
    """
    common = {"n_procs": n_procs, "n_rounds": n_rounds, "liveness_timeout": liveness_timeout}
    return launch("optsolve._mpi", common, [{} for _ in range(n_procs)], timeout=timeout, env=env)


if __name__ == "__main__":
    sys.exit(worker_main(_ring_body))
