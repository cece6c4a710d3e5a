"""Peers of the neuron benchmark cases, shared by :mod:`._bench` and :mod:`._bench_models`."""

from __future__ import annotations

from ..bench.registry import SelfTimed


def brian2_peers(factory):
    """``{"Brian2 cpp_standalone": ..., "Brian2 runtime": ...}``: :mod:`._brian2_peer`'s ``factory`` in
    each mode as a self-timed peer of a case whose inputs are ``(I, steps)`` (the peer's own call).

    Each peer factory builds its peer when the runner asks (ImportError, hence skipped, without
    Brian2 or, for ``cpp_standalone``, a C++ compiler) and reports Brian2's own seconds
    (:class:`fastkernels.bench.SelfTimed`): the standalone program's run time, or the wall time
    of ``Network.run`` in runtime mode.
    """
    def self_timed(mode):
        def make():
            peer = factory(mode)  # ImportError without Brian2
            return lambda *inputs: SelfTimed(*peer(*inputs))
        return make

    return {"Brian2 cpp_standalone": self_timed("cpp_standalone"), "Brian2 runtime": self_timed("runtime")}
