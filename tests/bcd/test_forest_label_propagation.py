"""BCDLabelPropagation against scikit-learn's LabelPropagation and the closed-form harmonic
solution."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.neighbors import NearestNeighbors
from sklearn.semi_supervised import LabelPropagation

from optsolve.bcd import BCDLabelPropagation

SELECTIONS = ["greedy-tree", "random-tree", "tree-partition", "red-black"]


def two_moons(n=200, n_labeled=10, seed=0):
    X, y = make_moons(n, noise=0.08, random_state=seed)
    rng = np.random.default_rng(seed)
    y_partial = np.full_like(y, -1)
    lab = np.concatenate([rng.choice(np.flatnonzero(y == c), n_labeled // 2, replace=False)
                          for c in (0, 1)])
    y_partial[lab] = y[lab]
    return X, y, y_partial


def harmonic_reference(W, y_partial):
    """Closed form: F_u = L_uu^{-1} W_ul Y_l with dense numpy."""
    W = np.asarray(W)
    classes = np.unique(y_partial[y_partial != -1])
    lab = y_partial != -1
    Y = (y_partial[lab][:, None] == classes[None, :]).astype(float)
    L = np.diag(W.sum(axis=1)) - W
    F = np.zeros((y_partial.size, classes.size))
    F[lab] = Y
    F[~lab] = np.linalg.solve(L[np.ix_(~lab, ~lab)], W[np.ix_(~lab, lab)] @ Y)
    return F / F.sum(axis=1, keepdims=True)


def knn_affinity(X, k):
    K = NearestNeighbors(n_neighbors=k).fit(X).kneighbors_graph(mode="connectivity").toarray()
    return np.maximum(K, K.T)


def rbf_affinity(X, gamma):
    K = rbf_kernel(X, gamma=gamma)
    np.fill_diagonal(K, 0.0)
    return K


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("kernel", ["knn", "rbf"])
def test_matches_closed_form_and_sklearn_transduction(kernel, selection):
    X, y, y_partial = two_moons()
    model = BCDLabelPropagation(kernel=kernel, selection=selection, tol=1e-9,
                                random_state=0).fit(X, y_partial)
    W = knn_affinity(X, 7) if kernel == "knn" else rbf_affinity(X, 20.0)
    np.testing.assert_allclose(model.label_distributions_, harmonic_reference(W, y_partial),
                               atol=1e-6)
    peer = LabelPropagation(kernel=kernel, n_neighbors=7, gamma=20.0, max_iter=20_000,
                            tol=1e-8).fit(X, y_partial)
    np.testing.assert_array_equal(model.transduction_, peer.transduction_)
    np.testing.assert_array_equal(model.classes_, [0, 1])
    assert model.n_iter_ > 0
    assert np.mean(model.transduction_ == y) > 0.95
    np.testing.assert_array_equal(model.transduction_[y_partial != -1], y[y_partial != -1])


def test_precomputed_graph_multiclass_and_predict():
    X, y = make_blobs(150, centers=3, cluster_std=0.6, random_state=0)
    y_partial = np.full_like(y, -1)
    for c in range(3):
        y_partial[np.flatnonzero(y == c)[:3]] = c
    labels = np.array(["a", "b", "c"], dtype=object)[y]  # non-numeric labels are all labelled
    W = knn_affinity(X, 6)
    model = BCDLabelPropagation(graph=sp.csr_matrix(W), tol=1e-10).fit(X, y_partial)
    np.testing.assert_allclose(model.label_distributions_, harmonic_reference(W, y_partial),
                               atol=1e-8)
    np.testing.assert_allclose(model.label_distributions_.sum(axis=1), 1.0)
    proba = model.predict_proba(X[:20] + 0.01)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X[:20] + 0.01), y[:20])
    fully = BCDLabelPropagation().fit(X, labels)
    assert fully.n_iter_ == 0 and list(fully.classes_) == ["a", "b", "c"]


def test_record_history_and_ridge():
    X, _, y_partial = two_moons(120)
    model = BCDLabelPropagation(record_history=True, tol=1e-8).fit(X, y_partial)
    assert model.history_["iteration"][-1] == model.n_iter_
    # a second, unlabelled moon far away: fine with ridge > 0, uniform there
    X2 = np.vstack([X, X + 100.0])
    y2 = np.concatenate([y_partial, np.full(120, -1)])
    ridged = BCDLabelPropagation(ridge=1e-3).fit(X2, y2)
    np.testing.assert_allclose(ridged.label_distributions_[120:], 0.5)


def test_bad_input():
    X, _, y_partial = two_moons(100)
    X2 = np.vstack([X, X + 100.0])
    y2 = np.concatenate([y_partial, np.full(100, -1)])
    with pytest.raises(ValueError, match=r"connected component 1 of the graph \(100 samples"):
        BCDLabelPropagation().fit(X2, y2)
    X_nan = X.copy()
    X_nan[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        BCDLabelPropagation().fit(X_nan, y_partial)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        BCDLabelPropagation().fit(X, y_partial[:-1])
    with pytest.raises(ValueError, match="graph must have shape"):
        BCDLabelPropagation(graph=sp.eye(5)).fit(X, y_partial)
    with pytest.raises(ValueError, match="graph must be symmetric"):
        BCDLabelPropagation(graph=sp.random(100, 100, density=0.1, random_state=0)).fit(
            X, y_partial)
    with pytest.raises(ValueError, match="at least one labeled"):
        BCDLabelPropagation().fit(X, np.full(100, -1))
    with pytest.raises(ValueError, match="kernel"):
        BCDLabelPropagation(kernel="poly").fit(X, y_partial)
    model = BCDLabelPropagation().fit(X, y_partial)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :1])
