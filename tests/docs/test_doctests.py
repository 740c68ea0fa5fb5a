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


PUBLIC_MODULES = [
    "optsolve.bcd",
    "optsolve.bcd.forest",
    "optsolve.constrained",
    "optsolve.completion",
    "optsolve.pruning",
    "optsolve.decentralized",
    "optsolve.randomwalk",
    "optsolve.problems",
    "optsolve.graphs",
    "optsolve.datasets",
    "optsolve.bench",
    "optsolve.utils",
]

# Public callables still without an example, each with why. Shrink this list; never grow it.
WITHOUT_EXAMPLE = {
    # exceptions and warnings: raised by the library, not called by users
    "CUTEstUnavailableError": "exception",
    "S2MPJUnavailableError": "exception",
    "FiniteDifferenceWarning": "warning",
    "DownloadError": "exception",
    # needs the network
    "download": "downloads from the public source",
    # abstract interface / records filled in by the library
    "ModelAdapter": "abstract base class for framework adapters",
    "RateDistortionCurves": "record returned by compute_curves (whose example shows it)",
    "BenchProblem": "record of the benchmark registry",
    "SolveOutcome": "record of the benchmark registry",
    "SolverSpec": "record of the benchmark registry",
    "Suite": "record of the benchmark registry",
    "Registry": "built by get_registry (whose example shows it)",
    "TimedComparison": "record returned by compare_solvers",
    "run_suite": "runs a whole benchmark suite (minutes)",
    "get_cache_home": "machine-dependent path",
}


@pytest.mark.parametrize("modname", PUBLIC_MODULES)
def test_every_public_callable_has_an_example(modname):
    module = _import(modname)
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not callable(obj) or name in WITHOUT_EXAMPLE:
            continue
        if ">>>" not in (getattr(obj, "__doc__", None) or ""):
            missing.append(name)
    assert not missing, f"{modname}: public names without a docstring example: {missing}"


def test_the_list_of_names_without_example_is_current():
    have_example = []
    for modname in PUBLIC_MODULES:
        module = _import(modname)
        for name in module.__all__:
            if name in WITHOUT_EXAMPLE and ">>>" in (getattr(module, name).__doc__ or ""):
                have_example.append(name)
    assert not have_example, f"remove from WITHOUT_EXAMPLE, they have examples: {have_example}"
