"""numba kernels of forest-structured block coordinate descent (arrays and scalars only).

The matrix ``A`` is passed as CSR arrays ``(indptr, indices, data)`` of a symmetric matrix whose
diagonal entries are stored. A *block* is an int64 array of node indices; ``pos`` is an int64
workspace of length ``n`` holding ``-1`` everywhere except, while a kernel runs, at block nodes.
Every kernel leaves its workspaces as it found them (``pos``, ``uf`` back to ``-1``).

Plain numpy references of these kernels live in the tests: ``np.linalg.solve`` on the dense
block for the elimination, a sort-then-union-find loop for the greedy growth, and a BFS
colouring / cycle check for the partitions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# the indexed max-heap is shared with the core BCD kernels (one implementation)
from .._kernels import _sift_down, _sift_up

#: xorshift64 shifts (Marsaglia 2003): only shifts and xors on uint64, which wrap silently with
#: or without the JIT; a bounded draw is a multiply-shift of 31 random bits (no division)
XORSHIFT_SHIFTS = (13, 7, 17)

MODE_GREEDY = 0
MODE_RANDOM = 1
MODE_CYCLIC = 2

SOLVE_OK = 0
SOLVE_CYCLE = 1
SOLVE_NOT_PD = 2


@njit(cache=True)
def forest_factor(indptr, indices, data, diag, block, m, pos, order, parent, pweight, pivot):
    """Elimination order and pivots of ``A[B, B]`` for a forest block ``B = block[:m]``.

    BFS over the block's edges gives ``order`` (roots first, parents before children),
    ``parent`` (block position of the parent, ``-1`` at roots) and ``pweight`` (the entry
    ``A[v, parent(v)]``); eliminating leaves -> roots then gives the ``pivot`` of every node.
    No fill-in occurs on a forest. Returns ``SOLVE_OK``, ``SOLVE_CYCLE`` when the block's
    induced graph has a cycle, or ``SOLVE_NOT_PD`` when a pivot is not positive.
    """
    for t in range(m):
        pos[block[t]] = t
        parent[t] = -2  # unvisited
    status = SOLVE_OK
    qend = 0
    for t0 in range(m):
        if parent[t0] != -2:
            continue
        parent[t0] = -1
        order[qend] = t0
        qhead = qend
        qend += 1
        while qhead < qend and status == SOLVE_OK:
            t = order[qhead]
            qhead += 1
            v = block[t]
            for e in range(indptr[v], indptr[v + 1]):
                u = indices[e]
                if u == v:
                    continue
                s = pos[u]
                if s < 0 or s == parent[t]:
                    continue
                if parent[s] != -2:
                    status = SOLVE_CYCLE
                    break
                parent[s] = t
                pweight[s] = data[e]
                order[qend] = s
                qend += 1
        if status != SOLVE_OK:
            break
    for t in range(m):
        pos[block[t]] = -1
    if status != SOLVE_OK:
        return status
    for t in range(m):
        pivot[t] = diag[block[t]]
    for q in range(m - 1, -1, -1):  # leaves -> roots
        t = order[q]
        if pivot[t] <= 0.0:
            return SOLVE_NOT_PD
        p = parent[t]
        if p >= 0:
            pivot[p] -= pweight[t] * pweight[t] / pivot[t]
    return SOLVE_OK


@njit(cache=True)
def forest_substitute(order, parent, pweight, pivot, m, rhs, out):
    """Solve with a factor from :func:`forest_factor`: messages leaves -> roots, then
    back-substitution roots -> leaves, ``O(m k)``. ``rhs`` (``(>= m, k)``) is overwritten."""
    k = rhs.shape[1]
    for q in range(m - 1, -1, -1):
        t = order[q]
        p = parent[t]
        if p >= 0:
            c = pweight[t] / pivot[t]
            for j in range(k):
                rhs[p, j] -= c * rhs[t, j]
    for q in range(m):
        t = order[q]
        p = parent[t]
        if p >= 0:
            for j in range(k):
                out[t, j] = (rhs[t, j] - pweight[t] * out[p, j]) / pivot[t]
        else:
            for j in range(k):
                out[t, j] = rhs[t, j] / pivot[t]


@njit(cache=True)
def forest_solve(indptr, indices, data, diag, block, m, pos, rhs, out, order, parent, pweight,
                 pivot):
    """Solve ``A[B, B] out = rhs`` for a block ``B = block[:m]`` whose graph is a forest.

    Gaussian elimination ordered leaves -> roots, then back-substitution roots -> leaves (message
    passing, Section 5 of Nutini et al. 2022): ``O(m k)`` work after a BFS over the block's
    edges. ``rhs`` (shape ``(>= m, k)``) is overwritten; ``order``, ``parent``, ``pweight``,
    ``pivot`` are workspaces of length ``>= m``. Returns the status of :func:`forest_factor`.
    """
    status = forest_factor(indptr, indices, data, diag, block, m, pos, order, parent, pweight,
                           pivot)
    if status == SOLVE_OK:
        forest_substitute(order, parent, pweight, pivot, m, rhs, out)
    return status


# ---------------------------------------------------------------- union-find forest growth
# ``uf[u] == -1``: u is not in the forest; ``uf[r] = -(1 + size)`` (<= -2) at a tree's root;
# ``uf[u] = parent`` (>= 0) otherwise. Union by size plus path compression keeps finds short.
@njit(cache=True)
def _uf_find(uf, v):
    root = v
    while uf[root] >= 0:
        root = uf[root]
    while v != root:  # path compression
        nxt = uf[v]
        uf[v] = root
        v = nxt
    return root


@njit(cache=True)
def _uf_union(uf, ra, rb):
    """Link the smaller of the trees rooted at ``ra`` != ``rb`` under the larger one."""
    if uf[ra] > uf[rb]:  # sizes are stored negated: make ra the larger tree
        ra, rb = rb, ra
    uf[ra] += uf[rb] + 1  # -(1 + sa) + -(1 + sb) + 1 = -(1 + sa + sb)
    uf[rb] = ra


@njit(cache=True)
def try_add_to_forest(indptr, indices, uf, mark, stamp, v):
    """Add node ``v`` to the forest held in ``uf`` unless that closes a cycle; True if added.

    ``uf[u] != -1`` marks forest nodes. ``v`` closes a cycle exactly when two of its forest
    neighbours share a tree. ``mark`` / ``stamp`` detect repeated roots without allocating; the
    caller passes a fresh ``stamp`` for every call. A node with at most one forest neighbour
    cannot close a cycle: it is added without any find (most nodes, on sparse graphs).
    """
    n_inside = 0
    last = -1
    for e in range(indptr[v], indptr[v + 1]):
        u = indices[e]
        if u != v and uf[u] != -1:
            n_inside += 1
            last = u
    if n_inside == 0:
        uf[v] = -2
        return True
    if n_inside == 1:
        uf[v] = last  # a leaf under its only forest neighbour (root sizes stay heuristics)
        return True
    for e in range(indptr[v], indptr[v + 1]):
        u = indices[e]
        if u == v or uf[u] == -1:
            continue
        r = _uf_find(uf, u)
        if mark[r] == stamp:
            return False
        mark[r] = stamp
    uf[v] = -2
    for e in range(indptr[v], indptr[v + 1]):
        u = indices[e]
        if u == v or uf[u] == -1:
            continue
        ru = _uf_find(uf, u)
        rv = _uf_find(uf, v)
        if ru != rv:
            _uf_union(uf, ru, rv)
    return True


# ---------------------------------------------------------------- indexed binary max-heap
@njit(cache=True)
def heap_build(heap, where, key, n):
    """Heapify nodes ``0..n-1`` by ``key`` (O(n)); returns the heap size."""
    for i in range(n):
        heap[i] = i
        where[i] = i
    for i in range(n // 2 - 1, -1, -1):
        _sift_down(key, heap, where, i, n)
    return n


@njit(cache=True)
def _heap_pop(heap, where, key, size):
    v = heap[0]
    where[v] = -1
    size -= 1
    if size > 0:
        heap[0] = heap[size]
        where[heap[0]] = 0
        _sift_down(key, heap, where, 0, size)
    return v, size


@njit(cache=True)
def _heap_push(heap, where, key, size, v):
    heap[size] = v
    where[v] = size
    _sift_up(key, heap, where, size)
    return size + 1


@njit(cache=True)
def _heap_set_key(heap, where, key, size, v, new_key):
    old = key[v]
    key[v] = new_key
    if where[v] >= 0:
        if new_key > old:
            _sift_up(key, heap, where, where[v])
        else:
            _sift_down(key, heap, where, where[v], size)


@njit(cache=True)
def _score(g, scale, u):
    s = 0.0
    for j in range(g.shape[1]):
        s += g[u, j] * g[u, j]
    return np.sqrt(s) * scale[u]


@njit(cache=True)
def gradient_scores(g, scale, key):
    """``key[u] = ||g[u, :]|| * scale[u]`` for every node (the GS / GSL score)."""
    for u in range(g.shape[0]):
        key[u] = _score(g, scale, u)


# ---------------------------------------------------------------- the BCD iterations
@njit(cache=True)
def _random_below(rstate, bound):
    """Uniform int in ``[0, bound)`` (``bound < 2**31``) from the xorshift64 state ``rstate[0]``."""
    x = rstate[0]
    x ^= x << np.uint64(13)
    x ^= x >> np.uint64(7)
    x ^= x << np.uint64(17)
    rstate[0] = x
    return (np.int64(x >> np.uint64(33)) * bound) >> 31


@njit(cache=True)
def forest_bcd_iterations(mode, n_steps, max_block, tol_sq,
                          indptr, indices, data, diag, scale,
                          part_ptr, part_nodes, part_order, part_parent, part_pweight, part_pivot,
                          x, g, fstate, istate, rstate,
                          block, pos, uf, mark, touched, popped, perm,
                          heap, where, key,
                          order, parent, pweight, pivot, rhs, delta,
                          fun_trace, gsq_trace):
    """Run up to ``n_steps`` block updates in place on ``x`` and the gradient ``g = A x - b``.

    Each iteration selects a forest block (``mode``: greedy growth by score from the max-heap,
    random growth by a lazily drawn permutation, or the next block of a fixed partition), solves
    the block exactly by message passing and updates ``x``, ``g``, the objective and ``||g||^2``
    on the touched rows only. ``fstate = [f, ||g||^2]``, ``istate = [unused, next part, stamp,
    heap size]`` and the uint64 xorshift state ``rstate`` carry state between calls. Stops early
    once ``||g||^2 <= tol_sq``. Returns
    ``(iterations done, size of the last block, solve status)``; the last block is ``block[:m]``.
    """
    n = x.shape[0]
    k = x.shape[1]
    n_parts = part_ptr.shape[0] - 1
    m = 0
    lo = 0
    for it in range(n_steps):
        if fstate[1] <= tol_sq:
            return it, m, SOLVE_OK
        # ---- select a forest block
        m = 0
        n_popped = 0
        if mode == MODE_GREEDY and max_block >= n:
            # unbounded blocks examine every node and nearly every key changed since the last
            # pass, so one sort (O(n log n), contiguous) beats n heap pops (same order)
            ranked = np.argsort(-key)
            for q in range(n):
                v = ranked[q]
                istate[2] += 1
                if try_add_to_forest(indptr, indices, uf, mark, istate[2], v):
                    block[m] = v
                    m += 1
        elif mode == MODE_GREEDY:
            size = istate[3]
            while size > 0 and m < max_block:
                v, size = _heap_pop(heap, where, key, size)
                popped[n_popped] = v
                n_popped += 1
                istate[2] += 1
                if try_add_to_forest(indptr, indices, uf, mark, istate[2], v):
                    block[m] = v
                    m += 1
            istate[3] = size
        elif mode == MODE_RANDOM:
            t = 0
            while t < n and m < max_block:
                j = t + _random_below(rstate, n - t)
                v = perm[j]
                perm[j] = perm[t]
                perm[t] = v
                t += 1
                istate[2] += 1
                if try_add_to_forest(indptr, indices, uf, mark, istate[2], v):
                    block[m] = v
                    m += 1
        else:
            c = istate[1]
            lo = part_ptr[c]
            for q in range(lo, part_ptr[c + 1]):
                block[m] = part_nodes[q]
                m += 1
            istate[1] = (c + 1) % n_parts
        for t in range(m):
            uf[block[t]] = -1
        # ---- exact block solve: A_BB delta = -g_B
        for t in range(m):
            for j in range(k):
                rhs[t, j] = -g[block[t], j]
        if mode == MODE_CYCLIC:  # fixed blocks: factors computed once, before the iterations
            hi = lo + m
            forest_substitute(part_order[lo:hi], part_parent[lo:hi], part_pweight[lo:hi],
                              part_pivot[lo:hi], m, rhs, delta)
        else:
            status = forest_solve(indptr, indices, data, diag, block, m, pos, rhs, delta, order,
                                  parent, pweight, pivot)
            if status != SOLVE_OK:
                return it, m, status
        # ---- update x, f (exact decrease 1/2 g_B' delta), g and ||g||^2 on touched rows
        dec = 0.0
        for t in range(m):
            v = block[t]
            for j in range(k):
                x[v, j] += delta[t, j]
                dec += g[v, j] * delta[t, j]
        fstate[0] += 0.5 * dec
        istate[2] += 1
        stamp = istate[2]
        n_touched = 0
        gsq = fstate[1]
        for t in range(m):
            v = block[t]
            for e in range(indptr[v], indptr[v + 1]):
                u = indices[e]
                if mark[u] != stamp:
                    mark[u] = stamp
                    touched[n_touched] = u
                    n_touched += 1
                    for j in range(k):
                        gsq -= g[u, j] * g[u, j]
                a = data[e]
                for j in range(k):
                    g[u, j] += a * delta[t, j]
        for q in range(n_touched):
            u = touched[q]
            for j in range(k):
                gsq += g[u, j] * g[u, j]
        fstate[1] = max(gsq, 0.0)
        # ---- keep the scores of touched rows current
        if mode == MODE_GREEDY and max_block >= n:
            for q in range(n_touched):
                u = touched[q]
                key[u] = _score(g, scale, u)
        elif mode == MODE_GREEDY:
            size = istate[3]
            if size == 0:  # every node was popped: O(n) heapify
                for q in range(n_touched):
                    u = touched[q]
                    key[u] = _score(g, scale, u)
                size = heap_build(heap, where, key, n)
            else:
                for q in range(n_popped):
                    v = popped[q]
                    key[v] = _score(g, scale, v)
                    size = _heap_push(heap, where, key, size, v)
                for q in range(n_touched):
                    u = touched[q]
                    _heap_set_key(heap, where, key, size, u, _score(g, scale, u))
            istate[3] = size
        fun_trace[it] = fstate[0]
        gsq_trace[it] = fstate[1]
    return n_steps, m, SOLVE_OK


# ---------------------------------------------------------------- fixed partitions
@njit(cache=True)
def greedy_forest_partition(indptr, indices, visit, forest_of, uf, mark):
    """Assign every node (in ``visit`` order) to the first forest it keeps acyclic.

    Writes ``forest_of`` in place and returns the number of forests. ``uf`` (all ``-1``) and
    ``mark`` (all ``0``) are workspaces of length ``n``. Edges only join nodes of one forest to
    the union-find, so a single ``uf`` array serves all forests.
    """
    n_forests = 0
    stamp = 0
    for q in range(visit.shape[0]):
        v = visit[q]
        f = 0
        while True:
            stamp += 1
            ok = True
            for e in range(indptr[v], indptr[v + 1]):
                u = indices[e]
                if u == v or uf[u] == -1 or forest_of[u] != f:
                    continue
                r = _uf_find(uf, u)
                if mark[r] == stamp:
                    ok = False
                    break
                mark[r] = stamp
            if ok:
                break
            f += 1
        forest_of[v] = f
        uf[v] = -2
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            if u == v or uf[u] == -1 or forest_of[u] != f:
                continue
            ru = _uf_find(uf, u)
            rv = _uf_find(uf, v)
            if ru != rv:
                _uf_union(uf, ru, rv)
        if f + 1 > n_forests:
            n_forests = f + 1
    return n_forests


@njit(cache=True)
def greedy_coloring(indptr, indices, visit, color, mark):
    """Greedy (first-fit) vertex colouring in ``visit`` order; colour classes are independent.

    ``color`` must be all ``-1``; ``mark`` all ``-1``. Returns the number of colours.
    """
    n_colors = 0
    for q in range(visit.shape[0]):
        v = visit[q]
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            if u != v and color[u] >= 0:
                mark[color[u]] = v
        c = 0
        while mark[c] == v:
            c += 1
        color[v] = c
        if c + 1 > n_colors:
            n_colors = c + 1
    return n_colors
