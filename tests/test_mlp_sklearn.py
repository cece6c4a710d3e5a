"""MLP as a scikit-learn estimator (issue 18): scikit-learn's own tools and estimator checks.

fastkernels does not depend on scikit-learn; these tests run where it is installed.
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", minversion="1.6")  # estimator tags (__sklearn_tags__) came in 1.6

from sklearn.base import clone, is_classifier, is_regressor  # noqa: E402
from sklearn.datasets import make_blobs, make_regression  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastkernels.nn import MLP  # noqa: E402


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=90, centers=3, n_features=4, random_state=0)
    return X.astype(np.float32), y


def _clf(**kw):
    return MLP(**{**dict(layer_sizes=[None, 8, None], epochs=5, optimizer="adam", lr=0.05, seed=0), **kw})


def test_fit_returns_self_and_chains(blobs):
    X, y = blobs
    m = _clf()
    assert m.fit(X, y) is m
    pred = MLP([None, 8, None], seed=0).fit(X, y).predict(X)
    assert pred.shape == (90,) and set(pred) <= {0, 1, 2}


def test_quiet_by_default(blobs, capsys):
    _clf().fit(*blobs)
    assert capsys.readouterr().out == ""
    _clf(verbose=True, epochs=2).fit(*blobs)
    assert capsys.readouterr().out.count("epoch ") == 2


def test_estimator_type_follows_the_output():
    assert is_classifier(MLP([4, 3])) and is_classifier(MLP([4, 3], output="sigmoid"))
    assert is_regressor(MLP([4, 1], output="linear")) and not is_classifier(MLP([4, 1], output="linear"))


def test_clone_gives_the_same_unfitted_model(blobs):
    X, y = blobs
    m = _clf(layer_sizes=[4, 8, 3], dtype=np.float64).fit(X, y)
    c = clone(m)
    assert c is not m and c.get_params().keys() == m.get_params().keys()
    assert all(np.array_equal(c.get_params()[k], v) for k, v in m.get_params().items())
    assert repr(c) == "MLP([4, 8, 3], epochs=5, optimizer='adam', lr=0.05, seed=0, dtype=np.float64)"
    with pytest.raises(NotFittedError):  # sklearn's own class once sklearn is imported
        c.predict(X)
    np.testing.assert_array_equal(c.fit(X, y).predict_proba(X), m.predict_proba(X))  # same seed, same model


def test_cross_val_score_and_roc_auc_on_two_classes(blobs):
    X, y = blobs
    scores = cross_val_score(_clf(), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    # binary: decision_function is scikit-learn's (N,) margin, so the ranking scorers work
    auc = cross_val_score(_clf(), X[y < 2], y[y < 2], cv=3, scoring="roc_auc")
    assert auc.mean() > 0.9


def test_grid_search_over_constructor_parameters(blobs):
    X, y = blobs
    grid = GridSearchCV(_clf(epochs=2), {"lr": [1e-4, 0.05], "layer_sizes": [[None, 4, None], [None, 16, None]]},
                        cv=2)
    grid.fit(X, y)
    assert grid.best_params_["lr"] == 0.05
    assert grid.best_estimator_.epochs == 2 and grid.best_estimator_.n_iter_ == 2
    assert grid.score(X, y) == accuracy_score(y, grid.predict(X))


def test_pipeline_with_scaler_and_string_labels(blobs):
    X, y = blobs
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    pipe = make_pipeline(StandardScaler(), _clf()).fit(X * 100 + 7, names)
    pred = pipe.predict(X * 100 + 7)
    assert pred.dtype.kind == "U" and set(pred) <= set(names)
    assert pipe.score(X * 100 + 7, names) > 0.8
    assert pipe[-1].classes_.tolist() == ["setosa", "versicolor", "virginica"]


def test_string_labels_round_trip_through_save_and_load(blobs, tmp_path):
    X, y = blobs
    names = np.array(["c", "a", "b"], dtype=object)[y]  # object dtype, as pandas gives
    m = _clf().fit(X, names)
    assert m.classes_.tolist() == ["a", "b", "c"]
    m.save(tmp_path / "m.npz")
    back = MLP.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.predict(X), m.predict(X))
    assert back.classes_.tolist() == ["a", "b", "c"] and back.n_features_in_ == 4 and back.warm_start


@pytest.mark.parametrize("sizes", [[None, 8, None], [4, 8, 3]])
def test_labels_one_two_three(blobs, sizes):
    X, y = blobs
    m = _clf(layer_sizes=sizes).fit(X, y + 1)
    assert m.classes_.tolist() == [1, 2, 3] and m.coefs_[-1].shape == (8, 3)
    pred = m.predict(X)
    assert set(pred) <= {1, 2, 3}
    assert m.score(X, y + 1) == accuracy_score(y + 1, pred) > 0.8
    np.testing.assert_array_equal(m.classes_[m.predict_proba(X).argmax(axis=1)], pred)


def test_regression_one_d_and_multi_output_r2():
    X, y = make_regression(n_samples=80, n_features=3, n_targets=2, noise=0.1, random_state=0)
    X, y = X.astype(np.float32), (y / y.std(axis=0)).astype(np.float32)
    reg = MLP([None, 16, None], "tanh", "linear", epochs=40, optimizer="adam", lr=0.02, seed=0)
    pred = reg.fit(X, y[:, 0]).predict(X)
    assert pred.shape == (80,) and not hasattr(reg, "classes_")
    assert reg.score(X, y[:, 0]) == pytest.approx(r2_score(y[:, 0], pred), rel=1e-5) and reg.score(X, y[:, 0]) > 0.8
    assert reg.fit(X, y[:, :1]).predict(X).shape == (80, 1)  # a 2-D target keeps its shape
    P = reg.fit(X, y).predict(X)
    assert P.shape == (80, 2) and reg.score(X, y) == pytest.approx(r2_score(y, P), rel=1e-5)
    assert reg.loss_curve_ == reg.history_["loss"] and reg.n_iter_ == 40 and reg.best_loss_ <= reg.loss_curve_[0]


# scikit-learn's estimator checks on a classifier (softmax, the default float32) and a regressor
# (linear output; float64, since check_regressor_multioutput wants float64 predictions and the
# output dtype follows the model's). Both leave the sizes to the data: the checks use inputs of
# 1 to 10 features and 1 to 3 classes. The sigmoid output is a 0/1 multi-label head (no arbitrary
# labels, soft targets allowed), not run through the checks.
#
# Not applicable, by design:
# - check_estimators_dtypes, check_classifier_data_not_an_array, check_dtype_object: integer and
#   object X are refused with a TypeError naming X (fastkernels casts no integer data silently;
#   convert with X.astype(np.float32)); these checks fit on int or object arrays;
# - check_complex_data: complex X is a TypeError (wrong dtype), where the check wants a ValueError;
# - check_supervised_y_2d (classifier): a column-vector y is refused where scikit-learn ravels it
#   with a DataConversionWarning;
# - check_regressors_no_decision_function: decision_function of a linear output returns the raw
#   outputs, kept for existing code.
NOT_APPLICABLE = {
    "check_estimators_dtypes": "integer X is refused (TypeError naming X), not cast",
    "check_dtype_object": "object X is refused (TypeError naming X), not cast",
    "check_complex_data": "complex X is a TypeError, not a ValueError",
}
CLASSIFIER_ONLY = {
    "check_classifier_data_not_an_array": "fits on integer X, refused by design",
    "check_supervised_y_2d": "a column-vector y is refused for a softmax output, not raveled with a warning",
}
REGRESSOR_ONLY = {
    "check_regressors_no_decision_function": "decision_function of a linear output returns the raw outputs",
}


def _expected_failures(estimator):
    extra = REGRESSOR_ONLY if estimator.output == "linear" else CLASSIFIER_ONLY
    return {**NOT_APPLICABLE, **extra}


with warnings.catch_warnings():  # "does not inherit from BaseEstimator": on purpose (no dependency)
    warnings.filterwarnings("ignore", "Estimator MLP does not inherit from")
    _CHECKS = parametrize_with_checks(
        [MLP([None, 16, None], epochs=20, optimizer="adam", lr=0.01, seed=0),
         MLP([None, 16, None], "tanh", "linear", epochs=20, optimizer="adam", lr=0.01, seed=0, dtype=np.float64)],
        expected_failed_checks=_expected_failures)


@_CHECKS
@pytest.mark.filterwarnings("ignore:Estimator MLP does not inherit from")
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
