"""Results, callbacks (scipy semantics), option registries, history, progress, validation."""

import logging

import numpy as np
import pytest
from scipy.optimize import OptimizeResult

from optsolve import _optimize as opt
from optsolve import _validation as val


def test_callback_intermediate_result_and_stop():
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result)
        if len(seen) == 2:
            raise StopIteration

    assert not opt.call_callback(cb, x=np.ones(2), fun=1.0)
    assert opt.call_callback(cb, x=np.zeros(2), fun=0.5)
    assert isinstance(seen[0], OptimizeResult) and seen[1].fun == 0.5


def test_legacy_callback_gets_a_copy_of_x():
    got = []
    x = np.ones(3)
    opt.call_callback(lambda xk: got.append(xk), x=x, fun=0.0)
    got[0][0] = 42.0
    assert x[0] == 1.0


def test_make_result_fields():
    r = opt.make_result(np.ones(2), 3.0, success=True, status=0, message="ok", nit=4, nfev=5)
    assert r.success is True and r.nit == 4 and r.nfev == 5 and r.message == "ok"


def test_history_records():
    h = opt.History(measure="gap")
    h.record(0, 2.0, 1e-1)
    h.record(1, 1.0, 1e-3)
    d = h.as_dict()
    assert list(d) == ["iteration", "objective", "gap", "time"]
    assert np.all(np.diff(d["time"]) >= 0) and len(h) == 2


def test_progress_reporter_logs_at_verbose_2(caplog):
    with caplog.at_level(logging.INFO, logger="optsolve"):
        with opt.ProgressReporter(3, "demo", verbose=2, measure="gap") as p:
            p.update(1, 1.0, 1e-2)
    assert any("1.000e-02" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: val.check_array_finite(np.array([1.0, np.nan]), "X"), r"X contains non-finite"),
        (lambda: val.check_vector(np.ones((2, 2)), "y"), "y must be 1-D"),
        (lambda: val.check_vector(np.ones(3), "y", size=2), "y must have length 2"),
        (lambda: val.check_consistent_rows(X=np.ones((3, 2)), y=np.ones(2)), "X has 3, y has 2"),
        (lambda: val.check_scalar_in_range(-1.0, "alpha", low=0), r"alpha must be in \[0, inf\]"),
        (lambda: val.check_positive_int(0, "max_iter"), "max_iter must be > 0"),
        (lambda: val.check_in_choices("x", "rule", {"gs", "gsl"}), "rule must be one of"),
    ],
)
def test_validation_messages_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_validation_type_errors():
    with pytest.raises(TypeError, match="alpha must be a real number"):
        val.check_scalar_in_range("1", "alpha")
    with pytest.raises(TypeError, match="max_iter must be an integer"):
        val.check_positive_int(1.5, "max_iter")
