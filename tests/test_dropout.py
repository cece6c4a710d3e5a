import numpy as np
import pytest
from scipy import stats

import fastkernels as fk
from fastkernels.nn import dropout, dropout_backward


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_drop_rate_and_scaling(p):
    x = np.ones((400, 250))
    y = dropout(x, p, seed=3)
    kept = y != 0
    # binomial test on 100 000 draws with a fixed seed
    assert stats.binomtest(int((~kept).sum()), x.size, p).pvalue > 1e-3
    np.testing.assert_allclose(y[kept], 1 / (1 - p))
    assert abs(y.mean() - 1) < 0.02  # inverted dropout keeps the expectation


def test_same_mask_on_every_backend_and_thread_count_and_in_backward(rng):
    x = rng.standard_normal((37, 19)).astype(np.float32)
    ref = dropout(x, 0.3, seed=11, step=4, backend="cpu")
    for n in range(1, fk.get_num_threads() + 1):
        with fk.num_threads(n):
            assert np.array_equal(dropout(x, 0.3, seed=11, step=4, backend="parallel"), ref)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx = dropout_backward(dy, 0.3, seed=11, step=4)
    assert np.array_equal(dx == 0, ref == 0)
    np.testing.assert_allclose(dx[ref != 0], dy[ref != 0] / 0.7, rtol=1e-6)


def test_steps_and_seeds_draw_different_masks(rng):
    x = np.ones(1000)
    a, b, c = dropout(x, 0.5, seed=1), dropout(x, 0.5, seed=1, step=1), dropout(x, 0.5, seed=2)
    assert not np.array_equal(a, b) and not np.array_equal(a, c)


def test_edge_probabilities_eval_mode_and_out(rng):
    x = rng.standard_normal((4, 5))
    assert np.array_equal(dropout(x, 0.0, seed=0), x)
    assert not dropout(x, 1.0, seed=0).any()
    assert dropout(x, 0.5, seed=0, training=False) is x
    out = np.empty_like(x)
    assert dropout(x, 0.5, seed=0, out=out) is out


def test_gradient_is_the_jacobian_of_the_forward(rng):
    x = rng.standard_normal(12)
    r = rng.standard_normal(12)
    g = dropout_backward(r, 0.4, seed=9, step=2)
    fk.nn.gradcheck(lambda v: float(np.sum(dropout(v, 0.4, seed=9, step=2) * r)), x, g)


@pytest.mark.bad_input
def test_bad_input():
    with pytest.raises(ValueError, match="p must be <= 1.0"):
        dropout(np.ones(3), 1.5, seed=0)
    with pytest.raises(ValueError, match="step must be >= 0"):
        dropout(np.ones(3), 0.5, seed=0, step=-1)
    with pytest.raises(TypeError, match="seed must be"):
        dropout(np.ones(3), 0.5, seed="a")
    with pytest.raises(TypeError, match="x must have dtype"):
        dropout(np.ones(3, np.int64), 0.5, seed=0)
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'seed'"):
        dropout(np.ones(3), 0.5)


# -- issue 13 (reliability) regressions ------------------------------------------------------------


@pytest.mark.bad_input
@pytest.mark.parametrize("kw", [dict(p=1.0), dict(training=False), dict(p=0.0)], ids=["p1", "eval", "p0"])
def test_every_path_validates_everything(kw):
    # issue 13 defect 7: p=1 and training=False skipped validation (seed, step, out, x)
    x = np.ones((2, 3))
    kw = dict(dict(p=0.5, seed=0, step=0, training=True), **kw)
    for bad, exc, msg in [(dict(seed="a"), TypeError, "seed must be"), (dict(seed=-1), ValueError, "seed must be"),
                          (dict(step=-1), ValueError, "step must be >= 0"),
                          (dict(step=1.5), TypeError, "step must be an integer"),
                          (dict(out=np.zeros((3, 2))), ValueError, "out must have shape"),
                          (dict(training="no"), TypeError, "training must be True or False")]:
        with pytest.raises(exc, match=msg):
            dropout(x, **dict(kw, **bad))
    with pytest.raises(TypeError, match="x must have dtype"):
        dropout(np.ones(3, np.int64), **kw)
    with pytest.raises(ValueError, match="p must be <= 1.0"):
        dropout(x, **dict(kw, p=1.5))


def test_eval_mode_fills_out_and_p1_keeps_nan_visible(rng):
    x = rng.standard_normal((3, 4))
    out = np.zeros_like(x)
    assert dropout(x, 0.5, seed=0, training=False, out=out) is out
    np.testing.assert_array_equal(out, x)
    y = dropout(np.array([1.0, np.nan, -2.0]), 1.0, seed=0)  # x * 0, as torch: NaN is not hidden
    assert y[0] == 0 and np.isnan(y[1]) and y[2] == 0


@pytest.mark.bad_input
def test_out_overlapping_x_shifted_by_one_is_refused(rng):
    # issue 13 defect 2
    base = rng.standard_normal(7)
    keep = base.copy()
    with pytest.raises(ValueError, match="out overlaps the memory of x"):
        dropout(base[:6].reshape(2, 3), 0.5, seed=0, out=base[1:].reshape(2, 3))
    with pytest.raises(ValueError, match="out overlaps the memory of dy"):
        dropout_backward(base[:6].reshape(2, 3), 0.5, seed=0, out=base[1:].reshape(2, 3))
    np.testing.assert_array_equal(base, keep)
    x = base[:6].copy()
    want = dropout(x, 0.5, seed=3)
    assert dropout(x, 0.5, seed=3, out=x) is x  # exactly x: in place
    np.testing.assert_array_equal(x, want)


@pytest.mark.bad_input
def test_a_generator_seed_advances_only_when_a_mask_is_drawn():
    g = np.random.default_rng(0)
    state = g.bit_generator.state
    dropout(np.ones(3), 0.5, seed=g, training=False)
    with pytest.raises(ValueError, match="out must have shape"):
        dropout(np.ones(3), 0.5, seed=g, out=np.ones(4))
    assert g.bit_generator.state == state
    dropout(np.ones(3), 0.5, seed=g)
    assert g.bit_generator.state != state
