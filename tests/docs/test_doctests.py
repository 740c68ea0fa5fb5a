"""Every docstring example of the package runs and prints what it shows (doctest).

One test per module of ``optsolve`` holding examples; a module whose optional dependency
(CuPy, PyTorch, mpi4py...) is missing is skipped with the import error as reason.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import optsolve

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# optional dependencies whose absence skips a module's examples instead of failing them
OPTIONAL = {"cupy", "cupyx", "torch", "mpi4py", "pycutest", "cvxpy", "networkx", "ray"}


def _module_names() -> list[str]:
    names = ["optsolve"]
    for info in pkgutil.walk_packages(optsolve.__path__, prefix="optsolve."):
        names.append(info.name)
    return sorted(names)


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing = (getattr(exc, "name", None) or "").split(".")[0]
        if missing in OPTIONAL:
            pytest.skip(f"{name} needs the optional dependency {missing!r}")
        raise


@pytest.mark.parametrize("modname", _module_names())
def test_docstring_examples(modname, monkeypatch):
    module = _import(modname)
    finder = doctest.DocTestFinder(exclude_empty=True)
    # a public name re-exported by several modules is tested where it is defined
    tests = [t for t in finder.find(module, modname) if t.examples]
    tests = [t for t in tests if _defined_here(t, module)]
    if not tests:
        pytest.skip(f"{modname} has no docstring example")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    failures, attempted = [], 0
    for test in tests:
        runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
        report: list[str] = []
        runner.run(test, out=report.append, clear_globs=True)
        attempted += runner.tries
        if runner.failures:
            failures.append("".join(report))
    assert attempted > 0
    if failures:
        pytest.fail(f"{len(failures)} docstring(s) failed in {modname}:\n" + "\n".join(failures))


def _defined_here(test: doctest.DocTest, module) -> bool:
    """Whether the docstring of ``test`` belongs to ``module`` (not an imported object)."""
    if test.name == module.__name__:
        return True
    obj = module
    for part in test.name[len(module.__name__) + 1 :].split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return True
    owner = getattr(obj, "__module__", None)
    if owner is None and hasattr(obj, "__func__"):
        owner = getattr(obj.__func__, "__module__", None)
    return owner is None or owner == module.__name__
