"""clip_grad_norm, the global-norm gradient clip (fastkernels.nn.clipping)."""

import math

import numpy as np
import pytest

from fastkernels.nn import clip_grad_norm


def test_clip_grad_norm_follows_the_seed(rng):
    # seed 002 line 3182: ||clip(g)|| = eta when ||g|| > eta, direction kept; unchanged otherwise
    g1, g2 = rng.standard_normal(5), rng.standard_normal((2, 3)).astype(np.float32)
    total = math.sqrt(np.sum(g1**2) + np.sum(g2.astype(np.float64) ** 2))
    d1, d2 = g1 / total, g2 / total
    assert clip_grad_norm([g1, g2], 0.5) == pytest.approx(total)
    assert math.sqrt(np.sum(g1**2) + np.sum(g2.astype(np.float64) ** 2)) == pytest.approx(0.5, rel=1e-6)
    np.testing.assert_allclose(g1 / 0.5, d1, rtol=1e-12)
    np.testing.assert_allclose(g2 / 0.5, d2, rtol=1e-5)
    g = np.array([0.3, 0.4])
    assert clip_grad_norm(g, 1.0) == pytest.approx(0.5) and np.array_equal(g, [0.3, 0.4])
