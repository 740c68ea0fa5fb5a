"""Sphinx configuration for the optsolve documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` from the repository root.
The API pages are generated from each family's ``__all__`` (see :func:`_write_api_pages`);
the notebooks in ``examples/`` are executed once during the build by myst-nb.
"""

import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
# The notebook kernels inherit this environment: a non-interactive MPLBACKEND (CI sets Agg)
# would replace the inline backend and the figures of notebooks without ``%matplotlib inline``
# would never reach the page.
os.environ.pop("MPLBACKEND", None)

import optsolve  # noqa: E402

project = "optsolve"
author = "the optsolve developers"
copyright = "2026, the optsolve developers"
version = release = optsolve.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax served from the site itself: the math renders offline and in CI screenshots
    "sphinx-mathjax-offline",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["custom.css"]

html_theme = "pydata_sphinx_theme"
html_title = f"optsolve {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "secondary_sidebar_items": {"**": ["page-toc"], "benchmarks": []},
}
# single pages without siblings: no empty "Section Navigation" column
html_sidebars = {"index": [], "getting_started": [], "benchmarks": []}
html_show_sourcelink = False

# autodoc / autosummary / numpydoc
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()


# myst-nb: the notebooks run once per build on the cheap sizes they are stored with
nb_execution_mode = os.environ.get("OPTSOLVE_DOCS_EXECUTE", "force")
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# The modules whose ``__all__`` makes up the public API, with their page titles.
API_MODULES = [
    ("optsolve.bcd", "Greedy block coordinate descent"),
    ("optsolve.bcd.forest", "Forest-structured BCD"),
    ("optsolve.constrained", "Constrained optimization"),
    ("optsolve.completion", "Matrix completion"),
    ("optsolve.pruning", "Layer-adaptive pruning"),
    ("optsolve.decentralized", "Decentralized optimization"),
    ("optsolve.randomwalk", "Self-repellent random walks"),
    ("optsolve.problems", "Test problems"),
    ("optsolve.graphs", "Communication graphs"),
    ("optsolve.datasets", "Datasets"),
    ("optsolve.bench", "Benchmark runner"),
    ("optsolve.utils", "Utilities"),
]


def _public_names(modname):
    """Names of ``modname.__all__`` documented on its page (re-exports documented elsewhere)."""
    module = importlib.import_module(modname)
    names = []
    for name in sorted(module.__all__):
        obj = getattr(module, name)
        home = getattr(obj, "__module__", modname) or modname
        # a name re-exported from another public module is documented there once
        for other, _ in API_MODULES:
            if other != modname and home.startswith(other) and not modname.startswith(other):
                if name in importlib.import_module(other).__all__:
                    break
        else:
            names.append(name)
    return names


def _write_api_pages():
    """Write ``docs/api/<module>.rst``: one autosummary table per public module."""
    out = HERE / "api"
    out.mkdir(exist_ok=True)
    for modname, title in API_MODULES:
        names = _public_names(modname)
        lines = [
            f".. _api-{modname}:",
            "",
            f"``{modname}`` — {title}",
            "=" * (len(modname) + len(title) + 7),
            "",
            f".. automodule:: {modname}",
            "   :no-members:",
            "   :no-index:",
            "",
            f".. currentmodule:: {modname}",
            "",
            ".. autosummary::",
            "   :toctree: generated",
            "   :nosignatures:",
            "",
        ]
        lines += [f"   {name}" for name in names]
        text = "\n".join(lines) + "\n"
        path = out / f"{modname}.rst"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    index = [
        "API reference",
        "=============",
        "",
        "Every public name of every family, generated from the modules' ``__all__``. Each page",
        "comes from the numpydoc docstring; the examples in them are doctested in CI.",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
    ] + [f"   {modname}" for modname, _ in API_MODULES]
    text = "\n".join(index) + "\n"
    path = out / "index.rst"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_write_api_pages()


def _copy_notebooks():
    """Copy ``examples/*.ipynb`` into ``docs/notebooks/`` (Sphinx reads sources below ``docs/``)."""
    out = HERE / "notebooks"
    out.mkdir(exist_ok=True)
    for src in sorted((ROOT / "examples").glob("*.ipynb")):
        dst = out / src.name
        data = src.read_bytes()
        if not dst.exists() or dst.read_bytes() != data:
            dst.write_bytes(data)


_copy_notebooks()
