"""Parent side: find mpiexec, write the payload, start ``mpiexec -n N python -m <module>``,
watch every worker, diagnose an abnormal end, and never hang (see :mod:`optsolve._mpi`)."""

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .protocol import MPIEXEC_ENV, MPIRunError

__all__ = ["find_mpiexec", "launch", "mpi_available"]

logger = logging.getLogger("optsolve.mpi")


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
    return str(Path(__file__).resolve().parent.parent.parent)


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
