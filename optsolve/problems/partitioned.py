"""Problems split across the nodes of a network: the data of the decentralized families.

Both decentralized families (``optsolve.decentralized``, DADAO and its baselines, and
``optsolve.randomwalk``, token SGD driven by random walks) optimize

    F(w) = Σ_i f_i(w),   f_i(w) = (1/N) Σ_{s ∈ part i} ℓ(x_sᵀw, y_s) + (α/(2n)) ‖w‖²,

over ``n`` nodes holding ``N`` samples in all, so that ``F`` is exactly the centralized
``(1/N) Σ ℓ + (α/2)‖w‖²`` that scikit-learn's ``Ridge(alpha=α N)`` (up to its ½ factor, see
:meth:`DecentralizedProblem.ridge`) and ``LogisticRegression(C=1/(α N))`` minimize. Each
``f_i`` is ``L_i``-smooth and ``μ_i``-strongly convex with ``μ_i = α/n``. The hot loops read
the packed arrays of :attr:`DecentralizedProblem.packed` through the numba functions of
``_partitioned_kernels``.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy import special

from .._validation import as_generator, check_array_finite, check_in_choices, check_positive_int
from . import _partitioned_kernels as _k
from ._partitioned_solve import SOLUTION_DENSE_MAX, SOLUTION_RTOL, CenteredRows, reference_solution

__all__ = ["SOLUTION_DENSE_MAX", "SOLUTION_RTOL", "DecentralizedProblem", "PackedData",
           "partition_data"]

#: below this size (smaller side of a part) L_i comes from a dense eigen-decomposition...
DENSE_SPECTRUM_MAX = 2000
#: ...provided the Gram matrix holds at most max(nnz of the part, this) entries (a part of a
#: very sparse X goes to Lanczos: memory stays O(nnz))
DENSE_SPECTRUM_FLOOR = 1 << 16
#: entries of the (N, chunk) block of margins one pass of :meth:`DecentralizedProblem.grads`
#: holds at a time (the chunk of rows of W is sized from it: memory O(N · chunk))
GRADS_BLOCK_ENTRIES = 1 << 21


class PackedData(NamedTuple):
    """Arrays the numba kernels read (see ``optsolve.problems._partitioned_kernels``)."""

    loss_code: int
    is_sparse: bool
    X: np.ndarray  # (N, d) dense rows, or (0, 0) when sparse
    indptr: np.ndarray  # CSR of all rows (empty when dense)
    indices: np.ndarray
    data: np.ndarray
    y: np.ndarray  # (N,) targets; logistic labels are ±1
    offsets: np.ndarray  # (n + 1,) node i owns rows offsets[i]:offsets[i+1]
    inv_n_total: float  # 1 / N
    reg: float  # α / n, the share of the ridge term each node holds
    #: (d,) column offsets μ every row is read minus (implicit centring), or (0,) for none
    center: np.ndarray = np.zeros(0)

    def kernel_args(self) -> tuple:
        """``(loss_code, is_sparse, X, indptr, indices, data, y)``, the leading arguments of
        every kernel of ``_partitioned_kernels`` (``center`` is their trailing argument)."""
        return (self.loss_code, self.is_sparse, self.X, self.indptr, self.indices, self.data,
                self.y)


def _as_rows(X: Any, name: str):
    """A 2-D float64 dense array or CSR matrix (always a new object)."""
    if sp.issparse(X):
        A = sp.csr_matrix(X, dtype=np.float64, copy=True)
        A.sum_duplicates()
        A.sort_indices()
    else:
        try:
            A = np.array(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a numeric array or sparse matrix: {exc}") from exc
        if A.ndim != 2:
            raise ValueError(f"{name} must be 2-D, got an array of shape {A.shape}")
    check_array_finite(A, name)
    return A


def _as_targets(y: Any, n_rows: int, name: str, *, numeric: bool = True) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if arr.shape[0] != n_rows:
        raise ValueError(f"{name} has {arr.shape[0]} entries but X has {n_rows} rows")
    if numeric:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be numeric: {exc}") from exc
        check_array_finite(arr, name)
    elif arr.dtype.kind == "f":
        check_array_finite(arr, name)
    return arr.copy()


def partition_data(
    X: Any,
    y: Any,
    n_nodes: int,
    how: str = "iid",
    *,
    concentration: float = 0.5,
    random_state=None,
) -> list[tuple[Any, np.ndarray]]:
    """Split a data set across ``n_nodes`` nodes.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or sparse matrix
        Rows are samples. Sparse input gives CSR parts.
    y : array-like of shape (n_samples,)
        Targets or labels.
    n_nodes : int
        Number of parts, ``1 <= n_nodes <= n_samples``.
    how : {"iid", "sorted", "dirichlet"}
        ``"iid"``: a random permutation cut into near-equal parts (homogeneous nodes);
        ``"sorted"``: rows sorted by ``y`` then cut (each node sees a narrow range of targets,
        the most heterogeneous split); ``"dirichlet"``: for each distinct label, node shares
        drawn from Dirichlet(``concentration``) (the usual non-i.i.d. federated split; small
        ``concentration`` is more heterogeneous).
    concentration : float, default=0.5
        Dirichlet parameter of ``how="dirichlet"``.
    random_state : int, Generator or None
        Seed of the permutation / the Dirichlet draws.

    Returns
    -------
    list of (X_i, y_i)
        Copies (never views) of the rows of each node, every part non-empty.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    >>> [len(yi) for _, yi in partition_data(X, y, 3, random_state=0)]
    [4, 3, 3]
    """
    A = _as_rows(X, "X")
    yy = _as_targets(y, A.shape[0], "y", numeric=False)
    n = A.shape[0]
    n_nodes = check_positive_int(n_nodes, "n_nodes")
    if A.shape[1] == 0:
        raise ValueError("X has no features (0 columns)")
    if n_nodes > n:
        raise ValueError(
            f"n_nodes={n_nodes} exceeds the number of samples of X ({n}): every node needs data"
        )
    check_in_choices(how, "how", ("iid", "sorted", "dirichlet"))
    rng = as_generator(random_state)
    if how == "iid":
        parts = np.array_split(rng.permutation(n), n_nodes)
    elif how == "sorted":
        parts = np.array_split(np.argsort(yy, kind="stable"), n_nodes)
    else:
        if isinstance(concentration, bool) or not isinstance(concentration, numbers.Real) \
                or not np.isfinite(concentration) or concentration <= 0:
            raise ValueError(f"concentration must be a finite number > 0, got {concentration!r}")
        owner = np.empty(n, dtype=np.int64)
        for label in np.unique(yy):
            rows = rng.permutation(np.flatnonzero(yy == label))
            share = rng.dirichlet(np.full(n_nodes, float(concentration)))
            cuts = np.round(np.cumsum(share)[:-1] * rows.size).astype(np.int64)
            for node, chunk in enumerate(np.split(rows, cuts)):
                owner[chunk] = node
        counts = np.bincount(owner, minlength=n_nodes)
        # a node left empty takes one row from the currently largest node
        for node in np.flatnonzero(counts == 0):
            donor = int(np.argmax(counts))
            moved = np.flatnonzero(owner == donor)[-1]
            owner[moved] = node
            counts[donor] -= 1
            counts[node] += 1
        parts = [np.flatnonzero(owner == i) for i in range(n_nodes)]
    return [(A[idx], yy[idx].copy()) for idx in parts]


def _top_singular_value_sq(A, center: np.ndarray | None = None) -> float:
    """‖A − 1μᵀ‖₂² (μ = ``center``, 0 when None) by a dense eigen-decomposition of the smaller
    Gram matrix (at most ``DENSE_SPECTRUM_MAX²`` entries, and at most
    ``max(nnz(A), DENSE_SPECTRUM_FLOOR)``), or Lanczos on products only (the centred matrix is
    never formed)."""
    m, d = A.shape
    op = CenteredRows(A, center)
    small = min(m, d)
    nnz = A.nnz if sp.issparse(A) else m * d
    if small <= DENSE_SPECTRUM_MAX and small * small <= max(nnz, DENSE_SPECTRUM_FLOOR):
        if m > d:
            G = op.gram()
        else:
            G = A @ A.T
            G = G.toarray() if sp.issparse(G) else np.array(G)
            if op.center is not None:  # (A − 1μᵀ)(A − 1μᵀ)ᵀ
                a = np.asarray(A @ op.center).ravel()
                G += -a[:, None] - a[None, :] + float(op.center @ op.center)
        return float(max(np.linalg.eigvalsh(G)[-1], 0.0))
    from scipy.sparse.linalg import LinearOperator, svds

    lin = LinearOperator((m, d), matvec=op.matvec, rmatvec=op.rmatvec, dtype=np.float64)
    return float(svds(lin, k=1, return_singular_vectors=False, random_state=0)[0] ** 2)


class DecentralizedProblem:
    """A sum of local smooth convex functions ``F = Σ_i f_i``, one per node.

    Build it with :meth:`ridge` or :meth:`logistic` from the parts returned by
    :func:`partition_data`.

    With ``center=μ`` (shape (n_features,)) every row is read as ``x_s − μ`` (implicit
    centring, e.g. by the global column means to fit an unpenalized intercept): the kernels
    correct each product by the rank-one term, so a sparse ``X`` stays sparse and memory
    O(nnz). ``parts`` keeps the rows as given.

    Attributes
    ----------
    n_nodes, n_features, n_samples_total : int
    n_samples : ndarray of shape (n_nodes,)
        Rows held by each node.
    loss : {"ridge", "logistic"}
    alpha : float
    classes_ : ndarray of shape (2,) or None
        Original labels mapped to −1 and +1 (logistic only).
    L_local, mu_local : ndarray of shape (n_nodes,)
        Smoothness and strong-convexity constants of each ``f_i``.
    L, mu : float
        ``max L_i`` and ``min μ_i``, the constants of the decentralized rates.
    center : ndarray of shape (n_features,) or None
        Column offsets subtracted from every row (implicit centring).
    packed : PackedData
        The arrays the numba kernels read.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    >>> prob = DecentralizedProblem.ridge(partition_data(X, y, 4, random_state=0), alpha=0.1)
    >>> w = prob.solution()
    >>> bool(np.linalg.norm(prob.grad(w)) < 1e-10)
    True
    """

    def __init__(self, parts, alpha: float, loss: str, center=None):
        check_in_choices(loss, "loss", ("ridge", "logistic"))
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) \
                or not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
        if isinstance(parts, (str, bytes)) or not hasattr(parts, "__len__"):
            raise TypeError(
                f"parts must be a list of (X_i, y_i) pairs, got {type(parts).__name__}"
            )
        if len(parts) == 0:
            raise ValueError("parts is empty: a decentralized problem needs at least one node")
        Xs, ys = [], []
        for i, part in enumerate(parts):
            if not isinstance(part, (tuple, list)) or len(part) != 2:
                raise TypeError(f"parts[{i}] must be a pair (X_i, y_i)")
            Xi = _as_rows(part[0], f"parts[{i}] X")
            if Xi.shape[0] == 0:
                raise ValueError(f"parts[{i}] X has no samples: every node (agent) needs data")
            Xs.append(Xi)
            ys.append(_as_targets(part[1], Xi.shape[0], f"parts[{i}] y",
                                  numeric=loss == "ridge"))
        d = Xs[0].shape[1]
        for i, Xi in enumerate(Xs):
            if Xi.shape[1] != d:
                raise ValueError(
                    f"parts[{i}] has {Xi.shape[1]} features but parts[0] has {d}"
                )
        if d == 0:
            raise ValueError("the parts' X have no features (0 columns)")
        if center is not None:
            try:
                center = np.array(center, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"center must be a numeric array or None: {exc}") from exc
            if center.shape != (d,):
                raise ValueError(f"center must have shape ({d},), got {center.shape}")
            check_array_finite(center, "center")
        self.center = center
        self.loss = loss
        self.alpha = float(alpha)
        self.n_nodes = len(Xs)
        self.n_features = d
        self.n_samples = np.array([Xi.shape[0] for Xi in Xs], dtype=np.int64)
        self.n_samples_total = int(self.n_samples.sum())
        y_all = np.concatenate(ys)
        self.classes_ = None
        if loss == "logistic":
            classes = np.unique(y_all)
            if classes.size != 2:
                raise ValueError(
                    f"logistic needs exactly two distinct labels in the parts' y, got "
                    f"{classes.size}: {classes[:5].tolist()}"
                )
            self.classes_ = classes
            y_all = np.where(y_all == classes[1], 1.0, -1.0)
        self.parts = tuple(zip(Xs, np.split(y_all, np.cumsum(self.n_samples)[:-1]), strict=True))
        offsets = np.concatenate([[0], np.cumsum(self.n_samples)]).astype(np.int64)
        is_sparse = any(sp.issparse(Xi) for Xi in Xs)
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
        if is_sparse:
            A = sp.vstack([sp.csr_matrix(Xi) for Xi in Xs], format="csr")
            A.sort_indices()
            X_dense = np.zeros((0, 0))
            indptr = A.indptr.astype(np.int64)
            indices = A.indices.astype(np.int64)
            data = A.data.astype(np.float64)
        else:
            X_dense = np.ascontiguousarray(np.vstack(Xs))
            indptr, indices, data = empty_i, empty_i, empty_f
        self.packed = PackedData(
            _k.LOSS_RIDGE if loss == "ridge" else _k.LOSS_LOGISTIC, is_sparse, X_dense, indptr,
            indices, data, np.ascontiguousarray(y_all), offsets,
            1.0 / self.n_samples_total, self.alpha / self.n_nodes,
            np.zeros(0) if center is None else center,
        )
        curvature = 1.0 if loss == "ridge" else 0.25  # sup ℓ''
        reg = self.packed.reg
        self.L_local = np.array(
            [curvature * _top_singular_value_sq(Xi, center) / self.n_samples_total + reg
             for Xi in Xs]
        )
        self.mu_local = np.full(self.n_nodes, reg)
        self.L = float(self.L_local.max())
        self.mu = float(self.mu_local.min())
        self._solution = None
        self._stacked_csr = None

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def ridge(cls, parts, alpha: float = 1.0, *, center=None) -> DecentralizedProblem:
        """Least squares: ``F(w) = (1/(2N)) ‖Xw − y‖² + (α/2)‖w‖²``, scikit-learn's
        ``Ridge(alpha=α·N, fit_intercept=False)`` objective divided by N (``X − 1μᵀ`` in
        place of ``X`` with ``center=μ``)."""
        return cls(parts, alpha, "ridge", center)

    @classmethod
    def logistic(cls, parts, alpha: float = 1.0, *, center=None) -> DecentralizedProblem:
        """Logistic regression: ``F(w) = (1/N) Σ log(1 + exp(−y xᵀw)) + (α/2)‖w‖²``,
        scikit-learn's ``LogisticRegression(C=1/(α·N), fit_intercept=False)`` objective
        divided by N; labels mapped to ±1 (``classes_``); rows ``x − μ`` with
        ``center=μ``."""
        return cls(parts, alpha, "logistic", center)

    # -- evaluation -----------------------------------------------------------------------
    def _node(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) \
                or not 0 <= i < self.n_nodes:
            raise ValueError(f"node index must be an integer in [0, {self.n_nodes}), got {i!r}")
        return int(i)

    def _w(self, w, name: str = "w") -> np.ndarray:
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (self.n_features,):
            raise ValueError(f"{name} must have shape ({self.n_features},), got {w.shape}")
        return np.ascontiguousarray(w)

    def _out(self, out):
        """``out`` checked (the kernels write ``n_features`` entries into it unchecked), or a new
        array."""
        if out is None:
            return np.empty(self.n_features)
        if not isinstance(out, np.ndarray) or out.shape != (self.n_features,) \
                or out.dtype != np.float64 or not out.flags.c_contiguous \
                or not out.flags.writeable:
            raise ValueError(
                f"out must be a writable contiguous float64 array of shape ({self.n_features},),"
                f" got {type(out).__name__} of shape {getattr(out, 'shape', None)} and dtype "
                f"{getattr(out, 'dtype', None)}")
        return out

    def local_value(self, i: int, w) -> float:
        """``f_i(w)``."""
        i, p = self._node(i), self.packed
        return float(_k.local_value(*p.kernel_args(), p.offsets[i], p.offsets[i + 1],
                                    self._w(w), p.inv_n_total, p.reg, p.center))

    def local_grad(self, i: int, w, out=None) -> np.ndarray:
        """``∇f_i(w)`` (written into ``out`` when given)."""
        i, p = self._node(i), self.packed
        out = self._out(out)
        _k.local_grad_into(*p.kernel_args(), p.offsets[i], p.offsets[i + 1], self._w(w),
                           p.inv_n_total, p.reg, out, p.center)
        return out

    def local_grad_batch(self, i: int, w, idx, out=None) -> np.ndarray:
        """Unbiased mini-batch estimate of ``∇f_i(w)`` from local sample indices ``idx``
        (drawn uniformly, with replacement, from ``range(n_samples[i])``)."""
        i, p = self._node(i), self.packed
        idx = np.asarray(idx, dtype=np.int64)
        if idx.ndim != 1 or idx.size == 0:
            raise ValueError("idx must be a non-empty 1-D array of local sample indices")
        if idx.min() < 0 or idx.max() >= self.n_samples[i]:
            raise ValueError(f"idx must lie in [0, {self.n_samples[i]}) for node {i}")
        out = self._out(out)
        scale = self.n_samples[i] / idx.size
        _k.batch_grad_into(*p.kernel_args(), idx + p.offsets[i], scale, self._w(w),
                           p.inv_n_total, p.reg, out, p.center)
        return out

    def local_grads(self, W) -> np.ndarray:
        """``∇f_i(W[i])`` for every node, shape (n_nodes, n_features)."""
        W = np.ascontiguousarray(W, dtype=np.float64)
        if W.shape != (self.n_nodes, self.n_features):
            raise ValueError(
                f"W must have shape ({self.n_nodes}, {self.n_features}), got {W.shape}"
            )
        p = self.packed
        out = np.empty_like(W)
        _k.all_local_grads_into(*p.kernel_args(), p.offsets, W, p.inv_n_total, p.reg, out,
                                p.center)
        return out

    def value(self, w) -> float:
        """``F(w) = Σ_i f_i(w)``."""
        p = self.packed
        return float(_k.local_value(*p.kernel_args(), 0, self.n_samples_total, self._w(w),
                                    p.inv_n_total, self.alpha, p.center))

    def grad(self, w, out=None) -> np.ndarray:
        """``∇F(w)``."""
        p = self.packed
        out = self._out(out)
        _k.local_grad_into(*p.kernel_args(), 0, self.n_samples_total, self._w(w),
                           p.inv_n_total, self.alpha, out, p.center)
        return out

    def value_and_grad(self, w, out=None) -> tuple[float, np.ndarray]:
        """``(F(w), ∇F(w))`` in one pass over the data, equal to :meth:`value` and :meth:`grad`
        to the last bit (the gradient written into ``out`` when given).

        Examples
        --------
        >>> import numpy as np
        >>> X, y = np.arange(12.0).reshape(6, 2), np.array([1, -1, 1, 1, -1, -1])
        >>> prob = DecentralizedProblem.logistic(partition_data(X, y, 2, random_state=0))
        >>> f, g = prob.value_and_grad(np.ones(2))
        >>> f == prob.value(np.ones(2)), bool((g == prob.grad(np.ones(2))).all())
        (True, True)
        """
        p = self.packed
        out = self._out(out)
        f = _k.local_value_grad_into(*p.kernel_args(), 0, self.n_samples_total, self._w(w),
                                     p.inv_n_total, self.alpha, out, p.center)
        return float(f), out

    def grads(self, W) -> np.ndarray:
        """``∇F`` at every row of ``W`` (shape (k, n_features)), in one pass over the data.

        ``∇F(w) = (1/N) Xᵀ ℓ'(Xw, y) + α w``, evaluated for a block of rows at once:
        ``Z = X Wᵀ`` then ``Xᵀ ℓ'(Z, y)`` (two matrix products, sparse when the data are), with
        the rows of ``W`` taken in chunks so that ``Z`` holds at most ``GRADS_BLOCK_ENTRIES``
        entries (memory O(N · chunk)). Equal to :meth:`grad` row by row up to rounding, and to
        the bit for a single row (which :meth:`grad`'s one fused pass computes faster than two
        matrix–vector products).

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
        >>> prob = DecentralizedProblem.ridge(partition_data(X, y, 4, random_state=0))
        >>> W = rng.standard_normal((5, 3))
        >>> bool(np.allclose(prob.grads(W)[2], prob.grad(W[2])))
        True
        """
        W = np.asarray(W, dtype=np.float64)
        if W.ndim != 2 or W.shape[1] != self.n_features:
            raise ValueError(f"W must have shape (k, {self.n_features}), got {W.shape}")
        out = np.empty(W.shape)
        if W.shape[0] == 1:
            self.grad(W[0], out=out[0])
            return out
        X, y, N = self._stacked(), self.packed.y, self.n_samples_total
        chunk = max(1, GRADS_BLOCK_ENTRIES // N)
        for s in range(0, W.shape[0], chunk):
            Wc = W[s:s + chunk]
            Z = np.asarray(X @ Wc.T)  # (N, chunk) margins
            if self.center is not None:
                Z -= self.center @ Wc.T
            if self.loss == "ridge":
                Z -= y[:, None]
            else:  # ℓ'(z, y) = −y σ(−y z), overflow-free
                Z = -y[:, None] * special.expit(-y[:, None] * Z)
            out[s:s + chunk] = np.asarray(X.T @ Z).T
            if self.center is not None:
                out[s:s + chunk] -= np.outer(Z.sum(axis=0), self.center)
        out *= self.packed.inv_n_total
        out += self.alpha * W
        return out

    def _stacked(self):
        """All rows, node after node: the packed arrays themselves (no copy), wrapped once (a
        sparse wrapper checks its index arrays when built, a pass over the data)."""
        p = self.packed
        if not p.is_sparse:
            return p.X
        if self._stacked_csr is None:
            self._stacked_csr = sp.csr_matrix((p.data, p.indices, p.indptr), copy=False,
                                              shape=(self.n_samples_total, self.n_features))
        return self._stacked_csr

    def solution(self) -> np.ndarray:
        """The minimizer ``w*`` of ``F`` (computed once, then cached; a copy is returned).

        Up to ``SOLUTION_DENSE_MAX`` (2000) features, from the ``d x d`` Hessian: ridge by the
        normal equations (least-norm when ``α = 0``), logistic by Newton's method with
        backtracking. Above, matrix-free (memory O(nnz + N + d)): ridge by preconditioned
        conjugate gradients on the normal equations, logistic by Newton-CG, both from
        Hessian-vector products. Every path stops at ``‖∇F‖ <= 1e-12·max(1, ‖∇F(0)‖)`` (a
        ``RuntimeWarning`` when it cannot).
        """
        if self._solution is None:
            self._solution = reference_solution(
                CenteredRows(self._stacked(), self.center), self.packed.y, self.alpha,
                self.loss, self.value, self.grad)
        return self._solution.copy()

    @property
    def value_star(self) -> float:
        """``F(w*)``."""
        return self.value(self.solution())

    def __repr__(self) -> str:
        return (f"DecentralizedProblem.{self.loss}(n_nodes={self.n_nodes}, "
                f"n_features={self.n_features}, n_samples_total={self.n_samples_total}, "
                f"alpha={self.alpha:g}, L={self.L:.3g}, mu={self.mu:.3g})")
