"""numba kernels of the supernodal multifrontal LDLᵀ factorization (arrays and scalars only).

The matrix ``A`` (``N × N``, symmetric, already permuted by a fill-reducing ordering) is
passed as the full symmetric pattern in CSC (``Ap, Ai, Ax``, row indices sorted). The
factor is ``A = L D Lᵀ`` with ``L`` unit lower triangular, no pivoting (which exists for a
quasi-definite ``A``, Vanderbei 1995, for every ordering). Columns are grouped into
supernodes (consecutive columns of ``L`` whose structures nest, Liu, Ng & Peyton 1993), each
factorized as one dense frontal matrix of the multifrontal method (Duff & Reid 1983), whose
Schur complement update is a BLAS matrix product. Each kernel has a plain numpy reference in
``tests/constrained/test_ldl_kernels.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: columns of a frontal matrix eliminated per BLAS update (the panel width)
PANEL = 48
#: rows of the trailing upper triangle updated per matrix product
ROW_BLOCK = 128
#: a panel's update of fewer trailing entries (rows × columns) than this runs as scalar loops
#: (a matrix product's call and temporaries cost more there)
SCALAR_MAX = 512
#: a supernode's off-diagonal block enters the solves by one matrix-vector product from
#: this many entries on
GEMV_MIN = 256
#: relaxed amalgamation (Ashcraft & Grimes 1989, the thresholds of CHOLMOD): a supernode with
#: at most NRELAX[t] columns absorbs its last child while the fraction of explicit zeros in the
#: merged supernode stays at most ZRELAX[t]; any size merges below ZRELAX_BIG
NRELAX = (4, 16, 48)
ZRELAX = (1.0, 0.8, 0.1)
ZRELAX_BIG = 0.05


@njit(cache=True)
def etree(Ap, Ai):  # pragma: no cover
    """Elimination tree of the symmetric ``A`` (Liu 1986, with path compression):
    ``parent[j]`` is the row of the first off-diagonal nonzero of column ``j`` of ``L``,
    -1 for a root."""
    N = Ap.shape[0] - 1
    parent = np.full(N, -1, np.int64)
    ancestor = np.full(N, -1, np.int64)
    for k in range(N):
        for p in range(Ap[k], Ap[k + 1]):
            i = Ai[p]
            while i != -1 and i < k:
                inext = ancestor[i]
                ancestor[i] = k
                if inext == -1:
                    parent[i] = k
                i = inext
    return parent


@njit(cache=True)
def children_lists(parent):  # pragma: no cover
    """The children of every node of the forest ``parent`` as linked lists in increasing
    order: ``head[p]`` the first child of ``p`` (−1: none), ``nxt[c]`` the next sibling."""
    N = parent.shape[0]
    head = np.full(N, -1, np.int64)
    nxt = np.full(N, -1, np.int64)
    for j in range(N - 1, -1, -1):
        if parent[j] != -1:
            nxt[j] = head[parent[j]]
            head[parent[j]] = j
    return head, nxt


@njit(cache=True)
def postorder(parent):  # pragma: no cover
    """A postorder of the forest ``parent`` (children in increasing order, each subtree's
    nodes consecutive): ``post[k]`` is the ``k``-th node visited."""
    N = parent.shape[0]
    head, nxt = children_lists(parent)
    post = np.empty(N, np.int64)
    stack = np.empty(N, np.int64)
    k = 0
    for root in range(N):
        if parent[root] != -1:
            continue
        top = 0
        stack[0] = root
        while top >= 0:
            p = stack[top]
            c = head[p]
            if c == -1:
                top -= 1
                post[k] = p
                k += 1
            else:
                head[p] = nxt[c]
                top += 1
                stack[top] = c
    return post


@njit(cache=True)
def column_counts(Ap, Ai, parent):  # pragma: no cover
    """``count[j] = nnz(L[:, j])`` (diagonal included) by walking each row's subtree of the
    elimination tree: ``L[i, j] ≠ 0`` exactly for the ``j`` on the tree paths from the
    ``k < i`` with ``A[i, k] ≠ 0`` up to ``i`` (Liu 1986)."""
    N = Ap.shape[0] - 1
    count = np.ones(N, np.int64)
    mark = np.full(N, -1, np.int64)
    for i in range(N):
        mark[i] = i
        for p in range(Ap[i], Ap[i + 1]):
            j = Ai[p]
            if j >= i:
                continue
            while mark[j] != i:
                mark[j] = i
                count[j] += 1
                j = parent[j]
    return count


@njit(cache=True)
def supernodes(parent, count):  # pragma: no cover
    """Fundamental supernodes merged by relaxed amalgamation (module constants), for a
    postordered elimination tree. Returns ``(first, ncols, nrows)`` per supernode: its first
    column, its number of columns and of rows of its frontal matrix (columns included)."""
    N = parent.shape[0]
    nchild = np.zeros(N, np.int64)
    for j in range(N):
        if parent[j] != -1:
            nchild[parent[j]] += 1
    first = np.empty(N, np.int64)
    ncols = np.empty(N, np.int64)
    nrows = np.empty(N, np.int64)
    zeros = np.zeros(N, np.float64)
    ns = 0
    for j in range(N):
        if (j > 0 and parent[j - 1] == j and count[j - 1] == count[j] + 1
                and nchild[j] == 1):
            ncols[ns - 1] += 1
        else:
            first[ns] = j
            ncols[ns] = 1
            nrows[ns] = count[j]
            ns += 1
    # the supernode of every column, and each supernode's parent supernode
    col_sn = np.empty(N, np.int64)
    for s in range(ns):
        for j in range(first[s], first[s] + ncols[s]):
            col_sn[j] = s
    sparent = np.full(ns, -1, np.int64)
    for s in range(ns):
        last = first[s] + ncols[s] - 1
        if parent[last] != -1:
            sparent[s] = col_sn[parent[last]]
    alive = np.ones(ns, np.bool_)
    for s in range(ns):
        p = sparent[s]
        if p == -1 or first[s] + ncols[s] != first[p]:
            continue  # a root, or not the last child: merging would break contiguity
        k = ncols[s] + ncols[p]
        m = ncols[s] + nrows[p]
        stored = k * m - k * (k - 1) / 2.0
        own_s = ncols[s] * nrows[s] - ncols[s] * (ncols[s] - 1) / 2.0 - zeros[s]
        own_p = ncols[p] * nrows[p] - ncols[p] * (ncols[p] - 1) / 2.0 - zeros[p]
        z = stored - own_s - own_p
        frac = z / stored
        merge = False
        if k <= NRELAX[0]:
            merge = True
        elif k <= NRELAX[1]:
            merge = frac <= ZRELAX[1]
        elif k <= NRELAX[2]:
            merge = frac <= ZRELAX[2]
        else:
            merge = frac <= ZRELAX_BIG
        if merge:
            first[p] = first[s]
            ncols[p] = k
            nrows[p] = m
            zeros[p] = z
            alive[s] = False
    keep = np.flatnonzero(alive[:ns])
    return first[keep].copy(), ncols[keep].copy(), nrows[keep].copy()


@njit(cache=True, inline="always")
def _add_row(i, s, last, mark, rowind, pos, end):  # pragma: no cover
    """Append row ``i`` to supernode ``s``'s row list at ``pos`` when it lies below the
    supernode's columns and is not there yet; returns the next position (counted past
    ``end`` too, so that a wrong row count shows)."""
    if i > last and mark[i] != s:
        mark[i] = s
        if pos < end:
            rowind[pos] = i
        pos += 1
    return pos


@njit(cache=True)
def supernode_structure(Ap, Ai, parent, first, ncols, nrows):  # pragma: no cover
    """Row indices of every supernode's frontal matrix, its columns then the sorted rows
    below: ``rowind[rowptr[s]:rowptr[s + 1]]``. The rows below supernode ``S`` are those of
    ``A``'s columns in ``S`` and of ``S``'s children's rows, beyond ``S``'s last column.
    Returns ``(rowptr, rowind, sparent, ok)``; ``ok`` is False if a count disagrees."""
    N = parent.shape[0]
    ns = first.shape[0]
    col_sn = np.empty(N, np.int64)
    for s in range(ns):
        for j in range(first[s], first[s] + ncols[s]):
            col_sn[j] = s
    sparent = np.full(ns, -1, np.int64)
    head = np.full(ns, -1, np.int64)
    nxt = np.full(ns, -1, np.int64)
    for s in range(ns - 1, -1, -1):
        last = first[s] + ncols[s] - 1
        if parent[last] != -1:
            p = col_sn[parent[last]]
            sparent[s] = p
            nxt[s] = head[p]
            head[p] = s
    rowptr = np.zeros(ns + 1, np.int64)
    for s in range(ns):
        rowptr[s + 1] = rowptr[s] + nrows[s]
    rowind = np.empty(rowptr[ns], np.int64)
    mark = np.full(N, -1, np.int64)
    ok = True
    for s in range(ns):
        f = first[s]
        last = f + ncols[s] - 1
        pos = rowptr[s]
        for j in range(f, last + 1):
            rowind[pos] = j
            pos += 1
        start = pos
        for j in range(f, last + 1):
            for p in range(Ap[j], Ap[j + 1]):
                pos = _add_row(Ai[p], s, last, mark, rowind, pos, rowptr[s + 1])
        c = head[s]
        while c != -1:
            for t in range(rowptr[c] + ncols[c], rowptr[c + 1]):
                pos = _add_row(rowind[t], s, last, mark, rowind, pos, rowptr[s + 1])
            c = nxt[c]
        if pos != rowptr[s + 1]:
            ok = False
            break
        rowind[start:pos] = np.sort(rowind[start:pos])
    return rowptr, rowind, sparent, ok


@njit(cache=True)
def _partial_ldl(G, k, m, d, panel, row_block):  # pragma: no cover
    """Eliminate the first ``k`` of the ``m`` rows of the frontal matrix ``G`` (upper
    triangle, row ``j`` holding column ``j`` of the lower): rows ``0..k`` become the rows of
    the unit ``Lᵀ``, ``d`` the pivots, ``G[k:, k:]`` the Schur complement
    ``G₂₂ − L₂₁ D L₂₁ᵀ``. Right-looking in panels of ``PANEL`` columns: the panel's diagonal
    block ``L₁₁ D₁ L₁₁ᵀ`` by scalar loops, then ``W = L₁₁⁻¹ A₁₂`` (``= D₁ L₂₁ᵀ``) and the
    trailing update ``A₂₂ −= Wᵀ D₁⁻¹ W`` (upper triangle, in row blocks) as matrix products.
    False on a zero or non-finite pivot."""
    for j0 in range(0, k, panel):
        j1 = min(j0 + panel, k)
        b = j1 - j0
        for j in range(j0, j1):
            dj = G[j, j]
            if not (dj != 0.0 and np.isfinite(dj)):
                return False
            d[j] = dj
            for c in range(j + 1, j1):
                f = G[j, c] / dj
                if f != 0.0:
                    for i in range(c, j1):
                        G[c, i] -= f * G[j, i]
            inv = 1.0 / dj
            for i in range(j + 1, j1):
                G[j, i] *= inv
        r = m - j1
        if r == 0:
            continue
        if r * b < SCALAR_MAX:
            # small: W row by row (forward substitution with the unit L₁₁), then the update
            for jj in range(j0, j1):
                for c in range(jj + 1, j1):
                    f = G[jj, c]
                    if f != 0.0:
                        for i in range(j1, m):
                            G[c, i] -= f * G[jj, i]
            for c in range(j1, m):
                for jj in range(j0, j1):
                    f = G[jj, c] / d[jj]
                    if f != 0.0:
                        for i in range(c, m):
                            G[c, i] -= f * G[jj, i]
            for jj in range(j0, j1):
                inv = 1.0 / d[jj]
                for i in range(j1, m):
                    G[jj, i] *= inv
            continue
        # L₁₁⁻¹ (unit lower; L₁₁[c, jj] = G[j0 + jj, j0 + c]) by columns
        Linv = np.zeros((b, b))
        for c in range(b):
            Linv[c, c] = 1.0
            for i in range(c + 1, b):
                acc = 0.0
                for jj in range(c, i):
                    acc -= G[j0 + jj, j0 + i] * Linv[jj, c]
                Linv[i, c] = acc
        W = np.dot(Linv, np.ascontiguousarray(G[j0:j1, j1:m]))
        V = W / d[j0:j1].reshape((b, 1))
        G[j0:j1, j1:m] = V
        Vt = np.ascontiguousarray(V.T)
        for a0 in range(0, r, row_block):
            a1 = min(a0 + row_block, r)
            G[j1 + a0:j1 + a1, j1 + a0:m] -= np.dot(Vt[a0:a1], np.ascontiguousarray(W[:, a0:r]))
    return True


@njit(cache=True)
def multifrontal_ldl(Ap, Ai, Ax, first, ncols, rowptr, rowind, sparent, lptr, stack_size,
                     max_rows, panel=PANEL, row_block=ROW_BLOCK):  # pragma: no cover
    """Numeric multifrontal LDLᵀ of ``A`` on the given supernodes (postordered). Supernode
    ``s``'s frontal matrix gathers ``A``'s entries of its columns and its children's update
    matrices (extend-add), eliminates its ``ncols[s]`` columns (``_partial_ldl``) and pushes
    its Schur complement on a stack that its parent pops. Returns ``(Lt, d, ok)``: the rows of
    ``Lᵀ`` of every supernode (``ncols[s] × nrows[s]`` row-major from ``lptr[s]``) and ``D``."""
    N = Ap.shape[0] - 1
    ns = first.shape[0]
    Lt = np.empty(lptr[ns], np.float64)
    d = np.zeros(N, np.float64)
    stack = np.empty(max(stack_size, 1), np.float64)
    soff = np.zeros(ns, np.int64)
    work = np.empty(max_rows * max_rows, np.float64)
    loc = np.empty(N, np.int64)
    rel = np.empty(max(max_rows, 1), np.int64)
    head, nxt = children_lists(sparent)
    top = 0
    for s in range(ns):
        f = first[s]
        k = ncols[s]
        r0 = rowptr[s]
        m = rowptr[s + 1] - r0
        for t in range(m):
            loc[rowind[r0 + t]] = t
        G = work[: m * m].reshape((m, m))
        for a in range(m):  # only the upper triangle is read
            G[a, a:] = 0.0
        for jj in range(k):
            j = f + jj
            for p in range(Ap[j], Ap[j + 1]):
                i = Ai[p]
                if i >= j:
                    G[jj, loc[i]] += Ax[p]
        c = head[s]
        low = top
        while c != -1:
            kc = ncols[c]
            base_r = rowptr[c] + kc
            u = rowptr[c + 1] - base_r
            base = soff[c]
            for a in range(u):
                rel[a] = loc[rowind[base_r + a]]
            for a in range(u):
                la = rel[a]
                row = base + a * u
                for bb in range(a, u):
                    G[la, rel[bb]] += stack[row + bb]
            if base < low:
                low = base
            c = nxt[c]
        top = low
        if not _partial_ldl(G, k, m, d[f: f + k], panel, row_block):
            return Lt, d, False
        pos = lptr[s]
        for jj in range(k):
            Lt[pos: pos + jj] = 0.0  # below the diagonal: the solves' products read zeros
            Lt[pos + jj: pos + m] = G[jj, jj:]
            pos += m
        u = m - k
        if u > 0:
            soff[s] = top
            for a in range(u):
                stack[top + a * u + a: top + (a + 1) * u] = G[k + a, k + a:m]
            top += u * u
    return Lt, d, True


@njit(cache=True)
def stack_peak(ncols, nrows, sparent):  # pragma: no cover
    """Largest total size of the update matrices held at once by ``multifrontal_ldl``."""
    ns = ncols.shape[0]
    top = 0
    peak = 0
    pushed = np.zeros(ns, np.int64)  # the stack height below each pushed update matrix
    low = np.full(ns, -1, np.int64)  # lowest offset among each supernode's children
    for s in range(ns):
        if low[s] != -1:
            top = low[s]
        u = nrows[s] - ncols[s]
        pushed[s] = top
        if u > 0:
            p = sparent[s]
            if p != -1 and (low[p] == -1 or top < low[p]):
                low[p] = top
            top += u * u
            if top > peak:
                peak = top
    return peak


@njit(cache=True)
def supernodal_solve(first, ncols, rowptr, rowind, lptr, Lt, d, x):  # pragma: no cover
    """``x ← (L D Lᵀ)⁻¹ x`` in place: forward substitution with ``L``, the diagonal, back
    substitution with ``Lᵀ``, supernode by supernode; the rows below a large supernode's
    columns are updated by one matrix-vector product."""
    ns = first.shape[0]
    for s in range(ns):
        f = first[s]
        k = ncols[s]
        r0 = rowptr[s]
        m = rowptr[s + 1] - r0
        base = lptr[s]
        for jj in range(k):
            xj = x[f + jj]
            if xj != 0.0:
                row = base + jj * m
                for t in range(jj + 1, k):
                    x[f + t] -= Lt[row + t] * xj
        if m == k:
            continue
        if k * (m - k) >= GEMV_MIN:
            B = Lt[base: base + k * m].reshape((k, m))
            y = np.dot(np.ascontiguousarray(x[f: f + k]), B)
            for t in range(k, m):
                x[rowind[r0 + t]] -= y[t]
        else:
            for jj in range(k):
                xj = x[f + jj]
                if xj != 0.0:
                    row = base + jj * m
                    for t in range(k, m):
                        x[rowind[r0 + t]] -= Lt[row + t] * xj
    for j in range(x.shape[0]):
        x[j] /= d[j]
    for s in range(ns - 1, -1, -1):
        f = first[s]
        k = ncols[s]
        r0 = rowptr[s]
        m = rowptr[s + 1] - r0
        base = lptr[s]
        if m > k and k * (m - k) >= GEMV_MIN:
            B = Lt[base: base + k * m].reshape((k, m))
            xb = np.zeros(m)
            for t in range(k, m):
                xb[t] = x[rowind[r0 + t]]
            y = np.dot(B, xb)
            for jj in range(k):
                x[f + jj] -= y[jj]
        elif m > k:
            for jj in range(k):
                row = base + jj * m
                acc = 0.0
                for t in range(k, m):
                    acc += Lt[row + t] * x[rowind[r0 + t]]
                x[f + jj] -= acc
        for jj in range(k - 1, -1, -1):
            row = base + jj * m
            acc = x[f + jj]
            for t in range(jj + 1, k):
                acc -= Lt[row + t] * x[f + t]
            x[f + jj] = acc


@njit(cache=True)
def peel_pendants(Ap, Ai):  # pragma: no cover
    """Repeatedly remove the vertices of degree at most one from the graph of ``A`` (diagonal
    ignored). Eliminating a vertex of degree at most one creates no fill, so the removed
    vertices, in removal order, start a zero-fill ordering; the rest is the graph's 2-core,
    which pendant rows (bounds) leave unchanged. Returns ``(order, removed)``."""
    N = Ap.shape[0] - 1
    deg = np.zeros(N, np.int64)
    for v in range(N):
        for p in range(Ap[v], Ap[v + 1]):
            if Ai[p] != v:
                deg[v] += 1
    queued = np.zeros(N, np.bool_)
    queue = np.empty(N, np.int64)
    head = 0
    tail = 0
    for v in range(N):
        if deg[v] <= 1:
            queued[v] = True
            queue[tail] = v
            tail += 1
    removed = np.zeros(N, np.bool_)
    while head < tail:
        v = queue[head]
        head += 1
        removed[v] = True
        for p in range(Ap[v], Ap[v + 1]):
            w = Ai[p]
            if w != v and not removed[w]:
                deg[w] -= 1
                if deg[w] <= 1 and not queued[w]:
                    queued[w] = True
                    queue[tail] = w
                    tail += 1
    return queue[:tail].copy(), removed


@njit(cache=True)
def match_dual_rows(Ap, Ai, Ax, n_primal):  # pragma: no cover
    """Greedy matching of every constraint row ``v >= n_primal`` to an unmatched variable
    ``w < n_primal`` with the largest ``|A[v, w]|``: ``mate[v] = w``, ``mate[w] = v``, -1 for
    the unmatched. Ordering each pair variable-first keeps the constraint's pivot away from
    its regularization ``−δ`` (``−δ − a²/b``): eliminating a constraint row before its
    variables divides by ``−δ`` and loses digits (Duff & Pralet 2005 order such pairs as
    blocks)."""
    N = Ap.shape[0] - 1
    mate = np.full(N, -1, np.int64)
    for v in range(n_primal, N):
        best = -1
        big = 0.0
        for p in range(Ap[v], Ap[v + 1]):
            w = Ai[p]
            if w < n_primal and mate[w] == -1 and abs(Ax[p]) > big:
                big = abs(Ax[p])
                best = w
        if best != -1:
            mate[v] = best
            mate[best] = v
    return mate


@njit(cache=True)
def ruiz_sweeps(Ap, Ai, Ax, max_sweeps, tol):  # pragma: no cover
    """Ruiz's symmetric equilibration in place: each sweep scales ``A ← S A S`` with
    ``S = diag(1/√rmax_i)``, ``rmax_i = max_j |A_ij|`` (1 for an empty or zero row), until
    ``max_i |rmax_i − 1| < tol`` or ``max_sweeps`` sweeps; returns the product ``d`` of the
    ``S`` (``Ax`` becomes ``D A D``)."""
    N = Ap.shape[0] - 1
    d = np.ones(N)
    s = np.empty(N)
    for _ in range(max_sweeps):
        worst = 0.0
        for i in range(N):
            r = 0.0
            for p in range(Ap[i], Ap[i + 1]):
                a = abs(Ax[p])
                if a > r:
                    r = a
            if r == 0.0:
                r = 1.0
            if abs(r - 1.0) > worst:
                worst = abs(r - 1.0)
            s[i] = 1.0 / np.sqrt(r)
        if worst < tol:
            break
        for i in range(N):
            for p in range(Ap[i], Ap[i + 1]):
                Ax[p] *= s[i] * s[Ai[p]]
            d[i] *= s[i]
    return d
