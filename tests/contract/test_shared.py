"""Contract tests of the top-level API: random streams, seeds, threads, warmup, info."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastkernels as fk
from fastkernels._random import resolve_seed

from .harness import bad_scalars, bad_seeds, raises_naming

COVERS = {"random_normal", "random_uniform", "resolve_seed", "set_num_threads", "get_num_threads", "num_threads",
          "warmup", "info", "cuda_available"}

RANDOM = {"random_normal": fk.random_normal, "random_uniform": fk.random_uniform}


@pytest.mark.parametrize("name", sorted(RANDOM))
@given(size=bad_scalars(integer=True))
def test_random_size_refused(name, size):
    raises_naming(lambda: RANDOM[name](size, seed=0), "size")


@pytest.mark.parametrize("name", sorted(RANDOM))
@given(seed=bad_seeds())
def test_random_seed_refused(name, seed):
    raises_naming(lambda: RANDOM[name](3, seed=seed), "seed")


@pytest.mark.parametrize("name", sorted(RANDOM))
@pytest.mark.parametrize("size", [-1, 10**15, 2**62])
def test_random_negative_or_huge_size_refused_up_front(name, size):
    exc = raises_naming(lambda: RANDOM[name](size, seed=0), "size")
    if size > 0:
        assert "memory" in str(exc) or "addressed" in str(exc)


@pytest.mark.parametrize("name", sorted(RANDOM))
@given(dtype=st.sampled_from([None, "foo", np.int32, "float16", object, [np.float32], True, np.complex128]))
def test_random_dtype_refused(name, dtype):
    raises_naming(lambda: RANDOM[name](3, seed=0, dtype=dtype), "dtype")


@given(mean=st.one_of(bad_scalars(), st.sampled_from([1e308, -1e308])),
       std=st.one_of(bad_scalars(), st.sampled_from([-1.0, 1e308])))
def test_random_normal_parameters(mean, std):
    try:
        x = fk.random_normal(64, mean=mean, std=std, seed=0)
    except (TypeError, ValueError) as exc:
        assert any(n in str(exc) for n in ("mean", "std")), exc
    else:  # accepted: the draws are finite (no silent overflow to inf)
        assert np.isfinite(x).all()


@given(low=st.one_of(bad_scalars(), st.sampled_from([-1e308, 0.0, 1.0, 3e38])),
       high=st.one_of(bad_scalars(), st.sampled_from([1e308, 0.0, 1.0, 4e38])),
       dtype=st.sampled_from(["float32", "float64"]))
def test_random_uniform_bounds(low, high, dtype):
    try:
        x = fk.random_uniform(64, low=low, high=high, seed=0, dtype=dtype)
    except (TypeError, ValueError) as exc:
        assert any(n in str(exc) for n in ("low", "high")), exc
    else:
        assert np.isfinite(x).all() and (x >= low).all() and (x <= high).all()


@given(seed=bad_seeds())
def test_resolve_seed_refuses(seed):
    raises_naming(lambda: resolve_seed(seed), "seed")


@given(seed=st.one_of(st.integers(0, 2**200), st.sampled_from([np.int64(5), np.uint64(2**63)])))
def test_resolve_seed_accepts_any_non_negative_int(seed):
    assert resolve_seed(seed) == resolve_seed(int(seed))


@given(n=st.one_of(bad_scalars(integer=True), st.sampled_from([0, -1, 10**6, 2**63])))
def test_set_num_threads_refuses_and_keeps_the_count(n):
    before = fk.get_num_threads()
    raises_naming(lambda: fk.set_num_threads(n), "n")
    assert fk.get_num_threads() == before


def test_num_threads_restores_after_an_error_inside():
    before = fk.get_num_threads()
    with pytest.raises(RuntimeError):
        with fk.num_threads(1):
            assert fk.get_num_threads() == 1
            raise RuntimeError("user code")
    assert fk.get_num_threads() == before
    raises_naming(lambda: fk.num_threads(0).__enter__(), "n")
    assert fk.get_num_threads() == before


@given(kw=st.sampled_from([dict(areas="xx"), dict(areas=["nn", 3]), dict(areas=5), dict(backends=["gpu"]),
                           dict(backends="tpu"), dict(dtypes=[None]), dict(dtypes="int8"), dict(dtypes=["float64", "x"])]))
def test_warmup_validates_everything_before_compiling(kw):
    name = next(iter(kw))
    raises_naming(lambda: fk.warmup(**kw), name)


def test_warmup_takes_single_names():
    spent = fk.warmup(areas="word2vec", backends="cpu", dtypes="float64")
    assert set(spent) == {"word2vec"}


def test_info_and_cuda_available():
    d = fk.info(as_dict=True)
    assert d["vector_isa"] and d["cpu"] and d["llvm_cpu"]
    assert isinstance(fk.cuda_available(), bool)
    if not fk.cuda_available():
        with pytest.raises(fk.BackendUnavailableError):
            fk.warmup(backends=["cuda"])
