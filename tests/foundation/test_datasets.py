"""Data loading: shared copies, parsed cache, download path (local server / fake opener)."""

import bz2
import hashlib
import http.server
import io
import threading
import zipfile
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp

from optsolve.datasets import (
    DownloadError,
    available_libsvm,
    download,
    load_libsvm,
    load_movielens,
    make_incoherent_low_rank,
    make_sparse_classification,
    make_sparse_regression,
)
from optsolve.utils._testing import need_data

# Shapes from ../shared/data/README.md (sklearn's loader; official feature counts)
SHARED_SHAPES = {
    "a9a": (32561, 123),
    "a9a.t": (16281, 123),
    "w8a": (49749, 300),
    "mushrooms": (8124, 112),
    "phishing": (11055, 68),
    "ijcnn1": (49990, 22),
    "australian": (690, 14),
    "breast-cancer_scale": (683, 10),
    "abalone_scale": (4177, 8),
    "cpusmall": (8192, 12),
    "dna.scale": (2000, 180),
    "satimage.scale": (4435, 36),
}


@pytest.mark.parametrize("name", sorted(SHARED_SHAPES))
def test_load_libsvm_shared_shapes(name):
    need_data("libsvm")
    X, y = load_libsvm(name, download_if_missing=False)
    assert sp.isspmatrix_csr(X) or sp.issparse(X)
    assert X.shape == SHARED_SHAPES[name]
    assert y.shape == (X.shape[0],)
    assert np.all(np.isfinite(X.data))
    # scikit-learn's Lasso/ElasticNet refuse 64-bit sparse indices
    assert X.indices.dtype == np.int32 and X.indptr.dtype == np.int32


def test_load_libsvm_cache_beside_writable_source(tmp_path):
    src = need_data("libsvm/australian")
    (tmp_path / "libsvm").mkdir()
    (tmp_path / "libsvm" / "australian").write_bytes(src.read_bytes())
    X1, y1 = load_libsvm("australian", data_home=tmp_path, download_if_missing=False)
    assert (tmp_path / "libsvm" / "australian.npz").is_file()
    X2, y2 = load_libsvm("australian", data_home=tmp_path, download_if_missing=False)
    assert (X1 != X2).nnz == 0 and np.array_equal(y1, y2)


def test_load_libsvm_never_writes_into_read_only_data(tmp_path, monkeypatch):
    src = need_data("libsvm/australian")
    ro = tmp_path / "ro" / "libsvm"
    ro.mkdir(parents=True)
    (ro / "australian").write_bytes(src.read_bytes())
    ro.chmod(0o555)  # as the shared copy in CI: no write bits (root would still be allowed)
    monkeypatch.setenv("OPTSOLVE_CACHE", str(tmp_path / "cache"))
    try:
        X, _ = load_libsvm("australian", data_home=tmp_path / "ro", download_if_missing=False)
        assert not list(ro.glob("*.npz"))
        assert (tmp_path / "cache" / "libsvm" / "australian.npz").is_file()
        X2, _ = load_libsvm("australian", data_home=tmp_path / "ro", download_if_missing=False)
        assert (X != X2).nnz == 0
    finally:
        ro.chmod(0o755)


def test_loaded_matrix_is_accepted_by_sklearn_lasso():
    need_data("libsvm/australian")
    from sklearn.linear_model import Lasso

    X, y = load_libsvm("australian", download_if_missing=False)
    Lasso(alpha=1.0, max_iter=5).fit(X, y)  # raised on int64 indices before


def test_available_libsvm_lists_shared():
    need_data("libsvm")
    names = available_libsvm()
    assert "a9a" in names and "ijcnn1" in names


def test_load_libsvm_unknown_name():
    with pytest.raises(ValueError, match="unknown LIBSVM data set 'nope'"):
        load_libsvm("nope")


def test_load_libsvm_missing_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_libsvm("a9a", data_home=tmp_path, download_if_missing=False)


def test_movielens_u1_split_sizes():
    need_data("ratings/ml-100k/u.data")
    train, test = load_movielens("100k", split="u1", download_if_missing=False)
    # GroupLens' published u1.base / u1.test sizes
    assert train.nnz == 80000 and test.nnz == 20000
    assert train.shape == test.shape == (943, 1682)
    allr = load_movielens("100k", download_if_missing=False)
    assert allr.nnz == 100000
    assert set(np.unique(allr.data)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    # the split partitions the ratings
    assert ((train + test) != allr).nnz == 0


@pytest.mark.parametrize("k", [1, 3, 5])
def test_movielens_split_matches_mku_script(k):
    path = need_data("ratings/ml-100k/u.data")
    lines = path.read_text().splitlines()
    test_lines = lines[(k - 1) * 20000 : k * 20000]
    _, test = load_movielens("100k", split=f"u{k}", download_if_missing=False)
    u, i, r = (int(v) for v in test_lines[123].split("\t")[:3])
    assert test[u - 1, i - 1] == r
    assert test.nnz == 20000


def test_movielens_bad_arguments():
    with pytest.raises(ValueError, match="name must be one of"):
        load_movielens("10m")
    with pytest.raises(ValueError, match="split must be"):
        load_movielens("100k", split="u9")
    with pytest.raises(ValueError, match="100k only"):
        load_movielens("1m", split="u1")


# -- download path: a local HTTP server on 127.0.0.1, never the outside network -------------------

LIBSVM_TEXT = b"+1 1:0.5 3:1.5\n-1 2:2.0\n+1 1:1 2:1 3:1\n"


@pytest.fixture
def local_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))

    class Quiet(handler.func):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_download_from_local_server_with_checksum(local_server, tmp_path):
    root, url = local_server
    (root / "small.txt").write_bytes(LIBSVM_TEXT)
    digest = hashlib.sha256(LIBSVM_TEXT).hexdigest()
    out = download(f"{url}/small.txt", tmp_path / "dl" / "small.txt", sha256=digest, progress=False)
    assert out.read_bytes() == LIBSVM_TEXT


def test_download_checksum_mismatch_removes_file(local_server, tmp_path):
    root, url = local_server
    (root / "small.txt").write_bytes(LIBSVM_TEXT)
    dest = tmp_path / "dl" / "small.txt"
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download(f"{url}/small.txt", dest, sha256="0" * 64, progress=False)
    assert not dest.exists() and not dest.with_name("small.txt.part").exists()


def test_download_http_404_is_clear(local_server, tmp_path):
    _, url = local_server
    with pytest.raises(DownloadError, match="could not download"):
        download(f"{url}/missing", tmp_path / "x", progress=False)


def test_download_offline_message(tmp_path):
    def offline(url):
        raise OSError("Temporary failure in name resolution")

    with pytest.raises(DownloadError, match="offline"):
        download("https://example.invalid/a9a", tmp_path / "a9a", opener=offline, progress=False)


def test_load_libsvm_downloads_bz2_through_opener(tmp_path):
    payload = bz2.compress(LIBSVM_TEXT.replace(b"3:", b"22:"))
    seen = []

    def opener(url):
        seen.append(url)
        return io.BytesIO(payload)

    X, y = load_libsvm("ijcnn1", data_home=tmp_path, opener=opener)
    assert seen and seen[0].endswith("/binary/ijcnn1.bz2")
    assert X.shape == (3, 22) and list(y) == [1, -1, 1]
    assert (tmp_path / "libsvm" / "ijcnn1.bz2").is_file()
    # second load: no download, parsed cache used
    X2, _ = load_libsvm("ijcnn1", data_home=tmp_path, opener=lambda u: pytest.fail("refetched"))
    assert (X2 != X).nnz == 0


def test_load_movielens_downloads_zip_through_opener(tmp_path):
    rows = "1\t1\t5\t0\n2\t3\t4\t0\n943\t1682\t1\t0\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ml-100k/u.data", rows)
    X = load_movielens("100k", data_home=tmp_path, opener=lambda url: io.BytesIO(buf.getvalue()))
    assert X.shape == (943, 1682) and X.nnz == 3 and X[942, 1681] == 1


# -- synthetic generators -----------------------------------------------------------------------


def test_make_sparse_regression_reproducible():
    a = make_sparse_regression(30, 100, density=0.1, n_informative=4, random_state=3)
    b = make_sparse_regression(30, 100, density=0.1, n_informative=4, random_state=3)
    assert (a[0] != b[0]).nnz == 0 and np.array_equal(a[1], b[1])
    X, y, coef = a
    assert np.count_nonzero(coef) == 4
    np.testing.assert_allclose(y, X @ coef, atol=0.1 * 6)


def test_make_sparse_regression_column_scale_spreads_norms():
    X, _, _ = make_sparse_regression(200, 300, density=0.2, column_scale=2.0, random_state=0)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0))).ravel()
    assert norms.max() / norms[norms > 0].min() > 100


@pytest.mark.parametrize("n_classes", [2, 5])
def test_make_sparse_classification_labels(n_classes):
    X, y, coef = make_sparse_classification(
        200, 50, n_classes=n_classes, density=0.3, n_informative=10, flip_y=0.0, random_state=0
    )
    if n_classes == 2:
        assert set(np.unique(y)) == {-1.0, 1.0}
        np.testing.assert_array_equal(y, np.where(X @ coef >= 0, 1.0, -1.0))
    else:
        np.testing.assert_array_equal(y, np.argmax(X @ coef, axis=1))


def test_make_incoherent_low_rank():
    X, U, V = make_incoherent_low_rank(60, 50, 3, 0.4, random_state=0)
    rows, cols = X.nonzero()
    np.testing.assert_allclose(X[rows, cols].A1, (U @ V.T)[rows, cols], rtol=1e-12)
    assert abs(X.nnz / (60 * 50) - 0.4) < 0.05
    assert np.linalg.matrix_rank(U @ V.T) == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"m": 10, "n": 10, "rank": 10, "p": 0.5}, "rank=10 must be smaller"),
        ({"m": 10, "n": 10, "rank": 2, "p": 0.0}, "p must be in"),
        ({"m": 10, "n": 10, "rank": 2, "p": 0.5, "noise": -1.0}, "noise must be in"),
    ],
)
def test_make_incoherent_low_rank_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_incoherent_low_rank(**kwargs)


def test_generators_name_bad_arguments():
    with pytest.raises(ValueError, match="density"):
        make_sparse_regression(10, 10, density=1.5)
    with pytest.raises(ValueError, match="n_informative"):
        make_sparse_regression(10, 10, n_informative=11)
    with pytest.raises(ValueError, match="n_classes"):
        make_sparse_classification(10, 10, n_classes=1)


# ---------------------------------------------------------------- malformed files


def test_load_libsvm_stray_index_zero_is_refused_not_shifted(tmp_path):
    # a 1-based file with one index 0 was read as 0-based: every column shifted by one
    (tmp_path / "libsvm").mkdir()
    (tmp_path / "libsvm" / "australian").write_text("1 1:0.5 3:1\n-1 0:2 2:1\n")
    with pytest.raises(ValueError, match="index 0"):
        load_libsvm("australian", data_home=tmp_path, download_if_missing=False)


def test_load_libsvm_reads_one_based_columns(tmp_path):
    (tmp_path / "libsvm").mkdir()
    (tmp_path / "libsvm" / "australian").write_text("1 1:0.5 3:1\n-1 2:1 14:2\n")
    X, y = load_libsvm("australian", data_home=tmp_path, download_if_missing=False)
    expected = np.zeros((2, 14))
    expected[0, [0, 2]] = 0.5, 1.0
    expected[1, [1, 13]] = 1.0, 2.0
    np.testing.assert_array_equal(X.toarray(), expected)
    np.testing.assert_array_equal(y, [1.0, -1.0])


@pytest.mark.parametrize("text", ["1 1:a\n", "1 3:1 2:1\n", "1 15:1\n", "x 1:1\n"])
def test_load_libsvm_malformed_file_clear_error(tmp_path, text):
    (tmp_path / "libsvm").mkdir()
    (tmp_path / "libsvm" / "australian").write_text(text)
    with pytest.raises(ValueError, match="australian"):
        load_libsvm("australian", data_home=tmp_path, download_if_missing=False)


def _write_ratings(tmp_path, lines):
    folder = tmp_path / "ratings" / "ml-100k"
    folder.mkdir(parents=True)
    (folder / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t0\n" for u, i, r in lines))


def test_load_movielens_duplicate_rating_refused(tmp_path):
    # a rating given twice was summed (4 + 4 = 8)
    _write_ratings(tmp_path, [(1, 1, 4), (2, 3, 5), (1, 1, 4)])
    with pytest.raises(ValueError, match=r"more than once.*user 1, item 1"):
        load_movielens("100k", data_home=tmp_path, download_if_missing=False)


def test_load_movielens_ids_out_of_range_refused(tmp_path):
    _write_ratings(tmp_path, [(1, 1, 4), (944, 3, 5)])
    with pytest.raises(ValueError, match="user ids"):
        load_movielens("100k", data_home=tmp_path, download_if_missing=False)


def test_load_movielens_small_file(tmp_path):
    _write_ratings(tmp_path, [(1, 1, 4), (2, 3, 5)])
    R = load_movielens("100k", data_home=tmp_path, download_if_missing=False)
    assert R.shape == (943, 1682) and R.nnz == 2 and R[0, 0] == 4 and R[1, 2] == 5


@pytest.mark.parametrize("make", [make_sparse_regression, make_sparse_classification])
def test_large_sparse_generators_stay_o_nnz(make):
    # make_sparse_regression(20000, 200000, density=2.5e-4) asked for 29.8 GiB (a permutation
    # of every cell) to build a 12 MB matrix
    import tracemalloc

    n, d, density = 4000, 20_000, 1e-4  # 8e7 cells: a permutation alone would be 640 MB
    tracemalloc.start()
    try:
        X, y, _ = make(n, d, density=density, random_state=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6
    assert X.shape == (n, d) and X.nnz == round(density * n * d)
    assert np.all(np.isfinite(X.data)) and np.all(X.data != 0)
    X2, y2, _ = make(n, d, density=density, random_state=0)
    assert (X != X2).nnz == 0 and np.array_equal(y, y2)
    # positions spread uniformly: every row has about density * d = 2 entries
    assert abs(np.diff(X.tocsr().indptr).mean() - 2.0) < 1e-12
    assert np.diff(X.tocsc().indptr).max() < 15


@pytest.mark.parametrize("text", ["1\t1\tfour\t0\n", "1\t1\n", "1;1;4;0\n"])
def test_load_movielens_malformed_file_names_it(tmp_path, text):
    folder = tmp_path / "ratings" / "ml-100k"
    folder.mkdir(parents=True)
    (folder / "u.data").write_text(text)
    with pytest.raises(ValueError, match=r"u\.data"):
        load_movielens("100k", data_home=tmp_path, download_if_missing=False)
