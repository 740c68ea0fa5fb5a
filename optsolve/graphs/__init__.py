"""Communication graphs shared by the decentralized solvers: construction, validation,
Laplacians, gossip weights and spectral quantities."""

from .construction import (
    complete_graph,
    cycle_graph,
    erdos_renyi_graph,
    grid_graph,
    make_graph,
    path_graph,
    random_geometric_graph,
    star_graph,
)
from .spectral import (
    check_graph,
    connected_components,
    laplacian,
    metropolis_weights,
    spectral_gap,
)

__all__ = [
    "check_graph",
    "complete_graph",
    "connected_components",
    "cycle_graph",
    "erdos_renyi_graph",
    "grid_graph",
    "laplacian",
    "make_graph",
    "metropolis_weights",
    "path_graph",
    "random_geometric_graph",
    "spectral_gap",
    "star_graph",
]
