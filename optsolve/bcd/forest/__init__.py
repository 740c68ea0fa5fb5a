"""Forest-structured blocks solved by message passing (Nutini, Laradji & Schmidt 2022, §5).

For a quadratic ``1/2 x'Ax - b'x`` whose dependency graph restricted to a block is a forest,
the block is minimised exactly in ``O(|block|)`` by eliminating leaves towards the roots and
back-substituting. :func:`minimize_forest_bcd` runs block coordinate descent with greedy-tree,
random-tree, tree-partition and red–black blocks; :class:`BCDLabelPropagation` uses it for
graph-based semi-supervised learning (the harmonic-function solution).

Names are imported lazily so that ``import optsolve.bcd.forest`` compiles no numba kernel.
"""

from ..._lazy import attach

_LAZY = {
    "minimize_forest_bcd": ".solver",
    "BCDLabelPropagation": ".label_propagation",
    "solve_forest": ".message_passing",
    "forest_partition": ".blocks",
    "is_forest": ".blocks",
    "lattice_tree_partition": ".blocks",
    "red_black_partition": ".blocks",
    "affinity_graph": ".graphs",
    "harmonic_system": ".graphs",
    "label_propagation_lattice": ".graphs",
    "lattice_graph": ".graphs",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
