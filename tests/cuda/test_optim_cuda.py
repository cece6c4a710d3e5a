import numpy as np
import pytest
from numba import cuda

from fastkernels.nn import SGD, Adam, AdamW, RMSprop

MAKERS = {
    "sgd": lambda p, be: SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, l1=0.001, backend=be),
    "rmsprop": lambda p, be: RMSprop(p, lr=0.01, weight_decay=0.01, backend=be),
    "adam": lambda p, be: Adam(p, lr=0.01, weight_decay=0.01, backend=be),
    "adamw": lambda p, be: AdamW(p, lr=0.01, weight_decay=0.05, backend=be),
}


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_steps_match_cpu(name, dtype, rng, threads_per_block):
    shape = (5, 2 * threads_per_block // 5 + 3)  # more elements than one capped grid pass
    p_cpu = rng.standard_normal(shape).astype(dtype)
    p_gpu = p_cpu.copy()
    a, b = MAKERS[name](p_cpu, "cpu"), MAKERS[name](p_gpu, "cuda")
    for _ in range(3):
        g = rng.standard_normal(shape).astype(dtype)
        a.step(g)
        b.step(g)
    # float32: the simulator rounds intermediates to float32 where the CPU keeps float64
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(p_gpu, p_cpu, **tol)
    for sa, sb in zip(a.state.values(), b.state.values()):
        np.testing.assert_allclose(sb[0], sa[0], **tol)


def test_device_parameters_stay_on_the_device(rng):
    p = rng.standard_normal(40)
    d_p = cuda.to_device(p)
    opt = Adam([d_p], lr=0.1, backend="cuda")
    g = rng.standard_normal(40)
    opt.step([cuda.to_device(g)])
    ref = p.copy()
    Adam([ref], lr=0.1, backend="cpu").step([g])
    np.testing.assert_allclose(d_p.copy_to_host(), ref, rtol=1e-13)


class _Foreign:
    """A CuPy array / PyTorch CUDA tensor stand-in: ``__cuda_array_interface__`` and a dtype that
    is not a NumPy dtype (``np.dtype(torch.float32)`` raises). The simulator's arrays expose no
    interface, so ``cuda.as_cuda_array`` is patched to hand back the simulated array it wraps."""

    def __init__(self, d):
        self.wrapped, self.shape, self.ndim, self.dtype = d, d.shape, d.ndim, object()
        self.__cuda_array_interface__ = {"shape": d.shape, "typestr": d.dtype.str, "data": (0, False),
                                         "version": 3, "strides": None}


def test_optimizers_update_foreign_device_arrays_in_place(monkeypatch):
    monkeypatch.setattr(cuda, "as_cuda_array", lambda a: a.wrapped if isinstance(a, _Foreign) else a,
                        raising=False)  # the simulator has no as_cuda_array
    d = cuda.to_device(np.ones(4, np.float32))
    opt = SGD(_Foreign(d), lr=0.5, backend="cuda")
    opt.step(_Foreign(cuda.to_device(np.ones(4, np.float32))))
    np.testing.assert_array_equal(d.copy_to_host(), np.full(4, 0.5, np.float32))
    with pytest.raises(TypeError, match=r"grads\[0\] must have dtype float32"):
        opt.step(_Foreign(cuda.to_device(np.ones(4))))


# -- issue 13 regressions ------------------------------------------------------------------


@pytest.mark.bad_input
def test_a_failed_device_step_changes_nothing(rng):
    # issue 13 defect 8: the step was counted before the checks
    d_p = cuda.to_device(rng.standard_normal(5))
    opt = Adam([d_p], lr=0.1, backend="cuda")
    opt.step([cuda.to_device(np.ones(5))])
    before = d_p.copy_to_host()
    with pytest.raises(ValueError, match=r"grads\[0\] is the memory of params\[0\]"):
        opt.step([d_p])
    with pytest.raises(ValueError, match=r"grads\[0\] must have shape"):
        opt.step([cuda.to_device(np.ones(4))])
    assert opt.steps == 1
    np.testing.assert_array_equal(d_p.copy_to_host(), before)
