import numpy as np
import pytest

from fastkernels.nn import SGD, Adam, AdamW, RMSprop, clip_grad_norm, lr_schedule

BACKENDS = ["cpu", "parallel"]


def grads_seq(rng, shape, n=5):
    return [rng.standard_normal(shape) for _ in range(n)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_momentum_matches_the_seed_form(backend, rng):
    # seed 002 lines 1999-2001: u <- mu u - lr g; theta <- theta + u (constant lr)
    p = rng.standard_normal(7)
    theta, u = p.copy(), np.zeros(7)
    opt = SGD([p], lr=0.1, momentum=0.9, backend=backend)
    for g in grads_seq(rng, 7):
        opt.step([g])
        u = 0.9 * u - 0.1 * g
        theta = theta + u
        np.testing.assert_allclose(p, theta, rtol=1e-13, atol=1e-15)


def test_sgd_plain_weight_decay_and_l1_match_their_equations(rng):
    p = rng.standard_normal(6)
    ref = p.copy()
    opt = SGD(p, lr=0.05, weight_decay=0.1, l1=0.01)
    for g in grads_seq(rng, 6):
        opt.step(g)
        ref = (1 - 0.05 * 0.1) * ref - 0.05 * (g + 0.01 * np.sign(ref))  # seed line 2663
        np.testing.assert_allclose(p, ref, rtol=1e-13)


def test_nesterov_matches_torch_formula(rng):
    p = rng.standard_normal((3, 4))
    ref, v = p.copy(), np.zeros((3, 4))
    opt = SGD([p], lr=0.1, momentum=0.8, nesterov=True)
    for g in grads_seq(rng, (3, 4)):
        opt.step([g])
        v = 0.8 * v + g
        ref = ref - 0.1 * (g + 0.8 * v)
        np.testing.assert_allclose(p, ref, rtol=1e-13)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rmsprop_matches_its_equations(backend, rng):
    p = rng.standard_normal(9)
    ref, r = p.copy(), np.zeros(9)
    opt = RMSprop(p, lr=0.01, rho=0.9, eps=1e-8, backend=backend)
    for g in grads_seq(rng, 9):
        opt.step(g)
        r = 0.9 * r + 0.1 * g * g
        ref = ref - 0.01 * g / (np.sqrt(r) + 1e-8)
        np.testing.assert_allclose(p, ref, rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_and_adamw_match_their_equations(backend, decoupled, rng):
    p = rng.standard_normal(11)
    ref, m, v = p.copy(), np.zeros(11), np.zeros(11)
    lr, b1, b2, eps, wd = 1e-2, 0.9, 0.999, 1e-8, 0.05
    opt = (AdamW if decoupled else Adam)(p, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, backend=backend)
    for t, g in enumerate(grads_seq(rng, 11), start=1):
        opt.step(g)
        if decoupled:
            ref = ref * (1 - lr * wd)
        else:
            g = g + wd * ref
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        ref = ref - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(p, ref, rtol=1e-12)
    assert opt.steps == 5


def test_float32_parameters_and_several_arrays(rng):
    ps = [rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
    ref = [p.astype(np.float64) for p in ps]
    opt = Adam(ps, lr=1e-2)
    gs = [rng.standard_normal(p.shape).astype(np.float32) for p in ps]
    opt.step(gs)
    for p, r, g in zip(ps, ref, gs):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, r - 1e-2 * np.sign(g), rtol=1e-5, atol=1e-6)  # Adam's first step is lr*sign(g)


def test_serial_and_parallel_are_identical(rng):
    a = rng.standard_normal(1001)
    b = a.copy()
    g = rng.standard_normal(1001)
    SGD(a, lr=0.1, momentum=0.5, backend="cpu").step(g)
    SGD(b, lr=0.1, momentum=0.5, backend="parallel").step(g)
    assert np.array_equal(a, b)


def test_lr_can_follow_a_schedule(rng):
    p = np.zeros(3)
    opt = SGD(p, lr=1.0)
    for epoch in range(3):
        opt.lr = lr_schedule("step", 1.0, epoch, step_size=1, gamma=0.5)
        opt.step(np.ones(3))
    np.testing.assert_allclose(p, -(1 + 0.5 + 0.25))


def test_against_torch_where_installed(rng):
    torch = pytest.importorskip("torch")
    for make_fk, make_torch in [
        (lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
         lambda q: torch.optim.SGD([q], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        (lambda p: RMSprop(p, lr=0.01, rho=0.99, eps=1e-8), lambda q: torch.optim.RMSprop([q], lr=0.01, alpha=0.99, eps=1e-8)),
        (lambda p: Adam(p, lr=0.01, weight_decay=0.1), lambda q: torch.optim.Adam([q], lr=0.01, weight_decay=0.1)),
        (lambda p: AdamW(p, lr=0.01, weight_decay=0.1), lambda q: torch.optim.AdamW([q], lr=0.01, weight_decay=0.1)),
    ]:
        p = rng.standard_normal(8)
        q = torch.tensor(p.copy(), requires_grad=True)
        a, b = make_fk(p), make_torch(q)
        for g in grads_seq(rng, 8):
            a.step(g)
            q.grad = torch.tensor(g)
            b.step()
        np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-10)


@pytest.mark.bad_input
class TestBadInput:
    def test_params_must_be_writeable_contiguous_float_arrays(self):
        with pytest.raises(TypeError, match=r"params\[0\] must have dtype float32 or float64, got int64"):
            SGD([np.zeros(3, np.int64)], lr=0.1)
        with pytest.raises(ValueError, match="C-contiguous"):
            SGD([np.zeros((3, 4)).T], lr=0.1)
        ro = np.zeros(3)
        ro.flags.writeable = False
        with pytest.raises(ValueError, match="read-only"):
            SGD([ro], lr=0.1)
        with pytest.raises(TypeError, match="updated in place"):
            SGD([[0.0, 1.0]], lr=0.1)
        with pytest.raises(ValueError, match="at least one array"):
            SGD([], lr=0.1)

    def test_hyperparameters(self):
        p = np.zeros(3)
        with pytest.raises(ValueError, match="lr must be > 0"):
            SGD(p, lr=0.0)
        with pytest.raises(ValueError, match="momentum must be < 1.0"):
            SGD(p, lr=0.1, momentum=1.0)
        with pytest.raises(ValueError, match="nesterov=True needs momentum"):
            SGD(p, lr=0.1, nesterov=True)
        with pytest.raises(ValueError, match=r"betas\[1\] must be < 1.0"):
            Adam(p, betas=(0.9, 1.0))
        with pytest.raises(ValueError, match="eps must be > 0"):
            RMSprop(p, eps=0)

    def test_grads_must_match_and_a_failed_step_changes_nothing(self):
        p = np.ones(3)
        opt = Adam([p], lr=0.1)
        with pytest.raises(ValueError, match=r"grads\[0\] must have shape \(3,\)"):
            opt.step([np.ones(4)])
        with pytest.raises(ValueError, match="grads must hold 1 arrays"):
            opt.step([np.ones(3), np.ones(3)])
        with pytest.raises(TypeError, match=r"grads\[0\] must have dtype float64, got float32"):
            opt.step([np.ones(3, np.float32)])
        assert np.array_equal(p, np.ones(3)) and opt.steps == 0


# -- issue 13 (reliability) regressions ------------------------------------------------------------


def _snapshot(opt):
    return opt.steps, [p.copy() for p in opt.params], {k: [a.copy() for a in v] for k, v in opt.state.items()}


def _assert_same(opt, snap):
    steps, params, state = snap
    assert opt.steps == steps
    for p, q in zip(opt.params, params):
        np.testing.assert_array_equal(p, q)
    for k, v in state.items():
        for a, b in zip(opt.state[k], v):
            np.testing.assert_array_equal(a, b)


@pytest.mark.bad_input
@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop])
def test_a_failed_step_changes_nothing(cls, rng):
    # issue 13 defect 8: a step that raised still counted the step (steps += 1 came first)
    p = rng.standard_normal(5)
    opt = cls([p], lr=0.1)
    opt.step([rng.standard_normal(5)])
    snap = _snapshot(opt)
    for grads, exc, msg in [([np.ones(4)], ValueError, r"grads\[0\] must have shape"),
                            ([np.ones(5, np.float32)], TypeError, "grads"),
                            ([np.ones(5)] * 2, ValueError, "grads must hold 1"),
                            (3.0, TypeError, "grads must be a sequence"),
                            ([p], ValueError, r"grads\[0\] is the memory of params\[0\]"),
                            ([opt.state[next(iter(opt.state))][0]], ValueError, r"grads\[0\] is the memory of state")]:
        with pytest.raises(exc, match=msg):
            opt.step(grads)
        _assert_same(opt, snap)
    opt.lr = -1.0  # changed to an invalid value between steps (a hand-written schedule)
    with pytest.raises(ValueError, match="lr must be > 0"):
        opt.step([np.ones(5)])
    _assert_same(opt, snap)


@pytest.mark.bad_input
def test_overlapping_parameters_and_gradients_are_refused(rng):
    base = np.zeros(6)
    with pytest.raises(ValueError, match=r"params\[1\] overlaps the memory of params\[0\]"):
        SGD([base[:4], base[2:]], lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[1\] is the memory of grads\[0\]"):
        clip_grad_norm([base, base], 1.0)
    g = base[:5]
    opt = SGD(g, lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[0\] overlaps the memory of params\[0\]"):
        opt.step(base[1:])
    assert opt.steps == 0
    with pytest.raises(TypeError, match="betas must be a sequence"):
        Adam([np.zeros(2)], betas=0.9)
    with pytest.raises(ValueError, match="betas must hold 2 items"):
        Adam([np.zeros(2)], betas=(0.9,))
    with pytest.raises(TypeError, match="params must be a sequence"):
        SGD(3.0)
    with pytest.raises(ValueError, match="backend must be one of"):
        SGD([np.zeros(2)], backend="gpu")
