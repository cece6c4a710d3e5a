"""MLP training on the GPU (data and parameters on the device) against the CPU kernel path."""

import numpy as np
import pytest

from fastkernels.nn import MLP


def _data(rng, n=13, d=6, c=3):
    X = rng.standard_normal((n, d))
    y = rng.integers(0, c, n)
    return X, y


CONFIGS = [  # output, activation, optimizer, dropout, batch_norm
    ("softmax", "relu", "rmsprop", 0.0, False),
    ("softmax", "gelu", "sgd", 0.3, True),
    ("sigmoid", "tanh", "adam", 0.2, False),
    ("linear", "leaky_relu", "sgd", 0.0, True),
]
# Batch norm runs with SGD: the biases before it get a zero gradient up to rounding, which
# RMSprop and Adam would normalise into O(lr) steps of rounding noise.


def _targets(rng, output, y, c=3):
    if output == "softmax":
        return y
    if output == "sigmoid":
        return (rng.random((y.size, c)) < 0.4).astype(np.float64)
    return rng.standard_normal((y.size, c))


@pytest.mark.parametrize("output,activation,optimizer,dropout,batch_norm", CONFIGS)
def test_fit_on_cuda_matches_the_cpu_kernel_path(output, activation, optimizer, dropout, batch_norm, rng):
    X, y = _data(rng)  # 13 rows at batch 8: a full and a ragged batch per epoch
    y = _targets(rng, output, y)
    kw = dict(epochs=2, batch_size=8, optimizer=optimizer, lr=0.05, shuffle=True, verbose=False)
    opts = dict(output=output, dropout=dropout, batch_norm=batch_norm, seed=3, dtype=np.float64)
    cpu = MLP([6, 5, 4, 3], activation, backend="cpu", **opts)
    gpu = MLP([6, 5, 4, 3], activation, backend="cuda", **opts)
    h_cpu = cpu.fit(X, y, compiled=False, **kw).history_  # the kernel-by-kernel path, same shuffles and masks
    h_gpu = gpu.fit(X, y, **kw).history_
    np.testing.assert_allclose(gpu.flat_params, cpu.flat_params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_gpu["loss"], h_cpu["loss"], rtol=1e-10)
    np.testing.assert_allclose(h_gpu["accuracy"], h_cpu["accuracy"], rtol=1e-12)  # NaN for a linear output
    for i, (rm, rv) in cpu.running.items():  # batch norm's running statistics came back too
        np.testing.assert_allclose(gpu.running[i][0], rm, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gpu.running[i][1], rv, rtol=1e-10)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_float32_validation_and_early_stopping_on_cuda(rng):
    X, y = _data(rng, n=20)
    Xv, yv = X[:6], y[:6]
    kw = dict(epochs=3, batch_size=16, optimizer="adam", lr=0.05, validation_data=(Xv, yv), early_stopping=1,
              verbose=False)
    cpu = MLP([6, 8, 3], "relu", seed=1, backend="cpu")
    gpu = MLP([6, 8, 3], "relu", seed=1, backend="cuda")
    h_cpu, h_gpu = cpu.fit(X, y, compiled=False, **kw).history_, gpu.fit(X, y, **kw).history_
    assert gpu.flat_params.dtype == np.float32
    assert len(h_gpu["val_loss"]) == len(h_cpu["val_loss"]) >= 1
    np.testing.assert_allclose(h_gpu["loss"], h_cpu["loss"], rtol=1e-4)
    np.testing.assert_allclose(h_gpu["val_loss"], h_cpu["val_loss"], rtol=1e-4)
    # the best epoch's parameters are restored (they came back from the device)
    z = gpu.decision_function(Xv).astype(np.float64)
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    np.testing.assert_allclose(np.mean(lse - z[np.arange(len(yv)), yv]), min(h_gpu["val_loss"]), rtol=1e-5)


def test_elementwise_losses_summed_over_several_blocks_per_batch(rng, monkeypatch):
    from fastkernels import _launch

    monkeypatch.setattr(_launch, "THREADS_PER_BLOCK", 32)  # 8 rows x 5 outputs: 2 blocks per full batch
    monkeypatch.setattr(_launch, "MAX_BLOCKS", 3)
    X = rng.standard_normal((13, 6))
    y = rng.standard_normal((13, 5))
    kw = dict(epochs=1, batch_size=8, optimizer="sgd", lr=0.05, verbose=False)
    cpu = MLP([6, 4, 5], "relu", output="linear", seed=2, dtype=np.float64, backend="cpu")
    gpu = MLP([6, 4, 5], "relu", output="linear", seed=2, dtype=np.float64, backend="cuda")
    np.testing.assert_allclose(gpu.fit(X, y, **kw).loss_curve_, cpu.fit(X, y, compiled=False, **kw).loss_curve_,
                               rtol=1e-12)
    np.testing.assert_allclose(gpu.flat_params, cpu.flat_params, rtol=1e-10, atol=1e-12)


@pytest.mark.bad_input
def test_bad_input_on_cuda_is_refused_before_anything_reaches_the_device(rng):
    X, y = _data(rng)
    m = MLP([6, 4, 3], "relu", batch_norm=True, seed=0, backend="cuda")
    before = m.flat_params.copy()
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="X"):
        m.fit(bad, y, epochs=1, verbose=False)
    with pytest.raises(ValueError, match="y holds 1 distinct labels"):
        m.fit(X, np.full(len(y), 3), epochs=1, verbose=False)
    with pytest.raises(ValueError, match="early_stopping needs validation_data"):
        m.fit(X, y, epochs=1, early_stopping=2, verbose=False)
    with pytest.raises(ValueError, match="batch of 1"):
        m.fit(X, y, epochs=1, batch_size=12, verbose=False)  # 13 rows: 12 + 1
    np.testing.assert_array_equal(m.flat_params, before)


@pytest.mark.bad_input
def test_cuda_fit_refuses_float32_overflow_and_device_data(rng):
    # issue 13 defect 5: 1e308 became inf in the cast to float32
    from numba import cuda

    X, y = _data(rng)
    m = MLP([6, 4, 3], seed=0, backend="cuda")
    before = m.flat_params.copy()
    X[3, 3] = 1e308
    with pytest.raises(ValueError, match="X holds 1e\\+308, beyond the float32 range"):
        m.fit(X, y, epochs=1, verbose=False)
    X[3, 3] = 0.5
    with pytest.raises(TypeError, match="X on the device must have the model's dtype float32, got float64"):
        m.fit(cuda.to_device(X), y, epochs=1, verbose=False)
    with pytest.raises(TypeError, match="X is a device array; pass a host array"):
        MLP([6, 4, 3], seed=0, backend="cpu").fit(cuda.to_device(X), y, epochs=1, verbose=False)
    np.testing.assert_array_equal(m.flat_params, before)
