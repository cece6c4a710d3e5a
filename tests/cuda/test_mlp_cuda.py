"""MLP training on the GPU (data and parameters on the device) against the CPU kernel path."""

import numpy as np
import pytest

from fastkernels.nn import MLP


def _data(rng, n=13, d=6, c=3):
    X = rng.standard_normal((n, d))
    y = rng.integers(0, c, n)
    return X, y


@pytest.mark.parametrize("activation,optimizer", [("relu", "sgd"), ("tanh", "adam"), ("gelu", "rmsprop")])
def test_fit_on_cuda_matches_the_cpu_kernel_path(activation, optimizer, rng):
    X, y = _data(rng)  # 13 rows at batch 8: a full and a ragged batch per epoch
    kw = dict(epochs=2, batch_size=8, optimizer=optimizer, lr=0.05, shuffle=True, verbose=False)
    cpu = MLP([6, 5, 4, 3], activation, seed=3, dtype=np.float64, backend="cpu")
    gpu = MLP([6, 5, 4, 3], activation, seed=3, dtype=np.float64, backend="cuda")
    h_cpu = cpu.fit(X, y, compiled=False, **kw)  # the kernel-by-kernel path, same shuffles
    h_gpu = gpu.fit(X, y, **kw)
    np.testing.assert_allclose(gpu.flat_params, cpu.flat_params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_gpu["loss"], h_cpu["loss"], rtol=1e-10)
    assert h_gpu["accuracy"] == h_cpu["accuracy"]
    np.testing.assert_array_equal(gpu.predict(X), cpu.predict(X))


def test_float32_validation_and_early_stopping_on_cuda(rng):
    X, y = _data(rng, n=20)
    Xv, yv = X[:6], y[:6]
    kw = dict(epochs=3, batch_size=16, optimizer="adam", lr=0.05, validation_data=(Xv, yv), early_stopping=1,
              verbose=False)
    cpu = MLP([6, 8, 3], "relu", seed=1, backend="cpu")
    gpu = MLP([6, 8, 3], "relu", seed=1, backend="cuda")
    h_cpu, h_gpu = cpu.fit(X, y, compiled=False, **kw), gpu.fit(X, y, **kw)
    assert gpu.flat_params.dtype == np.float32
    assert len(h_gpu["val_loss"]) == len(h_cpu["val_loss"]) >= 1
    np.testing.assert_allclose(h_gpu["loss"], h_cpu["loss"], rtol=1e-4)
    np.testing.assert_allclose(h_gpu["val_loss"], h_cpu["val_loss"], rtol=1e-4)
    # the best epoch's parameters are restored (they came back from the device)
    z = gpu.decision_function(Xv).astype(np.float64)
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    np.testing.assert_allclose(np.mean(lse - z[np.arange(len(yv)), yv]), min(h_gpu["val_loss"]), rtol=1e-5)


def test_unsupported_model_on_cuda_is_refused_before_training(rng):
    X, y = _data(rng)
    m = MLP([6, 4, 3], "relu", dropout=0.2, seed=0, backend="cuda")
    before = m.flat_params.copy()
    with pytest.raises(ValueError, match="CUDA covers softmax"):
        m.fit(X, y, epochs=1, verbose=False)
    np.testing.assert_array_equal(m.flat_params, before)
