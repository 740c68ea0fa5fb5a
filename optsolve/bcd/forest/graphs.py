"""Graphs for label propagation: lattices, k-NN and RBF affinities, and the harmonic system.

The harmonic-function problem (Zhu, Ghahramani & Lafferty 2003) clamps the labelled nodes and
minimises ``sum_ij w_ij (f_i - f_j)^2`` over the unlabelled ones, i.e. solves
``L_uu F_u = W_ul Y_l`` with ``L = D - W`` the graph Laplacian. ``L_uu`` is positive definite
exactly when every connected component holds a labelled node.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "affinity_graph",
    "harmonic_system",
    "label_propagation_lattice",
    "lattice_graph",
]

#: RBF weights below this fraction of the largest one are dropped so that the graph stays
#: sparse enough for forest blocks; their effect on the harmonic solution is of that order
RBF_RELATIVE_CUTOFF = 1e-12


def lattice_graph(shape: tuple[int, int]) -> sp.csr_matrix:
    """Unit-weight 4-neighbour lattice of ``h × w`` nodes numbered row-major.

    Examples
    --------
    >>> from optsolve.bcd.forest import lattice_graph
    >>> lattice_graph((2, 2)).toarray().astype(int).tolist()
    [[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 0]]
    """
    h, w = (int(s) for s in shape)
    if h < 1 or w < 1:
        raise ValueError(f"shape must hold two positive sizes, got {shape}")
    idx = np.arange(h * w).reshape(h, w)
    right = (idx[:, :-1].ravel(), idx[:, 1:].ravel())
    down = (idx[:-1, :].ravel(), idx[1:, :].ravel())
    rows = np.concatenate([right[0], down[0]])
    cols = np.concatenate([right[1], down[1]])
    W = sp.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(h * w, h * w))
    return (W + W.T).tocsr()


def affinity_graph(X, kernel: str = "knn", *, n_neighbors: int = 7, gamma: float = 20.0):
    """Symmetric sparse affinity ``W`` (zero diagonal) of the rows of ``X``.

    ``'knn'``: ``w_ij = 1`` when ``j`` is among the ``n_neighbors`` nearest neighbours of ``i``
    or ``i`` among those of ``j`` (clipped to ``n_samples - 1``). ``'rbf'``:
    ``w_ij = exp(-gamma ||x_i - x_j||^2)``, dropping weights below ``RBF_RELATIVE_CUTOFF``.

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.bcd.forest import affinity_graph
    >>> W = affinity_graph(np.arange(4.0)[:, None], n_neighbors=1)
    >>> W.toarray().astype(int).tolist()
    [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]]
    """
    n = X.shape[0]
    if kernel == "knn":
        from sklearn.neighbors import NearestNeighbors

        k = min(int(n_neighbors), n - 1)
        if k < 1:
            return sp.csr_matrix((n, n))
        K = NearestNeighbors(n_neighbors=k).fit(X).kneighbors_graph(mode="connectivity")
        W = K.maximum(K.T)
    elif kernel == "rbf":
        from sklearn.metrics.pairwise import rbf_kernel

        dense = rbf_kernel(X, X, gamma=gamma)
        np.fill_diagonal(dense, 0.0)
        top = dense.max() if dense.size else 0.0
        dense[dense < RBF_RELATIVE_CUTOFF * top] = 0.0
        W = sp.csr_matrix(dense)
    else:
        raise ValueError(f"kernel must be 'knn' or 'rbf', got {kernel!r}")
    W = sp.csr_matrix(W, dtype=np.float64)
    W.setdiag(0.0)
    W.eliminate_zeros()
    return W


def harmonic_system(W, labeled, Y_labeled, ridge: float = 0.0):
    """``(A, B)`` with ``A = L_uu + ridge I`` and ``B = W_ul Y_l``: the harmonic system.

    Raises ``ValueError`` naming the first connected component of ``W`` that holds no labelled
    node (``L_uu`` is singular there, unless ``ridge > 0``).

    Examples
    --------
    >>> import numpy as np
    >>> from optsolve.bcd.forest import harmonic_system, lattice_graph
    >>> W = lattice_graph((3, 3))
    >>> labeled = np.zeros(9, dtype=bool)
    >>> labeled[[0, 8]] = True
    >>> A, B = harmonic_system(W, labeled, np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> A.shape, B.shape
    ((7, 7), (7, 2))
    """
    W = sp.csr_matrix(W, dtype=np.float64)
    labeled = np.asarray(labeled, dtype=bool)
    unl = np.flatnonzero(~labeled)
    lab = np.flatnonzero(labeled)
    if ridge == 0.0 and unl.size:
        n_comp, comp = sp.csgraph.connected_components(W, directed=False)
        has_label = np.zeros(n_comp, dtype=bool)
        has_label[comp[lab]] = True
        if not has_label.all():
            c = int(np.flatnonzero(~has_label)[0])
            members = np.flatnonzero(comp == c)
            shown = ", ".join(map(str, members[:5])) + (", ..." if members.size > 5 else "")
            raise ValueError(
                f"connected component {c} of the graph ({members.size} samples: {shown}) holds "
                "no labeled sample (y != -1), so its labels are undetermined; label a sample in "
                "it, connect the graph (more n_neighbors / smaller gamma), or set ridge > 0"
            )
    degree = np.asarray(W.sum(axis=1)).ravel()
    L = sp.diags(degree) - W
    A = sp.csr_matrix(L[unl][:, unl]) + ridge * sp.eye(unl.size, format="csr")
    B = W[unl][:, lab] @ np.asarray(Y_labeled, dtype=np.float64)
    return sp.csr_matrix(A), np.asarray(B)


def label_propagation_lattice(shape=(50, 50), n_labeled: int = 100, n_classes: int = 2,
                              random_state=None):
    """The paper's lattice label-propagation problem: ``(A, b, unlabeled_nodes)``.

    A ``h × w`` lattice with ``n_labeled`` random nodes labelled by the quadrant-like region
    they fall in (``n_classes`` vertical stripes); ``A = L_uu``, ``b = W_ul Y_l`` (one column
    per class, squeezed to 1-D for two classes: the first class' indicator).

    Examples
    --------
    >>> from optsolve.bcd.forest import label_propagation_lattice
    >>> A, b, unl = label_propagation_lattice((10, 10), n_labeled=10, random_state=0)
    >>> A.shape, b.shape
    ((90, 90), (90,))
    """
    rng = np.random.default_rng(random_state)
    h, w = shape
    W = lattice_graph(shape)
    n = h * w
    lab = np.zeros(n, dtype=bool)
    lab[rng.choice(n, size=n_labeled, replace=False)] = True
    cols = np.arange(n) % w
    stripe = np.minimum(cols * n_classes // w, n_classes - 1)
    Y = np.eye(n_classes)[stripe[lab]]
    A, B = harmonic_system(W, lab, Y)
    b = B[:, 0] if n_classes == 2 else B
    return A, b, np.flatnonzero(~lab)
