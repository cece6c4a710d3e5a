import numpy as np
import pytest

import copy
import pickle

from fastkernels._io import save_npz
from fastkernels.nn import MLP, gradcheck


@pytest.mark.parametrize("output,activation,batch_norm,drop", [
    ("softmax", "relu", False, 0.0), ("softmax", "tanh", True, 0.0), ("sigmoid", "gelu", False, 0.3),
    ("linear", "leaky_relu", True, 0.2)])
def test_full_backward_matches_finite_differences(output, activation, batch_norm, drop, rng):
    m = MLP([4, 5, 3, 2], activation, output, batch_norm=batch_norm, dropout=drop, seed=1, dtype=np.float64)
    X = rng.standard_normal((6, 4))
    y = rng.integers(0, 2, 6) if output == "softmax" else rng.random((6, 2))
    _, g = m.loss_and_grad(X, y)
    flat = m.flat_params
    saved = {i: (rm.copy(), rv.copy()) for i, (rm, rv) in m.running.items()}

    def f(theta):
        keep = flat.copy()
        flat[...] = theta
        loss, _ = m.loss_and_grad(X, y)
        flat[...] = keep
        return loss

    gradcheck(f, flat.copy(), g, rtol=1e-5, atol=1e-7)
    assert saved.keys() == m.running.keys()


def test_digits_reaches_95_percent_in_seconds():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    m = MLP([64, 64, 10], "relu", seed=0)
    hist = m.fit(X[:1350], y[:1350], epochs=20, batch_size=32, optimizer="adam", lr=3e-3).history_
    assert hist["loss"][-1] < hist["loss"][0]
    assert m.score(X[1350:], y[1350:]) >= 0.95


def test_8_3_8_autoencoder_reconstructs_all_patterns():
    # seed 001 section 8 / seed 002: the 8-3-8 encoder learns a 3-bit code
    eye = np.eye(8, dtype=np.float32)
    ae = MLP([8, 3, 8], "sigmoid", "sigmoid", seed=1)
    ae.fit(eye, eye, epochs=2000, batch_size=8, optimizer="adam", lr=0.05, verbose=False)
    assert np.array_equal(ae.predict(eye), eye)
    codes = ae._net._forward(eye, training=False)[1][1][0]  # the 3 hidden units' activations = the output layer's input
    dist = np.linalg.norm(codes[:, None] - codes[None], axis=-1) + np.eye(8)
    assert codes.shape == (8, 3) and dist.min() > 0.1  # eight distinct codes through 3 units


def test_regression_and_r2(rng):
    X = rng.standard_normal((200, 3)).astype(np.float32)
    y = (np.sin(X[:, :1]) + 0.5 * X[:, 1:2]).astype(np.float32)
    m = MLP([3, 32, 1], "tanh", "linear", seed=0)
    m.fit(X, y, epochs=60, batch_size=20, optimizer="adam", lr=1e-2, verbose=False)
    assert m.score(X, y) > 0.9


def test_same_seed_same_model_and_save_load_round_trip(rng, tmp_path):
    X = rng.standard_normal((40, 5)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    a, b = MLP([5, 8, 3], seed=3, batch_norm=True, dropout=0.1), MLP([5, 8, 3], seed=3, batch_norm=True, dropout=0.1)
    a.fit(X, y, epochs=3, verbose=False)
    b.fit(X, y, epochs=3, verbose=False)
    assert np.array_equal(a.flat_params, b.flat_params)
    a.save(tmp_path / "m.npz")
    c = MLP.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(c.predict_proba(X), a.predict_proba(X))
    np.testing.assert_allclose(a.predict_proba(X).sum(axis=1), 1, rtol=1e-5)


def test_early_stopping_restores_the_best_weights(rng, capsys):
    X = rng.standard_normal((60, 4)).astype(np.float32)
    y = rng.integers(0, 2, 60)  # pure noise: validation loss soon rises
    m = MLP([4, 64, 2], seed=0)
    hist = m.fit(X[:40], y[:40], epochs=200, lr=0.5, validation_data=(X[40:], y[40:]), early_stopping=3,
                 verbose=True).history_
    assert len(hist["loss"]) < 200 and "early stopping" in capsys.readouterr().out
    assert m.score(X[40:], y[40:]) == pytest.approx(hist["val_accuracy"][int(np.argmin(hist["val_loss"]))])


@pytest.mark.bad_input
class TestBadInput:
    def test_architecture(self):
        X, y = np.zeros((2, 3)), [0, 1]
        # scikit-learn's rule: the constructor only stores; fit (or first use) checks
        with pytest.raises(ValueError, match="at least an input and an output"):
            MLP([3]).fit(X, y)
        with pytest.raises(ValueError, match=r"layer_sizes\[1\] must be >= 1"):
            MLP([3, 0, 2]).fit(X, y)
        with pytest.raises(ValueError, match="output must be one of"):
            MLP([3, 2], output="tanh").flat_params
        with pytest.raises(TypeError, match=r"layer_sizes\[1\] must be an integer \(only the first and the last"):
            MLP([3, None, 2]).fit(X, y)

    def test_data(self, rng):
        m = MLP([3, 4, 2], seed=0)
        X = rng.standard_normal((5, 3))
        with pytest.raises(ValueError, match=r"y holds 3 distinct labels \[0, 1, 2\] but the model has 2 outputs"):
            m.fit(X, [0, 1, 2, 0, 1], verbose=False)
        with pytest.raises(ValueError, match="X has 2 features, but MLP is expecting 3 features"):
            m.fit(X[:, :2], [0] * 5, verbose=False)
        X[1, 1] = np.nan
        with pytest.raises(ValueError, match="X must be finite"):
            m.fit(X, [0] * 5, verbose=False)
        with pytest.raises(ValueError, match="early_stopping needs validation_data"):
            m.fit(np.zeros((5, 3)), [0] * 5, early_stopping=2, verbose=False)
        with pytest.raises(ValueError, match="y must lie in"):
            MLP([3, 2], output="sigmoid").fit(np.zeros((2, 3)), np.full((2, 2), 2.0), verbose=False)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_compiled_epoch_equals_the_kernel_by_kernel_path(optimizer, activation, rng):
    X = rng.standard_normal((130, 12)).astype(np.float32)
    y = rng.integers(0, 4, 130)
    a, b = MLP([12, 9, 7, 4], activation, seed=5), MLP([12, 9, 7, 4], activation, seed=5)
    ha = a.fit(X, y, epochs=2, batch_size=32, optimizer=optimizer, lr=0.02, weight_decay=1e-3).history_
    hb = b.fit(X, y, epochs=2, batch_size=32, optimizer=optimizer, lr=0.02, weight_decay=1e-3,
               compiled=False).history_
    assert a._net._compiled_ok(optimizer)
    np.testing.assert_allclose(a.flat_params, b.flat_params, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-6)
    assert ha["accuracy"] == hb["accuracy"]


def _network(model):
    model.flat_params  # initialises it
    return model._net


def test_models_outside_the_compiled_case_use_the_kernel_path():
    assert not _network(MLP([3, 4, 2], "gelu"))._compiled_ok("sgd")
    assert not _network(MLP([3, 4, 2], dropout=0.5))._compiled_ok("sgd")
    assert not _network(MLP([3, 4, 2], output="linear"))._compiled_ok("adam")
    assert not _network(MLP([3, 4, 2]))._compiled_ok("rmsprop")


@pytest.mark.bad_input
def test_load_rejects_a_file_of_another_architecture(tmp_path):
    m = MLP([3, 4, 2], seed=0)
    m.save(tmp_path / "m.npz")
    data = {k: v for k, v in np.load(tmp_path / "m.npz").items() if not k.startswith("__")}
    data["layer_sizes"] = np.array([3, 5, 2])
    save_npz(tmp_path / "bad.npz", "fastkernels.MLP", 1, data)  # a well-formed file of the wrong architecture
    with pytest.raises(ValueError, match=r"bad.npz: entry 'flat' has shape \(26,\), expected \(32,\)"):
        MLP.load(tmp_path / "bad.npz")


def test_batch_norm_batch_of_one_row_is_refused_before_training(rng):
    X, y = rng.standard_normal((9, 4)), rng.integers(0, 3, 9)
    m = MLP([4, 5, 3], batch_norm=True, seed=0)
    before = m.flat_params.copy()
    with pytest.raises(ValueError, match="batch of 1"):
        m.fit(X, y, epochs=1, batch_size=4, verbose=False)  # 4 + 4 + 1
    np.testing.assert_array_equal(m.flat_params, before)
    m.fit(X, y, epochs=1, batch_size=3, verbose=False)


# -- issue 13 (reliability) regressions ------------------------------------------------------------


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_a_copied_model_trains_exactly_like_the_original(how, batch_norm, rng):
    # issue 13 defect 3: after unpickling, params[...] no longer aliased the flat buffer, so the
    # optimizer (which updates the flat buffer) and the forward pass (which reads the views) diverged
    X, y = rng.standard_normal((30, 4)).astype(np.float32), rng.integers(0, 3, 30)
    m = MLP([4, 6, 3], seed=1, batch_norm=batch_norm, warm_start=True)
    m.fit(X, y, epochs=1, verbose=False)
    c = pickle.loads(pickle.dumps(m)) if how == "pickle" else copy.deepcopy(m)
    for key, view in c.params.items():
        assert np.shares_memory(view, c.flat_params), key
    assert not np.shares_memory(c.flat_params, m.flat_params)
    for model in (m, c):
        model.fit(X, y, epochs=2, verbose=False, compiled=False)
    np.testing.assert_array_equal(c.flat_params, m.flat_params)
    np.testing.assert_array_equal(c.predict_proba(X), m.predict_proba(X))


@pytest.mark.bad_input
def test_float64_data_beyond_float32_is_refused_before_the_cast():
    # issue 13 defect 5: 1e308 passed the finiteness check, became inf in float32, and the fit ended in NaN
    m = MLP([2, 3, 2], seed=0)
    before = m.flat_params.copy()
    X = np.array([[0.0, 1e308], [1.0, 0.0]])
    for call in (lambda: m.fit(X, [0, 1], verbose=False), lambda: m.predict(X), lambda: m.score(X, [0, 1])):
        with pytest.raises(ValueError, match=r"X holds 1e\+308, beyond the float32 range"):
            call()
    np.testing.assert_array_equal(m.flat_params, before)
    assert m.history["loss"] == []
    r = MLP([2, 1], output="linear", seed=0)
    with pytest.raises(ValueError, match="y holds 1e\\+300"):
        r.fit(np.zeros((2, 2)), np.array([1.0, 1e300]), verbose=False)


def _saved(tmp_path, **kw):
    m = MLP([3, 4, 2], seed=0, **kw)
    m.save(tmp_path / "m.npz")
    return m, {k: v for k, v in np.load(tmp_path / "m.npz").items() if not k.startswith("__")}


@pytest.mark.bad_input
@pytest.mark.parametrize("edit,msg", [
    (dict(layer_sizes=np.array([3.0, 4.5, 2.0])), "entry 'layer_sizes' has dtype float64"),
    (dict(layer_sizes=np.array([3, -4, 2])), "entry 'layer_sizes' must hold at least two sizes >= 1"),
    (dict(layer_sizes=np.array([3, 10**12, 2])), "layer_sizes asks for"),
    (dict(activation=np.array("swish")), "entry 'activation' is 'swish'"),
    (dict(output=np.array(1)), "entry 'output' has dtype int64"),
    (dict(dropout=np.array(1.0)), r"entry 'dropout' must lie in \[0, 1\)"),
    (dict(dtype=np.array("float16")), "entry 'dtype' must be 'float32' or 'float64'"),
    (dict(flat="float64"), "entry 'flat' has dtype float64, expected float32"),
    (dict(flat="nan"), "entry 'flat' holds NaN or inf"),
    (dict(running_var_0="negative"), "entry 'running_var_0' holds a negative variance"),
    (dict(running_mean_0=None), "missing entry 'running_mean_0'"),
    (dict(junk=np.zeros(1)), r"unexpected entries \['junk'\]"),
])
def test_load_validates_every_entry(tmp_path, edit, msg):
    # issue 13 defect 6: wrong dtypes were cast, layer_sizes of 4.5 and negative running variances accepted
    _, data = _saved(tmp_path, batch_norm=True)
    for k, v in edit.items():
        if v is None:
            data.pop(k)
        elif isinstance(v, str):
            data[k] = {"float64": data[k].astype(np.float64), "nan": np.full_like(data[k], np.nan),
                       "negative": -np.ones_like(data[k])}[v]
        else:
            data[k] = v
    path = tmp_path / "edited.npz"
    save_npz(path, "fastkernels.MLP", 1, data)
    with pytest.raises(ValueError, match=f"edited.npz: .*{msg}"):
        MLP.load(path)


@pytest.mark.bad_input
def test_load_turns_every_damaged_file_into_one_value_error(tmp_path):
    # issue 13 defect 6: truncated or foreign files raised EOFError / BadZipFile / KeyError
    m, data = _saved(tmp_path)
    raw = (tmp_path / "m.npz").read_bytes()
    cases = {"empty": b"", "truncated": raw[: len(raw) // 2], "text": b"hello\n",
             "flipped": raw[:200] + bytes([raw[200] ^ 0xFF]) + raw[201:]}
    for name, content in cases.items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(content)
        with pytest.raises(ValueError, match=f"{name}.npz: "):
            MLP.load(path)
    np.savez(tmp_path / "old.npz", **data)  # the format before issue 13 (never released)
    with pytest.raises(ValueError, match="old.npz: not a fastkernels.MLP file"):
        MLP.load(tmp_path / "old.npz")
    with pytest.raises(FileNotFoundError):
        MLP.load(tmp_path / "absent.npz")
    np.testing.assert_array_equal(MLP.load(tmp_path / "m.npz").flat_params, m.flat_params)


@pytest.mark.bad_input
def test_a_diverged_model_is_not_saved(tmp_path):
    m = MLP([3, 2], seed=0)
    m.flat_params[0] = np.nan
    with pytest.raises(ValueError, match="flat_params hold 1 NaN or inf"):
        m.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.bad_input
def test_malformed_arguments_give_clear_errors(rng):
    # issue 13 defect 9: ZeroDivisionError on an empty training set; unpacking errors
    m = MLP([3, 4, 2], seed=0)
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    with pytest.raises(ValueError, match="X has no rows"):
        m.fit(X[:0], y[:0], verbose=False)
    with pytest.raises(ValueError, match="validation_data must hold 2 items, got 1"):
        m.fit(X, y, validation_data=(X,), verbose=False)
    with pytest.raises(TypeError, match="validation_data must be a sequence"):
        m.fit(X, y, validation_data=X[0, 0], verbose=False)
    with pytest.raises(ValueError, match=r"validation_data\[0\] has 2 features, but MLP is expecting 3"):
        m.fit(X, y, validation_data=(X[:, :2], y), verbose=False)
    with pytest.raises(TypeError, match="layer_sizes must be a sequence"):
        MLP(5).fit(X, y)
    with pytest.raises(TypeError, match=r"layer_sizes\[1\] must be an integer, got float 4.5"):
        MLP([3, 4.5, 2]).fit(X, y)
    with pytest.raises(TypeError, match="dtype must be one of float32 or float64"):
        MLP([3, 2], dtype="nonsense").fit(X, y)
    with pytest.raises(TypeError, match="seed must be"):
        MLP([3, 2], seed="0").fit(X, y)  # checked up front, like every other argument
    with pytest.raises(TypeError, match="batch_norm must be True or False"):
        MLP([3, 2], batch_norm="no").fit(X, y)
    with pytest.raises(ValueError, match="momentum must be < 1.0"):
        m.fit(X, y, optimizer="adam", momentum=5.0, verbose=False)  # ignored by adam, still checked
    assert m.history["loss"] == []


@pytest.mark.bad_input
def test_huge_sizes_are_refused_up_front():
    # issue 13 defect 10: NumPy's "array is too big" / "maximum allowed dimension"
    with pytest.raises(ValueError, match="layer_sizes asks for .* more than"):
        MLP([10**12, 10**6]).flat_params
    with pytest.raises(ValueError, match="layer_sizes asks for .*GiB"):
        MLP([10**6, 10**6, 2]).flat_params
    m = MLP([2, 2], seed=0)
    X = np.zeros((3, 2))
    m.fit(X, [0, 1, 0], batch_size=10**12, epochs=1, verbose=False)  # batch > data: one batch, no huge buffer
    m.fit(X, [0, 1, 0], batch_size=10**12, epochs=1, verbose=False, compiled=False)
