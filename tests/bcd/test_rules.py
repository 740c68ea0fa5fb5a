"""Every selection rule the API accepts runs as documented in ``optsolve/bcd/rules.py`` under
every update, or is refused with an error naming it."""

import itertools
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import chisquare

from optsolve.bcd import (
    L1,
    L2,
    LeastSquares,
    Logistic,
    Multinomial,
    Quadratic,
    _gpu_ops,
    duality_gap,
    minimize_bcd,
    penalties,
    rules,
)
from optsolve.bcd import _quadratic as Q
from optsolve.bcd import _working_set_kernels as WK
from optsolve.bcd._gpu import solve_device

UPDATES = ("auto", "gradient", "adaptive", "matrix", "newton", "prox-newton", "exact",
           "two-metric")
N, P = 40, 8


def _data(kind, seed=0, n=N, p=P):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * np.exp(0.7 * rng.standard_normal(p))
    y = X @ np.r_[2.0, -1.5, np.zeros(p - 2)] + 0.3 * rng.standard_normal(n)
    if kind == "logistic":
        y = np.where(y > 0, 1.0, -1.0)
    elif kind == "multinomial":
        y = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3])).astype(float)
    return X, y


def test_one_table_of_names_and_codes():
    assert rules.SELECTIONS == tuple(rules.RULES)
    assert set(rules.RULES.values()) == set(rules.RULE_CODES.values())
    assert rules.RULES["gs-q"] == rules.RULES["gsq"] == rules.RULE_GSQ
    assert set(rules.DEVICE_RULES.values()) == set(rules.GREEDY_RULES)


def test_the_cuda_source_reads_the_python_codes():
    csrc = Path(__file__).resolve().parents[2] / "csrc"  # the sources of this checkout
    assert (csrc / _gpu_ops.CODES_HEADER).read_text() == _gpu_ops.codes_header()
    source = (csrc / "bcd_greedy.cu").read_text()
    assert f'#include "{_gpu_ops.CODES_HEADER}"' in source
    # the kernels compare against the named codes, never a literal
    assert not re.search(r"\b(pen|rule|loss) == \d", source)


def test_rule_code_refuses_unknown_and_unsupported_rules():
    with pytest.raises(ValueError, match="selection must be one of"):
        rules.rule_code("best")
    with pytest.raises(ValueError, match="selection='cyclic' is not supported on the device"):
        rules.rule_code("cyclic", rules.GREEDY_RULES, "on the device")


@pytest.mark.parametrize("selection", rules.SELECTIONS)
@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("kind", ["least_squares", "logistic", "multinomial"])
def test_every_selection_under_every_update_runs_or_is_refused(selection, update, kind):
    """A run reaches the L1 solution (its duality gap, checked independently, is small); a
    refusal is a ValueError naming the selection or the update."""
    X, y = _data(kind)
    datafit = {"least_squares": LeastSquares(), "logistic": Logistic(),
               "multinomial": Multinomial()}[kind]
    alpha = 0.05
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = minimize_bcd(datafit, L1(alpha), X=X, y=y, selection=selection, update=update,
                               block_size=2 if update not in ("auto",) else 1, tol=1e-5,
                               max_iter=200_000, random_state=0)
    except ValueError as exc:
        assert "selection" in str(exc) or "update" in str(exc)
        # the refusals are the documented ones
        assert update == "exact" and kind != "least_squares"
        return
    assert res.success
    _, gap = duality_gap(datafit, L1(alpha), X, y, res.x)
    primal0, _ = duality_gap(datafit, L1(alpha), X, y, np.zeros_like(res.x))
    assert gap <= 1e-5 * primal0


@pytest.mark.parametrize("selection", rules.SELECTIONS)
def test_every_selection_solves_a_quadratic(selection):
    rng = np.random.default_rng(1)
    B = rng.standard_normal((12, 12))
    A, b = B @ B.T + 12 * np.eye(12), rng.standard_normal(12)
    res = minimize_bcd(Quadratic(), L1(0.1), X=A, y=b, selection=selection, tol=1e-10,
                       random_state=0)
    assert res.success
    ref = minimize_bcd(Quadratic(), L1(0.1), X=A, y=b, selection="gsq", tol=1e-12).x
    np.testing.assert_allclose(res.x, ref, atol=1e-8)


def _updated_blocks(X, y, selection, block_size, partition, n_iter, x0, random_state=3):
    """Indices of the coordinates each iteration changed (read through the callback)."""
    seen = [x0.copy()]

    def callback(intermediate_result):
        seen.append(np.array(intermediate_result.x))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        minimize_bcd(LeastSquares(), None, X=X, y=y, x0=x0, selection=selection,
                     update="gradient", block_size=block_size, partition=partition, tol=0.0,
                     max_iter=n_iter, random_state=random_state, callback=callback)
    moved = []
    for a, b in itertools.pairwise(seen):
        changed = tuple(np.flatnonzero(b != a))
        # a least-squares coordinate step minimizes exactly: drawn again at once, it stays
        moved.append(changed if changed or not moved else moved[-1])
    return moved


@pytest.mark.parametrize("block_size", [1, 2])
def test_lipschitz_samples_blocks_in_proportion_to_their_constants(block_size):
    """Rule 'lipschitz' draws block b with probability L_b / Σ L (chi-square goodness of fit);
    the uniform distribution is rejected. Short runs from random points: every draw moves its
    block (a run near the solution would have blocks whose step is exactly zero)."""
    rng = np.random.default_rng(0)
    p = 6
    X = rng.standard_normal((50, p)) * np.array([0.3, 0.5, 1.0, 1.4, 2.0, 3.0])
    y = rng.standard_normal(50)
    blocks = [tuple(range(b, b + block_size)) for b in range(0, p, block_size)]
    moved = []
    for run in range(200):
        moved += _updated_blocks(X, y, "lipschitz", block_size, "order", 10,
                                 rng.standard_normal(p), random_state=run)
    counts = np.array([sum(m == blk for m in moved) for blk in blocks], dtype=float)
    assert counts.sum() == len(moved) == 2000  # every iteration moved exactly one whole block
    L = np.array([np.linalg.eigvalsh(X[:, list(b)].T @ X[:, list(b)] / 50)[-1] for b in blocks])
    assert chisquare(counts, counts.sum() * L / L.sum()).pvalue > 1e-3
    assert chisquare(counts).pvalue < 1e-6


def test_lipschitz_sampling_kernel():
    L = np.array([0.1, 1.0, 0.0, 2.5, 0.4])
    u = np.random.default_rng(5).random(20_000)
    cum = np.cumsum(L)
    draws = np.array([rules.sample_lipschitz(cum, t) for t in u])
    counts = np.bincount(draws, minlength=L.shape[0])
    assert counts[2] == 0
    keep = L > 0
    assert chisquare(counts[keep], 20_000 * L[keep] / L.sum()).pvalue > 1e-3


def _scores(rule, X, y, x0, blocks):
    n = X.shape[0]
    g = X.T @ (X @ x0 - y) / n
    lips = np.sum(X * X, axis=0) / n
    out = []
    for b in blocks:
        M = X[:, b].T @ X[:, b] / n
        if rule == "gs":
            out.append(g[b] @ g[b])
        elif rule == "gsl":
            out.append(g[b] @ g[b] / np.linalg.eigvalsh(M)[-1])
        elif rule == "gsd":
            out.append(np.sum(g[b] ** 2 / lips[b]))
        else:
            out.append(0.5 * g[b] @ np.linalg.solve(M, g[b]))
    return np.array(out)


@pytest.mark.parametrize("selection", ["gs", "gsl", "gsd", "gsq"])
@pytest.mark.parametrize("seed", range(4))
def test_greedy_rules_pick_the_block_their_score_ranks_first(selection, seed):
    """The first block updated is the argmax of the rule's documented score."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 8)) * np.exp(rng.standard_normal(8))
    y = rng.standard_normal(30)
    x0 = rng.standard_normal(8)
    blocks = [list(range(b, b + 2)) for b in range(0, 8, 2)]
    scores = _scores(selection, X, y, x0, blocks)
    moved = _updated_blocks(X, y, selection, 2, "order", 1, x0)[0]
    assert list(moved) == blocks[int(np.argmax(scores))]


def test_gsd_and_gsl_differ_on_blocks_and_coincide_on_coordinates():
    X, y = _data("least_squares", seed=2)
    kw = dict(X=X, y=y, tol=1e-10, random_state=0)
    a = minimize_bcd(LeastSquares(), L1(0.05), selection="gsd", **kw)
    b = minimize_bcd(LeastSquares(), L1(0.05), selection="gsl", **kw)
    np.testing.assert_array_equal(a.x, b.x)  # update='auto': coordinate scores, GSD = GSL
    blocks = [list(range(j, j + 2)) for j in range(0, P, 2)]
    for seed in range(200):
        rng = np.random.default_rng(seed)
        X, y = rng.standard_normal((N, P)) * np.exp(rng.standard_normal(P)), rng.standard_normal(N)
        x0 = rng.standard_normal(P)
        gsd, gsl = (int(np.argmax(_scores(r, X, y, x0, blocks))) for r in ("gsd", "gsl"))
        if gsd != gsl:
            break
    else:
        pytest.fail("no instance separates the block rules")
    first = {sel: _updated_blocks(X, y, sel, 2, "order", 1, x0)[0] for sel in ("gsd", "gsl")}
    assert list(first["gsd"]) == blocks[gsd]
    assert list(first["gsl"]) == blocks[gsl]


def test_device_engine_scores_gsd_blocks_with_the_coordinate_constants():
    X, y = _data("least_squares", seed=7)
    x0 = np.zeros(P)
    blocks = [list(range(b, b + 2)) for b in range(0, P, 2)]
    for name in ("gsd", "gsl"):
        out = solve_device(X, y, LeastSquares().code, L2(0.0).code, 0.0, x0,
                           rule=rules.RULES[name], block_size=2, variable=False, tol=0.0,
                           max_iter=1, check_every=1, xp=np)
        moved = list(np.flatnonzero(out.w != x0))
        if name == "gsd":
            want = blocks[int(np.argmax(_scores("gsd", X, y, x0, blocks)))]
        else:  # the device's GSL bounds L_b by the trace of the block's curvature
            g = X.T @ (X @ x0 - y) / N
            lips = np.sum(X * X, axis=0) / N
            want = blocks[int(np.argmax([g[b] @ g[b] / lips[b].sum() for b in blocks]))]
        assert moved == want


# ------------------------------------------------------------------ the inner solvers


def _scored_state(code, m=40, seed=0):
    """A quadratic and a point where every kind of coordinate occurs: at zero, nonzero, and
    about to cross zero (the cases where GS, GSL and GS-q rank differently)."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((2 * m, m)) * np.exp(rng.standard_normal(m))
    H = B.T @ B / (2 * m)
    v = rng.standard_normal(m)
    v[::3] = 0.0
    if code in (penalties.PEN_POS, penalties.PEN_L1_POS):
        v = np.abs(v)
    grad = rng.standard_normal(m) * np.sqrt(np.diag(H))
    return H, v, grad


@pytest.mark.parametrize("code", sorted(penalties.PENALTY_CODES.values()))
@pytest.mark.parametrize("selection", ["gs", "gsl", "gsd", "gsq"])
@pytest.mark.parametrize("seed", range(5))
def test_the_block_model_solver_takes_the_documented_greedy_coordinate(code, selection, seed):
    """One greedy update of ``quad_greedy_cd`` moves the argmax of ``rules.coord_score``."""
    rule = rules.RULES[selection]
    H, v, grad = _scored_state(code, seed=seed)
    alpha = 0.3
    pens, alphas = np.full(v.shape, code), np.full(v.shape, alpha)
    scores = [rules.coord_score(rule, code, alpha, grad[j], v[j], H[j, j])
              for j in range(v.shape[0])]
    v1, g1 = v.copy(), grad.copy()
    assert Q.quad_greedy_cd(H, H @ v - grad, v1, g1, pens, alphas, rule, 0.0, 1, -1) == 1
    assert list(np.flatnonzero(v1 != v)) == [int(np.argmax(scores))]


N_RUNS = 3000


def _first_epoch_law(p_draw):
    """Mean and sd of how often each coordinate moves in N_RUNS epochs of m draws with
    probabilities ``p_draw``: ``Binomial(N_RUNS, 1 - (1 - p_j)^m)`` (a draw of a separable
    model moves its coordinate the first time only)."""
    prob = 1.0 - (1.0 - p_draw) ** p_draw.shape[0]
    return N_RUNS * prob, np.sqrt(N_RUNS * prob * (1 - prob))


@pytest.mark.parametrize("selection", ["random", "lipschitz"])
def test_the_inner_solvers_sample_as_documented(selection):
    L = np.array([0.05, 0.3, 1.0, 2.0, 4.0])
    m = L.shape[0]
    p_draw = L / L.sum() if selection == "lipschitz" else np.full(m, 1.0 / m)
    rule = rules.RULES[selection]
    q = np.ones(m)
    pens, alphas = np.zeros(m, dtype=np.int64), np.zeros(m)

    def dense(seed):  # a diagonal quadratic: one epoch is m updates
        v = np.zeros(m)
        Q.quad_greedy_cd(np.diag(L), q, v, -q.copy(), pens, alphas, rule, 0.0, m, seed)
        return v != 0

    # columns on disjoint rows: the column-CD block model is separable too
    n = 2 * m
    X = sp.csc_matrix((np.sqrt(L * n / 2).repeat(2), (np.arange(n), np.arange(m).repeat(2))),
                      shape=(n, m))

    def columns(seed):
        v, u = np.zeros(m), np.zeros(n)
        WK.ws_model_cd(X.indptr, X.indices, X.data, np.arange(m), np.ones(n), 1.0 / n, -q,
                       np.zeros(m), v, u, pens, alphas, 0.0, 1, rule, seed)
        return v != 0

    expect, sd = _first_epoch_law(p_draw)
    other, sd_other = _first_epoch_law(np.full(m, 1.0 / m) if selection == "lipschitz"
                                       else L / L.sum())
    for run in (dense, columns):
        moved = sum(run(seed).astype(float) for seed in range(N_RUNS))
        assert np.all(np.abs(moved - expect) <= 4.5 * sd + 1), (run.__name__, moved, expect)
        assert np.any(np.abs(moved - other) > 10 * sd_other + 1)
