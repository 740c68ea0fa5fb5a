"""BA-L1: one point of the Ladybug bundle-adjustment data as 12 equations in 57 unknowns.

CUTEst's BA-L1 (Gould 2016, from the "Bundle Adjustment in the Large" project of Agarwal,
Snavely, Seitz & Szeliski) is missing from S2MPJ: its SIF element is a Fortran function whose
``y`` residual reuses the ``x`` call's saved temporaries, which does not translate. It is
transcribed here from the SIF file, with exact derivatives by second-order forward-mode
differentiation (each residual depends on 12 variables, so its 12 x 12 Hessian is cheap).
"""

from __future__ import annotations

import numpy as np

from ._base import LibraryProblem

__all__ = ["BA_L1"]

# the point's observations by cameras 1, 2, 4, 27, 30, 37 (pixels), SIF CONSTANTS RX(I), RY(I)
OBSERVATIONS = np.array([
    [-332.65, 262.09], [-199.76, 166.7], [-253.06, 202.27],
    [58.13, 271.89], [238.22, 237.37], [317.55, 221.15],
])  # fmt: skip

# SIF START POINT: the point (X, Y, Z), then per camera (RX, RY, RZ, TX, TY, TZ, KA, KB, F)
START_POINT = np.array([
    -0.6120001572, 0.57175904776, -1.847081276,
    0.01574151594, -0.0127909362, -0.0044008498, -0.0340938396, -0.107513871, 1.1202240291,
    -3.177064e-7, 5.882049e-13, 399.75152639,
    0.01597732412, -0.0252244646, -0.0094001416, -0.0085667661, -0.1218804907, 0.7190133075,
    -3.780477e-7, 9.307431e-13, 402.01753386,
    0.01484625118, -0.0210628994, -0.001166948, -0.0249509707, -0.1139847055, 0.92166020737,
    -3.295265e-7, 6.732885e-13, 400.40175368,
    0.01991666998, -1.22433082, 0.0119988756, -1.411897512, -0.1148065151, 0.44915582738,
    5.95875e-8, -2.48391e-13, 407.03024568,
    0.02082242153, -1.238434791, 0.01389314763, -1.049686225, -0.1299513286, 0.33798380231,
    4.5673127e-8, -1.79243e-13, 405.91764962,
    0.01658816461, -1.247226838, 0.01846788123, -0.8617315756, -0.1321089362, 0.28256800868,
    4.7465711e-8, -1.50881e-13, 404.73590637,
])  # fmt: skip

N_LOCAL = 12  # element variables: RX RY RZ X Y Z TX TY TZ KA KB F (the SIF's order)


class _Jet:
    """A value with its gradient and Hessian in the 12 element variables (forward mode)."""

    __slots__ = ("g", "h", "v")

    def __init__(self, v, g, h):
        self.v, self.g, self.h = v, g, h

    @staticmethod
    def variable(value: float, i: int) -> _Jet:
        g = np.zeros(N_LOCAL)
        g[i] = 1.0
        return _Jet(float(value), g, np.zeros((N_LOCAL, N_LOCAL)))

    def __add__(self, o):
        if isinstance(o, _Jet):
            return _Jet(self.v + o.v, self.g + o.g, self.h + o.h)
        return _Jet(self.v + o, self.g, self.h)

    __radd__ = __add__

    def __neg__(self):
        return _Jet(-self.v, -self.g, -self.h)

    def __sub__(self, o):
        return self + (-o)

    def __rsub__(self, o):
        return (-self) + o

    def __mul__(self, o):
        if isinstance(o, _Jet):
            cross = np.outer(self.g, o.g)
            return _Jet(self.v * o.v, self.v * o.g + o.v * self.g,
                        self.v * o.h + o.v * self.h + cross + cross.T)
        return _Jet(self.v * o, self.g * o, self.h * o)

    __rmul__ = __mul__

    def apply(self, f0: float, f1: float, f2: float) -> _Jet:
        """``φ(self)`` from ``φ, φ', φ''`` at ``self.v`` (the chain rule to second order)."""
        return _Jet(f0, f1 * self.g, f1 * self.h + f2 * np.outer(self.g, self.g))

    def reciprocal(self) -> _Jet:
        return self.apply(1.0 / self.v, -1.0 / self.v**2, 2.0 / self.v**3)

    def __truediv__(self, o):
        return self * (o.reciprocal() if isinstance(o, _Jet) else 1.0 / o)


def _sin(a: _Jet) -> _Jet:
    return a.apply(np.sin(a.v), np.cos(a.v), -np.sin(a.v))


def _cos(a: _Jet) -> _Jet:
    return a.apply(np.cos(a.v), -np.sin(a.v), -np.cos(a.v))


def _sqrt(a: _Jet) -> _Jet:
    s = np.sqrt(a.v)
    return a.apply(s, 0.5 / s, -0.25 / (s * a.v))


def snavely_residuals(v: np.ndarray) -> tuple[_Jet, _Jet]:
    """Projected pixel coordinates ``(rx, ry)`` of the SIF element ``E`` (function ``ba``).

    ``v`` = (RX, RY, RZ, X, Y, Z, TX, TY, TZ, KA, KB, F). The point is rotated by the Rodrigues
    vector ``w = (RX, RY, RZ)`` (angle ``θ = ‖w‖``, axis ``e = w/θ``; ``R x ≈ x + w × x`` when
    ``θ² <= ε``), shifted by ``T``, projected ``d = -(c_x, c_y) / c_z``, radially distorted by
    ``1 + KA‖d‖² + KB‖d‖⁴`` and scaled by ``F``.

    As in the SIF file, the second camera coordinate is
    ``c_y = Y cos θ + (e_z X - e_x Z) sin θ + e_x p`` with ``p = (e·x)(1 - cos θ)``: the Rodrigues
    formula has ``e_y p`` there; CUTEst's BA-L1 is defined by the ``e_x`` of its source.
    """
    J = [_Jet.variable(v[i], i) for i in range(N_LOCAL)]
    r1, r2, r3, x1, x2, x3, s1, s2, s3, k1, k2, fl = J
    tt = r1 * r1 + r2 * r2 + r3 * r3
    if tt.v > np.finfo(float).eps:
        t = _sqrt(tt)
        ct, st = _cos(t), _sin(t)
        ex, ey, ez = r1 / t, r2 / t, r3 / t
        p = (ex * x1 + ey * x2 + ez * x3) * (1.0 - ct)
        cx = x1 * ct + (ey * x3 - ez * x2) * st + ex * p
        cy = x2 * ct + (ez * x1 - ex * x3) * st + ex * p  # sic: e_x, as in the SIF source
        cz = x3 * ct + (ex * x2 - ey * x1) * st + ez * p
    else:
        cx = x1 + r2 * x3 - r3 * x2
        cy = x2 + r3 * x1 - r1 * x3
        cz = x3 + r1 * x2 - r2 * x1
    cx, cy, cz = cx + s1, cy + s2, cz + s3
    dx, dy = -cx / cz, -cy / cz
    cc = dx * dx + dy * dy
    d = 1.0 + k1 * cc + k2 * (cc * cc)
    return fl * d * dx, fl * d * dy


class BA_L1(LibraryProblem):
    """Bundle adjustment, Ladybug data (camera 1, 2, 4, 27, 30, 37; one point): ``f = 0`` and
    ``c_{2k-1}, c_{2k}`` = reprojection of the point by camera ``k`` minus its observation.

    Variables (57): the point ``X1, Y1, Z1``, then per camera ``RX, RY, RZ, TX, TY, TZ, KA,
    KB, F``. Constraints (12): ``RX1, RY1, ..., RX6, RY6``. An underdetermined system whose
    start point (the BAL reconstruction) leaves residuals of a few pixels.
    """

    name, n, m = "BA-L1", 57, 12
    source = ("CUTEst SIF BA-L1 (N. Gould, Nov 2016); data: Bundle Adjustment in the Large, "
              "Ladybug set (Agarwal, Snavely, Seitz & Szeliski, ECCV 2010)")
    notes = ("Infinitely many roots (12 equations in 57 unknowns); the SIF's e_x in "
             "the rotated y coordinate is kept (see snavely_residuals).")
    objective_terms = ()
    f_opt = 0.0
    unique_x = False
    x0 = START_POINT

    @property
    def x_opt(self) -> np.ndarray:
        """A root: minimum-norm Newton steps ``x <- x - J⁺c`` from ``x0`` (computed once)."""
        root = self.__dict__.get("_root")
        if root is None:
            root = self.x0.copy()
            for _ in range(50):
                c = self._cons(root)
                if np.abs(c).max() < 1e-11:
                    break
                root = root - np.linalg.lstsq(self._jac(root), c, rcond=None)[0]
            self.__dict__["_root"] = root
        return root

    def _blocks(self):
        for k in range(6):
            cam = 3 + 9 * k
            # local order RX RY RZ | X Y Z | TX TY TZ KA KB F  ->  global indices
            yield k, np.r_[cam:cam + 3, 0:3, cam + 3:cam + 9]

    def _jets(self, x):
        return [(k, idx, snavely_residuals(x[idx])) for k, idx in self._blocks()]

    def _cons(self, x):
        out = np.empty(self.m)
        for k, _, (rx, ry) in self._jets(x):
            out[2 * k], out[2 * k + 1] = rx.v - OBSERVATIONS[k, 0], ry.v - OBSERVATIONS[k, 1]
        return out

    def _jac(self, x):
        J = np.zeros((self.m, self.n))
        for k, idx, (rx, ry) in self._jets(x):
            J[2 * k, idx], J[2 * k + 1, idx] = rx.g, ry.g
        return J

    def _hess(self, x, v):
        H = np.zeros((self.n, self.n))
        for k, idx, (rx, ry) in self._jets(x):
            H[np.ix_(idx, idx)] += v[2 * k] * rx.h + v[2 * k + 1] * ry.h
        return H
