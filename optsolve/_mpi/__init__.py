"""One launcher and one worker harness for the MPI runs of the distributed families.

Both ``optsolve.decentralized`` (DADAO on MPI) and ``optsolve.randomwalk`` (token SGD on MPI)
run through this module; neither family imports the other.

The parent side (:func:`launch`) writes a payload to a private temporary directory — one
file of settings shared by every rank and one file per rank holding *only that rank's data* —
starts ``mpiexec -n N python -m <module> --payload DIR`` in a new session (its own process
group), waits with a hard wall-clock timeout, and reads back what rank 0 wrote. It never hangs:

* when a worker dies (signal, crash), the launcher sees it at once: it watches every worker's
  PID (a pidfd per worker, from the ``pid.<rank>`` file each writes at start-up) and names the
  first rank to vanish without having finished, then kills the rest. MPICH's hydra, which
  would kill the survivors in the same instant and then report an arbitrary one of them, is
  started with its auto-cleanup off;
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

``python -m optsolve._mpi.selftest --payload DIR`` runs the built-in ring self-test
(:func:`selftest`), which checks that an MPI installation works end to end.

Layout: :mod:`.protocol` (tags, commands, environment variables, exceptions), :mod:`.launcher`
(parent side), :mod:`.worker` (worker side), :mod:`.placement` (nodes to ranks, data slices),
:mod:`.cli` (options of the entry points started by hand), :mod:`.selftest`.
"""

from .cli import add_problem_arguments, problem_from_arguments, save_result
from .launcher import find_mpiexec, launch, mpi_available
from .placement import local_packed, node_owners, resolve_n_procs
from .protocol import (
    CMD_CONTINUE,
    CMD_STOP,
    MPIEXEC_ENV,
    TAG_CONTROL,
    TAG_FINAL,
    TAG_MONITOR,
    TAG_RESERVED,
    TEST_HANG_ENV,
    TEST_KILL_ENV,
    MPIRunError,
    PeerFailure,
)
from .selftest import selftest
from .worker import Monitor, Worker, standalone_main, worker_main

__all__ = [
    "CMD_CONTINUE",
    "CMD_STOP",
    "MPIEXEC_ENV",
    "TAG_CONTROL",
    "TAG_FINAL",
    "TAG_MONITOR",
    "TAG_RESERVED",
    "TEST_HANG_ENV",
    "TEST_KILL_ENV",
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
