"""What the launcher, the workers and the engines agree on: environment variables, message
tags, commands and the two failure exceptions."""

from __future__ import annotations

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
