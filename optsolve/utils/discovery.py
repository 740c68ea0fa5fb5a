"""Find every public estimator in optsolve (used by the common scikit-learn checks)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator

#: subpackages whose import needs an optional extra and is skipped when it is missing
_OPTIONAL_IMPORT_ERRORS = (ImportError,)


def all_estimators() -> list[tuple[str, type]]:
    """Return ``(name, class)`` for every public estimator defined in an optsolve subpackage.

    Walks ``optsolve.<family>`` packages and collects ``BaseEstimator`` subclasses listed in
    their ``__all__``. Sorted by name, de-duplicated.

    Examples
    --------
    >>> from optsolve.utils import all_estimators
    >>> isinstance(all_estimators(), list)
    True
    """
    import optsolve

    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(optsolve.__path__):
        if not info.ispkg or info.name.startswith("_") or info.name in {"bench", "utils"}:
            continue
        try:
            mod = importlib.import_module(f"optsolve.{info.name}")
        except _OPTIONAL_IMPORT_ERRORS:  # pragma: no cover - optional extras
            continue
        for name in getattr(mod, "__all__", ()):
            try:
                obj = getattr(mod, name, None)
            except ImportError:  # a lazily imported module of a family still being written
                continue
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("optsolve.")
                and not name.startswith("_")
            ):
                found[name] = obj
    return sorted(found.items())
