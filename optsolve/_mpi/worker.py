"""Worker side: the payload a rank runs on, bounded non-blocking waits, the monitoring and
stopping channel to rank 0, and the two entry points (under :func:`.launch`, or started by
hand with ``mpiexec``)."""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .protocol import (
    CMD_CONTINUE,
    CMD_STOP,
    TAG_CONTROL,
    TAG_FINAL,
    TAG_MONITOR,
    TEST_HANG_ENV,
    TEST_KILL_ENV,
    PeerFailure,
)

__all__ = ["Monitor", "Worker", "standalone_main", "worker_main"]


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
