"""scikit-learn's estimator protocol without scikit-learn: ``get_params``/``set_params`` read from
the constructor's signature (as ``sklearn.base.BaseEstimator`` does), a ``repr`` showing the
parameters that differ from their defaults, and the estimator tags scikit-learn reads.

scikit-learn is imported only inside ``__sklearn_tags__``, which only scikit-learn calls.
"""

from __future__ import annotations

import inspect

import numpy as np


def _differs(value, default) -> bool:
    if value is default:
        return False
    try:
        same = value == default
        if isinstance(same, (bool, np.bool_)):
            return not bool(same)
    except Exception:  # noqa: BLE001 - an object that cannot be compared: shown
        pass
    return True


def _show(value) -> str:
    if isinstance(value, type) and value.__module__ == "numpy":
        return f"np.{value.__name__}"
    return repr(value)


class EstimatorMixin:
    """``get_params``, ``set_params`` and ``__repr__`` from the ``__init__`` signature. The
    constructor must store every argument unchanged under its own name (and do nothing else)."""

    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep=True):
        """The constructor's parameters (scikit-learn's estimator protocol).

        Parameters
        ----------
        deep : bool, default True
            Also return the parameters of parameters that are estimators themselves (as
            ``name__param``); none of this model's are, so the result is the same.

        Returns
        -------
        dict
            ``{name: value}`` of every ``__init__`` parameter, the objects themselves (not copies).
        """
        out = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params):
        """Set constructor parameters (scikit-learn's estimator protocol); they take effect at the next ``fit``.

        Values are stored as given and checked by the next ``fit`` (as scikit-learn does).

        Parameters
        ----------
        **params
            ``name=value`` for parameters of the constructor (``name__sub=value`` for a
            parameter of an estimator parameter).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            A name that is not a constructor parameter; every name is checked before anything
            is set, so nothing changes then.
        """
        valid = self.get_params(deep=True)
        nested = {}
        for key in params:
            top, delim, sub = key.partition("__")
            if top not in valid or (delim and not hasattr(valid[top], "set_params")):
                raise ValueError(f"Invalid parameter {key!r} for estimator {type(self).__name__}. "
                                 f"Valid parameters are: {sorted(self._param_names())!r}.")
        for key, value in params.items():
            top, delim, sub = key.partition("__")
            if delim:
                nested.setdefault(top, {})[sub] = value
            else:
                setattr(self, top, value)
        for top, sub_params in nested.items():
            getattr(self, top).set_params(**sub_params)
        return self

    def __repr__(self):
        sig = inspect.signature(type(self).__init__)
        parts = []
        for p in sig.parameters.values():
            if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            value = getattr(self, p.name)
            if p.default is p.empty:
                parts.append(_show(value))
            elif _differs(value, p.default):
                parts.append(f"{p.name}={_show(value)}")
        return f"{type(self).__name__}({', '.join(parts)})"


def sklearn_tags(estimator_type, *, multi_output, multi_label=False, non_deterministic=False):
    """A ``sklearn.utils.Tags`` for a supervised estimator on dense, finite 2-D float inputs
    (scikit-learn >= 1.6; older versions read ``_estimator_type`` instead)."""
    from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

    tags = Tags(estimator_type=estimator_type,
                target_tags=TargetTags(required=True, multi_output=multi_output, single_output=True),
                input_tags=InputTags(two_d_array=True, allow_nan=False),
                non_deterministic=non_deterministic)
    if estimator_type == "classifier":
        tags.classifier_tags = ClassifierTags(multi_class=not multi_label, multi_label=multi_label)
    elif estimator_type == "regressor":
        tags.regressor_tags = RegressorTags()
    return tags
