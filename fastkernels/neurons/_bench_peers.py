"""Peers of the neuron benchmark cases, shared by :mod:`._bench` and :mod:`._bench_models`."""

from __future__ import annotations

from .._backend import get_num_threads
from ..bench.registry import SelfTimed


def brian2_peers(factory):
    """``{"Brian2 cpp_standalone": ..., "Brian2 cpp_standalone OpenMP": ..., "Brian2 runtime": ...}``:
    :mod:`._brian2_peer`'s ``factory`` in each mode as a self-timed peer of a case whose inputs are
    the peer's own arguments (``(I, steps)``; ``(spec, steps)`` for the networks area's cases).

    ``cpp_standalone`` runs Brian2's generated C++ on one thread (its default); the OpenMP column
    runs it on as many threads as fastkernels' parallel backend has (:func:`get_num_threads`, read
    when the runner builds the peer), so the parallel backend meets a peer on equal hardware.

    Each peer factory builds its peer when the runner asks (ImportError, hence skipped, without
    Brian2 or, for ``cpp_standalone``, a C++ compiler) and reports Brian2's own seconds
    (:class:`fastkernels.bench.SelfTimed`): the standalone program's run time, or the wall time
    of ``Network.run`` in runtime mode.
    """
    def self_timed(mode, openmp=False):
        def make():
            peer = factory(mode, threads=get_num_threads()) if openmp else factory(mode)  # ImportError without Brian2
            return lambda *inputs: SelfTimed(*peer(*inputs))
        return make

    return {"Brian2 cpp_standalone": self_timed("cpp_standalone"),
            "Brian2 cpp_standalone OpenMP": self_timed("cpp_standalone", openmp=True),
            "Brian2 runtime": self_timed("runtime")}
