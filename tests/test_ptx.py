"""Compile every CUDA kernel to PTX for sm_90 (the H100 the kernels are written for; no GPU needed),
and one module for sm_80 too: the same NVVM IR for another target costs as much again (~2 min of
the suite) and catches nothing the sm_90 compile does not, beyond the target switch itself.

The CUDA simulator runs kernels as Python and accepts code the real compiler
rejects; this catches that. It needs numba-cuda with NVVM/NVRTC wheels
(``pip install "fastkernels[cuda]"``) and is skipped without them.
"""

import importlib
import pkgutil

import pytest

import fastkernels

cuda = pytest.importorskip("numba.cuda")


def _cuda_modules():
    names = [m.name for m in pkgutil.walk_packages(fastkernels.__path__, "fastkernels.")]
    return sorted(n for n in names if n.rsplit(".", 1)[-1] in ("_cuda",) or n.endswith("_cuda"))


def _nvvm_available():
    from numba import types

    def k(x):
        x[0] = 1.0

    try:
        cuda.compile_ptx(k, (types.float32[::1],), cc=(8, 0))
    except Exception as exc:  # no NVVM/NVRTC wheels
        return str(exc)
    return None


MODULES = _cuda_modules()
missing = _nvvm_available()
pytestmark = pytest.mark.skipif(missing is not None, reason=f"NVVM unavailable: {missing}")


def test_cuda_modules_are_found():
    assert "fastkernels.nn._rowwise_cuda" in MODULES and "fastkernels._random_cuda" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_every_kernel_is_listed_for_ptx(name):
    mod = importlib.import_module(name)
    kernels = {v for v in vars(mod).values() if type(v).__name__ == "CUDADispatcher" and not v.targetoptions.get("device")}
    listed = {k for k, _ in mod.ptx_signatures()}
    assert kernels <= listed, f"kernels without a PTX check: {[k.py_func.__name__ for k in kernels - listed]}"


@pytest.mark.parametrize("name, cc", [pytest.param(n, (9, 0), id=f"{n}-sm_90") for n in MODULES] +
                         [pytest.param("fastkernels._random_cuda", (8, 0), id="fastkernels._random_cuda-sm_80")])
def test_kernels_compile_to_ptx(name, cc):
    mod = importlib.import_module(name)
    for kernel, sig in mod.ptx_signatures():
        ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=cc)
        assert f".target sm_{cc[0]}{cc[1]}" in ptx


def test_float32_neuron_steps_have_no_float64_ops():
    # The HH and Izhikevich steps of a float32 run (dtype=np.float32) must be float32 code on the
    # GPU too: a float64 constant would promote them (and f64 runs at 1/64 the f32 rate on most GPUs).
    from numba import types

    from fastkernels.neurons import _cuda

    f32, i64 = types.float32, types.int64
    steps = [(_cuda.hh_step_cuda, (f32,) * 18 + (i64,)), (_cuda.izh_euler_step_cuda, (f32,) * 11),
             (_cuda.izh_rk4_step_cuda, (f32,) * 11)]
    for step, sig in steps:
        ptx, resty = cuda.compile_ptx(step.py_func, sig, device=True, cc=(9, 0))
        assert str(resty).startswith("Tuple(float32, float32"), resty
        assert ".f64" not in ptx, [line for line in ptx.splitlines() if ".f64" in line][:5]
