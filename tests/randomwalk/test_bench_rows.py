"""The random-walk family's rows of ``optsolve bench`` (suite ``randomwalk`` and ``quick``)."""

import dataclasses

import numpy as np
import pytest

from optsolve.bench.registry import BenchProblem, get_registry


def _suite_solvers(suite, problem):
    return [s for s in suite.solvers if s.applies_to(problem)]


def test_randomwalk_suite_rows_build():
    reg = get_registry()
    assert "randomwalk" in reg.names()
    suite = reg["randomwalk"]
    # the sampling rows (cheap to build); the token-SGD row loads data, built in its own test
    sampling = [p for p in suite.problem_sets[0]()]
    assert {p.name for p in sampling} == {
        f"randomwalk/sampling/{g}_1000/{b}"
        for g in ("power_law", "community") for b in ("mh", "srw")
    }
    for p in sampling:
        A = p.data["graph"]
        assert A.shape == (1000, 1000) and (A != A.T).nnz == 0
        names = [s.name for s in _suite_solvers(suite, p)]
        # every row has its peer (the base chain) and SRRW contenders on the same base
        assert p.peer in names
        assert any(n.startswith(f"srrw[{p.data['base']},") for n in names)


def test_quick_sampling_row_reaches_tolerance_and_srrw_needs_fewer_steps():
    reg = get_registry()
    problem = next(p for p in reg["quick"].problems() if p.name.startswith("randomwalk/"))
    assert problem.peer == "mh_walk" and problem.data["graph"].shape == (34, 34)
    # the same row at a looser tolerance and fewer seeds, to keep the test short
    problem = dataclasses.replace(
        problem, tol=0.1, data={**problem.data, "seeds": (0, 1, 2), "max_steps": 20_000})
    outcomes = {}
    for spec in _suite_solvers(reg["quick"], problem):
        outcomes[spec.name] = spec.prepare(problem)()
    assert set(outcomes) == {"mh_walk", "srrw[mh,alpha=10]", "srrw[mh,alpha=20]"}
    for name, out in outcomes.items():
        assert out.success, name
        assert out.metric_value <= problem.tol, name
        assert 0 < out.n_iter <= problem.data["max_steps"]
    # the paper's claim at this budget: the self-repellent walk samples μ in fewer steps
    assert outcomes["srrw[mh,alpha=10]"].n_iter < outcomes["mh_walk"].n_iter


def test_token_rows_on_a_small_problem():
    from optsolve.graphs import make_graph
    from optsolve.randomwalk import DecentralizedProblem, partition_data

    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 4))
    y = np.where(X @ rng.standard_normal(4) + 0.5 * rng.standard_normal(400) > 0, 1.0, -1.0)
    problem = DecentralizedProblem.logistic(partition_data(X, y, 10, random_state=0), 0.1)
    bench_problem = BenchProblem(
        name="randomwalk/token_sgd/test",
        kind="token_sgd",
        data={"problem": problem, "graph": make_graph("cycle", 10),
              "theta_star": problem.solution(), "max_steps": 50_000},
        metric="rel_error",
        tol=0.1,
        peer="token[mh]",
    )
    suite = get_registry()["randomwalk"]
    specs = {s.name: s for s in _suite_solvers(suite, bench_problem)}
    assert {"token[mh]", "token[srrw,alpha=10]", "token[nbrw]", "token[srw]",
            "token[iid]"} <= set(specs)
    for name in ("token[mh]", "token[srrw,alpha=10]"):
        out = specs[name].prepare(bench_problem)()
        assert out.metric_value <= bench_problem.tol, name
        assert 0 < out.n_iter < 50_000


@pytest.mark.data
def test_token_row_builds_on_ijcnn1():
    from optsolve.utils._testing import need_data

    need_data("libsvm/ijcnn1.bz2")
    suite = get_registry()["randomwalk"]
    (problem,) = list(suite.problem_sets[1]())
    assert problem.name == "randomwalk/token_sgd/ijcnn1/power_law_100"
    assert problem.data["problem"].n_nodes == 100
    assert problem.data["theta_star"].shape == (22,)
