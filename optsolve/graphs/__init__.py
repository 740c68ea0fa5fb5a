"""Communication graphs shared by the decentralized solvers: construction, conversion and
validation, Laplacians, gossip weights, spectral quantities and effective resistances.

Every function that takes a graph accepts a SciPy sparse adjacency, a dense array or a
``networkx.Graph``.
"""

from .adjacency import as_adjacency, check_graph, connected_components, edge_list
from .construction import (
    GRAPH_KINDS,
    barbell_graph,
    community_graph,
    complete_graph,
    cycle_graph,
    erdos_renyi_graph,
    grid_graph,
    make_graph,
    path_graph,
    power_law_graph,
    random_geometric_graph,
    star_graph,
)
from .resistance import chi1, chi2, effective_resistances, weighted_laplacian
from .spectral import laplacian, metropolis_weights, spectral_gap

__all__ = [
    "GRAPH_KINDS",
    "as_adjacency",
    "barbell_graph",
    "check_graph",
    "chi1",
    "chi2",
    "community_graph",
    "complete_graph",
    "connected_components",
    "cycle_graph",
    "edge_list",
    "effective_resistances",
    "erdos_renyi_graph",
    "grid_graph",
    "laplacian",
    "make_graph",
    "metropolis_weights",
    "path_graph",
    "power_law_graph",
    "random_geometric_graph",
    "spectral_gap",
    "star_graph",
    "weighted_laplacian",
]
