"""fastkernels.warmup (fastkernels._warmup): compiling an area's kernels ahead of use."""

import pytest

import fastkernels as fk


@pytest.mark.bad_input
def test_warmup_rejects_unknown_areas():
    with pytest.raises(ValueError, match="unknown area 'vision'"):
        fk.warmup(["vision"])


def test_warmup_compiles_and_reports_seconds():
    spent = fk.warmup(["nn"], backends=("cpu",), dtypes=("float64",))
    assert set(spent) == {"nn"} and spent["nn"] >= 0
