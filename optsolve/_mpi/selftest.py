"""The ring self-test: a counter passed around the ranks with the same bounded, non-blocking
machinery the engines use (``python -m optsolve._mpi.selftest --payload DIR`` is its worker).
It checks that an MPI installation works end to end, and the failure tests provoke it."""

from __future__ import annotations

import os
import sys

import numpy as np

from .launcher import launch
from .worker import Monitor, Worker, worker_main

__all__ = ["selftest"]


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
    return launch("optsolve._mpi.selftest", common, [{} for _ in range(n_procs)],
                  timeout=timeout, env=env)


if __name__ == "__main__":
    sys.exit(worker_main(_ring_body))
