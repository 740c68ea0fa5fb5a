"""scikit-learn's common estimator checks over every public optsolve estimator.

Estimators are discovered (``optsolve.utils.all_estimators``), so the list grows as families
land. An estimator that needs constructor arguments provides them through a class attribute
``_common_test_params`` (dict), and expected failures through ``_common_expected_failures``
(dict check name -> written reason).
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from optsolve.utils import all_estimators

ESTIMATORS = [cls(**getattr(cls, "_common_test_params", {})) for _, cls in all_estimators()]


def _expected_failures(est):
    return dict(getattr(type(est), "_common_expected_failures", {}))


if ESTIMATORS:

    @parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
    def test_sklearn_compatible_estimator(estimator, check):
        check(estimator)


def test_all_estimators_are_public_and_unique():
    names = [name for name, _ in all_estimators()]
    assert len(names) == len(set(names))
    for name in names:
        assert not name.startswith("_")
        assert name[0].isupper(), f"{name} is not a class name"


@pytest.mark.parametrize("name_cls", all_estimators(), ids=lambda nc: nc[0])
def test_estimators_have_numpydoc_example(name_cls):
    _, cls = name_cls
    doc = cls.__doc__ or ""
    for section in ("Parameters", "Attributes", "Examples"):
        assert section in doc, f"{cls.__name__} docstring lacks a {section} section"
