"""Other classic equality-constrained problems: Maratos, Himmelblau, ORTHREGB, GENHS28, ELEC.

Definitions follow the CUTEst SIF files named in each ``source`` (SIF constants are right-hand
sides, ``c = group - constant``; a group ``'SCALE' s`` is divided by ``s``).
"""

from __future__ import annotations

import numpy as np

from ._base import LibraryProblem, sym, term

__all__ = ["ELEC", "GENHS28", "HIMMELBA", "HIMMELBC", "HIMMELBE", "MARATOS", "MWRIGHT", "ORTHREGB"]

HIMMELBLAU = ("Himmelblau (1972), Applied Nonlinear Programming, McGraw-Hill, problem {}; "
              "CUTEst SIF {}")


class MARATOS(LibraryProblem):
    name, n, m = "MARATOS", 2, 1
    source = ("Maratos (1978), PhD thesis, Imperial College; penalty 1e-6 as in Brown & "
              "Bartholomew-Biggs (1987), TR 178, Hatfield Polytechnic; CUTEst SIF MARATOS")
    notes = "The classic example where a unit SQP step increases a nonsmooth merit function."
    TAU = 1e-6  # penalty parameter of the SIF file
    x0, x_opt, f_opt = (1.1, 0.1), (1.0, 0.0), -1.0
    objective_terms = (term(-1, {0: 1}, p=1), term(TAU, {0: 1}), term(TAU, {1: 1}),
                       term(-TAU, {}, -1, p=1))  # last: the constant -TAU

    def _cons(self, x):
        return np.array([x @ x - 1])

    def _jac(self, x):
        return 2 * x[None, :]

    def _cons_hessians(self, x):
        return np.array([2 * np.eye(2)])


class MWRIGHT(LibraryProblem):
    name, n, m = "MWRIGHT", 5, 3
    source = ("Wright (1976), Numerical Methods for Nonlinearly Constrained Optimization, PhD "
              "thesis, Stanford, problem 4, start D; CUTEst SIF MWRIGHT")
    notes = ("Several local solutions: f = 1.28838290052174 at (0.863081760276336, "
             "1.5611172956183, 1.71536343559152, 2.20978154529223, 2.31727756517488), 24.6573, "
             "24.9788 (reached from x0, stored), 41.4465. The SIF file records 32.851791437, "
             "which is none of the KKT points found by multistart.")
    other_local_f = (1.28838290052174, 24.6573278080039, 41.4464884)
    x0 = (-1.0, 2.0, 1.0, -2.0, -2.0)
    # the local solution reached from x0 (trust-constr, then Newton on the KKT system)
    x_opt = (-1.29459852340353, 2.46307744073819, 1.21263709800148, -0.164161584542557,
             -1.54488048908163)
    f_opt = 24.978809531753
    objective_terms = (term(1, {0: 1}), term(1, {0: 1, 1: -1}), term(1, {1: 1, 2: -1}, p=3),
                       term(1, {2: 1, 3: -1}, p=4), term(1, {3: 1, 4: -1}, p=4))

    def _cons(self, x):
        x1, x2, x3, x4, x5 = x
        return np.array([x1 + x2**2 + x3**2 - (3 * np.sqrt(2.0) + 2),
                         x2 - x3**2 + x4 - (2 * np.sqrt(2.0) - 2), x1 * x5 - 2])

    def _jac(self, x):
        x1, x2, x3, _, x5 = x
        return np.array([[1.0, 2 * x2, 2 * x3, 0.0, 0.0],
                         [0.0, 1.0, -2 * x3, 1.0, 0.0],
                         [x5, 0.0, 0.0, 0.0, x1]])

    def _cons_hessians(self, x):
        return np.array([sym(5, {(1, 1): 2.0, (2, 2): 2.0}), sym(5, {(2, 2): -2.0}),
                         sym(5, {(0, 4): 1.0})])


class HIMMELBA(LibraryProblem):
    name, n, m, source = "HIMMELBA", 2, 2, HIMMELBLAU.format(25, "HIMMELBA")
    notes = "Constant objective (a system of equations); the SIF scale 0.25 gives c1 = 4 x1 - 20."
    x0, x_opt, f_opt = (8.0, 9.0), (5.0, 6.0), 0.0
    objective_terms = ()
    linear_constraints = ([[4.0, 0.0], [0.0, 1.0]], [20.0, 6.0])


class HIMMELBC(LibraryProblem):
    name, n, m, source = "HIMMELBC", 2, 2, HIMMELBLAU.format(28, "HIMMELBC")
    notes = "Constant objective; the zeros of Himmelblau's function (four roots, all optimal)."
    unique_x = False
    x0, x_opt, f_opt = (1.0, 1.0), (3.0, 2.0), 0.0
    objective_terms = ()

    def _cons(self, x):
        return np.array([x[0] ** 2 + x[1] - 11, x[0] + x[1] ** 2 - 7])

    def _jac(self, x):
        return np.array([[2 * x[0], 1.0], [1.0, 2 * x[1]]])

    def _cons_hessians(self, x):
        return np.array([sym(2, {(0, 0): 2.0}), sym(2, {(1, 1): 2.0})])


class HIMMELBE(LibraryProblem):
    name, n, m, source = "HIMMELBE", 3, 3, HIMMELBLAU.format(30, "HIMMELBE")
    notes = "Constant objective; unique solution (1, 1, 1)."
    x0, x_opt, f_opt = (-1.2, 2.0, 0.0), (1.0, 1.0, 1.0), 0.0
    objective_terms = ()

    def _cons(self, x):
        return np.array([0.25 * (x[0] + x[1]) ** 2 - x[2], x[0] - 1, x[1] - 1])

    def _jac(self, x):
        s = 0.5 * (x[0] + x[1])
        return np.array([[s, s, -1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

    def _cons_hessians(self, x):
        return np.array([sym(3, {(0, 0): 0.5, (0, 1): 0.5, (1, 1): 0.5}), np.zeros((3, 3)),
                         np.zeros((3, 3))])


class GENHS28(LibraryProblem):
    """Scalable HS28: ``min Σ (x_i + x_{i+1})²`` s.t. ``x_i + 2 x_{i+1} + 3 x_{i+2} = 1``.

    A strictly convex QP on the constraint set, so ``x_opt`` is computed by one KKT solve.
    """

    name = "GENHS28"
    source = ("Gould (1991), CUTEst SIF GENHS28: multi-dimensional extension of "
              "Hock & Schittkowski (1981) problem 28")
    scalable = True

    def __init__(self, n: int = 10):
        if int(n) != n or n < 3:
            raise ValueError(f"n must be an integer >= 3 for GENHS28, got {n!r}")
        self.n, self.m = int(n), int(n) - 2
        self.x0 = np.ones(self.n)
        self.x0[0] = -4.0
        self.objective_terms = tuple(term(1, {i: 1, i + 1: 1}) for i in range(self.n - 1))
        C = np.zeros((self.m, self.n))
        for i in range(self.m):
            C[i, i : i + 3] = (1.0, 2.0, 3.0)
        self.linear_constraints = (C, np.ones(self.m))
        super().__init__()
        self.params = {"n": self.n}
        H = self._hess_obj(self.x0)  # constant
        K = np.block([[H, C.T], [C, np.zeros((self.m, self.m))]])
        sol = np.linalg.solve(K, np.concatenate([np.zeros(self.n), np.ones(self.m)]))
        self.x_opt = sol[: self.n]
        self.f_opt = self._obj(self.x_opt)


# ORTHREGB data (SIF): six points at centre ± A (1, 1, 0), ± B (1, -1, 0), ± C (0, 0, 1)
_ORTH_A, _ORTH_B, _ORTH_C, _ORTH_CENTRE = 9.0, 6.0, 7.0, np.array([0.5, 0.5, 0.5])
_ORTH_POINTS = _ORTH_CENTRE + np.array([[_ORTH_A, _ORTH_A, 0], [_ORTH_B, -_ORTH_B, 0],
                                        [-_ORTH_A, -_ORTH_A, 0], [-_ORTH_B, _ORTH_B, 0],
                                        [0, 0, _ORTH_C], [0, 0, -_ORTH_C]])
# positions of H11, H12, H13, H22, H23, H33 in x, as (row, col) of the symmetric matrix H
_ORTH_H_INDEX = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


def _orthregb_solution() -> np.ndarray:
    # an ellipsoid (p - c)ᵀ M (p - c) = 1 through the six points, rewritten as
    # pᵀ H p - 2 gᵀ p = 1 with H = M / k, g = M c / k, k = 1 - cᵀ M c
    s, d = 1 / (2 * _ORTH_A**2), 1 / (2 * _ORTH_B**2)  # M11 + M12 and M11 - M12
    M = np.array([[(s + d) / 2, (s - d) / 2, 0], [(s - d) / 2, (s + d) / 2, 0],
                  [0, 0, 1 / _ORTH_C**2]])
    k = 1 - _ORTH_CENTRE @ M @ _ORTH_CENTRE
    H, g = M / k, M @ _ORTH_CENTRE / k
    return np.concatenate([[H[i, j] for i, j in _ORTH_H_INDEX], g, _ORTH_POINTS.ravel()])


class ORTHREGB(LibraryProblem):
    """Orthogonal regression: fit a quadric ``pᵀHp - 2gᵀp = 1`` orthogonally to six 3-D points.

    Variables: the six entries of symmetric ``H`` (H11, H12, H13, H22, H23, H33), ``g`` (3), then
    the projections ``(x_i, y_i, z_i)`` of the points, interleaved. The points lie on an ellipsoid,
    so ``f_opt = 0`` (solutions are not unique: any quadric through the points).
    """

    name, n, m = "ORTHREGB", 27, 6
    source = ("Gulliksson (1990), UMINF-178.90, University of Umea; CUTEst SIF ORTHREGB "
              "(Toint 1990)")
    notes = "Non-isolated solutions (a family of quadrics through the points); f_opt = 0."
    unique_x = False
    x0 = tuple(np.concatenate([[1.0, 0.0, 0.0, 1.0, 0.0, 1.0], np.zeros(3), _ORTH_POINTS.ravel()]))
    x_opt = tuple(_orthregb_solution())
    f_opt = 0.0
    objective_terms = tuple(term(1, {9 + k: 1}, _ORTH_POINTS.ravel()[k]) for k in range(18))

    @staticmethod
    def _split(x):
        H = np.empty((3, 3))
        for k, (i, j) in enumerate(_ORTH_H_INDEX):
            H[i, j] = H[j, i] = x[k]
        return H, x[6:9], x[9:].reshape(6, 3)

    def _cons(self, x):
        H, g, P = self._split(x)
        return np.einsum("ij,jk,ik->i", P, H, P) - 2 * P @ g - 1

    def _jac(self, x):
        H, g, P = self._split(x)
        J = np.zeros((6, 27))
        for k, (i, j) in enumerate(_ORTH_H_INDEX):
            J[:, k] = P[:, i] * P[:, j] * (1 if i == j else 2)
        J[:, 6:9] = -2 * P
        for r in range(6):
            J[r, 9 + 3 * r : 12 + 3 * r] = 2 * H @ P[r] - 2 * g
        return J

    def _cons_hessians(self, x):
        H, _, P = self._split(x)
        out = np.zeros((6, 27, 27))
        for r in range(6):
            first = 9 + 3 * r  # position of (x_r, y_r, z_r)
            A = np.zeros((27, 27))  # mixed second derivatives, one triangle
            for k, (i, j) in enumerate(_ORTH_H_INDEX):
                # E has H_ii p_i² and 2 H_ij p_i p_j terms
                scale = 1.0 if i == j else 2.0
                A[k, first + i] += scale * P[r, j]
                A[k, first + j] += scale * P[r, i]
            for q in range(3):
                A[6 + q, first + q] = -2.0
            out[r] = A + A.T
            out[r, first : first + 3, first : first + 3] = 2 * H
        return out


# Thomson problem: minimum Coulomb energies of n points on the unit sphere (Wales & Ulker 2006,
# Phys. Rev. B 74, 212101, Table; the Cambridge Cluster Database)
ELEC_ENERGIES = {2: 0.500000000, 3: 1.732050808, 4: 3.674234614, 5: 6.474691495,
                 6: 9.985281374, 7: 14.452977414, 8: 19.675287861, 9: 25.759986531,
                 10: 32.716949460, 11: 40.596450510, 12: 49.165253058}


def _elec_known_solution(n_points: int) -> np.ndarray | None:
    if n_points == 2:
        return np.array([[0, 0, 1.0], [0, 0, -1.0]])
    if n_points == 4:  # regular tetrahedron
        return np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3.0)
    if n_points == 6:  # octahedron
        return np.vstack([np.eye(3), -np.eye(3)])
    if n_points == 12:  # icosahedron
        phi = (1 + np.sqrt(5.0)) / 2
        v = [(0, s1, s2 * phi) for s1 in (1, -1) for s2 in (1, -1)]
        P = np.array([np.roll(t, k) for t in v for k in range(3)], dtype=float)
        return P / np.linalg.norm(P[0])
    return None


class ELEC(LibraryProblem):
    """Electrons on the sphere (Thomson problem): ``min Σ_{i<j} 1/‖p_i - p_j‖``, ``‖p_i‖² = 1``.

    Scalable in ``n_points``; ``x`` stacks the points. ``f_opt`` is tabulated for 2 to 12 points;
    ``x_opt`` is known in closed form for 2, 4, 6 and 12 points. Solutions are not isolated
    (rotations), so the reduced Hessian is singular along three directions. The start is a
    deterministic Fibonacci spiral (the COPS/CUTEst start is random).
    """

    name = "ELEC"
    unique_x = False  # rotations
    source = ("Dolan, Moré & Munson (2004), Benchmarking optimization software with COPS 3.0, "
              "ANL/MCS-TM-273, problem 'elec'; CUTEst SIF ELEC")
    scalable = True

    def __init__(self, n_points: int = 6):
        if int(n_points) != n_points or n_points < 2:
            raise ValueError(f"n_points must be an integer >= 2 for ELEC, got {n_points!r}")
        k = int(n_points)
        self.n, self.m = 3 * k, k
        i = np.arange(k) + 0.5
        z = 1 - 2 * i / k
        theta = np.pi * (1 + np.sqrt(5.0)) * i
        r = np.sqrt(1 - z**2)
        self.x0 = tuple(np.column_stack([r * np.cos(theta), r * np.sin(theta), z]).ravel())
        known = _elec_known_solution(k)
        self.x_opt = None if known is None else tuple(known.ravel())
        self.f_opt = ELEC_ENERGIES.get(k)
        super().__init__()
        self.params = {"n_points": k}

    def _pairs(self, x):
        P = x.reshape(-1, 3)
        D = P[:, None, :] - P[None, :, :]
        r = np.linalg.norm(D, axis=2)
        np.fill_diagonal(r, np.inf)  # no self-interaction
        return P, D, r

    def _obj(self, x):
        _, _, r = self._pairs(x)
        return 0.5 * float(np.sum(1 / r))

    def _grad(self, x):
        _, D, r = self._pairs(x)
        return (-np.sum(D / r[:, :, None] ** 3, axis=1)).ravel()

    def _hess_obj(self, x):
        _, D, r = self._pairs(x)
        k = r.shape[0]
        # B_ij = ∇²_d (1/‖d‖) at d = p_i - p_j = -I/r³ + 3 d dᵀ/r⁵; off-diagonal blocks are -B_ij
        B = (-np.eye(3)[None, None] / r[:, :, None, None] ** 3
             + 3 * D[:, :, :, None] * D[:, :, None, :] / r[:, :, None, None] ** 5)
        H = -B
        H[np.arange(k), np.arange(k)] = B.sum(axis=1)
        return H.transpose(0, 2, 1, 3).reshape(3 * k, 3 * k)

    def _cons(self, x):
        P = x.reshape(-1, 3)
        return np.sum(P**2, axis=1) - 1

    def _jac(self, x):
        P = x.reshape(-1, 3)
        k = P.shape[0]
        J = np.zeros((k, 3 * k))
        for i in range(k):
            J[i, 3 * i : 3 * i + 3] = 2 * P[i]
        return J

    def _hess(self, x, v):
        return self._hess_obj(x) + np.kron(np.diag(2 * v), np.eye(3))

    def _cons_hessians(self, x):
        k = self.m
        return np.array([np.kron(np.diag(np.eye(k)[i]), 2 * np.eye(3)) for i in range(k)])
