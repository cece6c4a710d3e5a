"""Vectorisable double-precision ``erfc`` for the CPU kernels.

LLVM has no vector ``erfc`` and the llvmlite wheels no SVML, so ``math.erfc`` in a
Numba loop is a scalar libm call per element (the exact GELU was 30x slower than torch's).
Here ``erfc(z) = t exp(P(u) - z^2)`` for ``z >= 0``, with ``t = 2 / (2 + z)``, ``u = 2t - 1``
and ``P`` a degree-24 polynomial: Numerical Recipes' ``erfccheb`` form, the Chebyshev fit of
``log(erfcx(z) / t)`` made by :func:`fit_coefficients` and converted to powers of ``u``
(well conditioned here: the power coefficients stay below 1). Estrin's scheme keeps the
dependency chain short and the code is branch-free, so a loop over elements vectorises;
``erfc(-z) = 2 - erfc(z)``. 3.4x faster than libm over 4M float64 values on 2 cores.

Accuracy (asserted by the tests against SciPy): relative error < 5e-14 for |z| < 6 and
< 2e-13 up to the underflow near z = 26.5 (the rounding of ``-z^2`` inside ``exp``);
erfc(+-inf) = 0, 2 and NaN propagates.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._exp import exp_f64

# Chebyshev coefficients c_0..c_24 of log(erfcx(z) / t) in u = 2t - 1, t = 2 / (2 + z).
COEFFICIENTS = (
    -0.651326859890855, 0.6419697923564924, 0.019476473204186134,
    -0.009561514786809451, -0.0009465953444805524, 0.0003668394978536815,
    4.252332480689835e-05, -2.0278578112533513e-05, -1.624290004384633e-06,
    1.3036558353371173e-06, 1.562644206544426e-08, -8.523809535908081e-08,
    6.529054601836657e-09, 5.059343829734258e-09, -9.913641942082094e-10,
    -2.273651956313855e-10, 9.646784958792242e-11, 2.3940918938414334e-12,
    -6.885973875510094e-12, 8.9446247271309e-13, 3.1331915248736915e-13,
    -1.1281318037174559e-13, 3.256730253149375e-16, 7.03726514375575e-15,
    -1.4459392068033758e-15,
)
# The same polynomial in powers of u (numpy.polynomial.chebyshev.cheb2poly of the above).
_P = (
    -0.6717940840566909, 0.6726432239776655, 0.04734330684178098,
    -0.04689561023141238, -0.009872689361290328, 0.008824938563210113,
    0.0017589334631813798, -0.002345812573575385, -0.00014624592102095534,
    0.0006736792764468711, -9.374076504953529e-05, -0.00017430477396333522,
    7.142390703923052e-05, 3.1748859601433384e-05, -3.025023476215415e-05,
    1.3615978568259313e-07, 8.680490257193327e-06, -2.9588351078518605e-06,
    -1.4269105659740847e-06, 1.2798159076939711e-06, -3.052527114466629e-08,
    -2.880126621351965e-07, 7.345948902261198e-08, 2.951642934151532e-08,
    -1.2129417197704453e-08,
)
(_P0, _P1, _P2, _P3, _P4, _P5, _P6, _P7, _P8, _P9, _P10, _P11, _P12, _P13, _P14, _P15, _P16, _P17, _P18, _P19, _P20, _P21, _P22, _P23, _P24) = _P


@njit(inline="always", cache=True)
def erfc_f64(x):
    """``erfc(x)`` in float64 (accuracy in the module docstring)."""
    x = np.float64(x)
    z = abs(x)
    t = 2.0 / (2.0 + z)
    u = 2.0 * t - 1.0
    # Estrin: pairs, then pairs of pairs with u^2, u^4, u^8, u^16
    u2 = u * u
    u4 = u2 * u2
    u8 = u4 * u4
    u16 = u8 * u8
    a0 = (_P0 + _P1 * u)
    a1 = (_P2 + _P3 * u)
    a2 = (_P4 + _P5 * u)
    a3 = (_P6 + _P7 * u)
    a4 = (_P8 + _P9 * u)
    a5 = (_P10 + _P11 * u)
    a6 = (_P12 + _P13 * u)
    a7 = (_P14 + _P15 * u)
    a8 = (_P16 + _P17 * u)
    a9 = (_P18 + _P19 * u)
    a10 = (_P20 + _P21 * u)
    a11 = (_P22 + _P23 * u)
    a12 = _P24
    b0 = a0 + u2 * a1
    b1 = a2 + u2 * a3
    b2 = a4 + u2 * a5
    b3 = a6 + u2 * a7
    b4 = a8 + u2 * a9
    b5 = a10 + u2 * a11
    b6 = a12
    c0 = b0 + u4 * b1
    c1 = b2 + u4 * b3
    c2 = b4 + u4 * b5
    c3 = b6
    d0 = c0 + u8 * c1
    d1 = c2 + u8 * c3
    e0 = d0 + u16 * d1
    y = t * exp_f64(e0 - z * z)
    return 2.0 - y if x < 0 else y


def fit_coefficients(degree: int = 24, nodes: int = 8000) -> tuple:
    """Refit :data:`COEFFICIENTS` (needs SciPy): least squares at Chebyshev nodes, close to
    the minimax fit for this smooth function."""
    from numpy.polynomial import chebyshev
    from scipy.special import erfcx

    k = np.arange(nodes)
    u = np.cos(np.pi * (k + 0.5) / nodes)
    u = u[u > -0.9999999]  # z < 4e7
    t = (u + 1.0) / 2.0
    z = 2.0 / t - 2.0
    return tuple(float(v) for v in chebyshev.chebfit(u, np.log(erfcx(z)) - np.log(t), degree))
