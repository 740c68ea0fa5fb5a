"""The family's rows of ``optsolve bench`` (registration, a quick row, the CUTEst note)."""

import pytest

from optsolve.bench.registry import get_registry
from optsolve.problems import cutest_status, s2mpj_status


def test_register_adds_suites_and_quick_rows():
    reg = get_registry()
    assert {"nlp", "cutest", "quick"} <= set(reg.names())
    probs = [p for p in reg["quick"].problems() if p.name.startswith("constrained/")]
    assert probs and all(p.kind == "nlp_eq" for p in probs)
    assert len(reg["nlp"].problems()) >= 40
    cutest = reg["cutest"].problems()
    if not cutest_status()[0] and not s2mpj_status()[0]:
        assert cutest == []
        assert any("pycutest" in note or "CUTEst" in note for note in reg["cutest"].notes)
    elif not cutest_status()[0]:  # the paper's 47 from S2MPJ, the 6 it lacks built in
        assert len(cutest) == 47
        assert sum(p.meta["source"] == "library" for p in cutest) == 6
        assert any("S2MPJ" in note and "Fortran CUTEst is not set up" in note
                   for note in reg["cutest"].notes)


@pytest.mark.parametrize("solver", ["optsolve.eal[kaczmarz]", "scipy.trust-constr"])
def test_quick_row_solves(solver):
    reg = get_registry()
    problem = next(p for p in reg["quick"].problems() if p.name == "constrained/HS40")
    spec = next(s for s in reg["quick"].solvers if s.name == solver)
    outcome = spec.prepare(problem)()
    assert outcome.metric_value <= problem.tol
