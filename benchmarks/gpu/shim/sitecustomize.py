# Device image only: numba-cuda 0.30.4 registers np.row_stack, which numpy 2.5 removed
# (fastkernels itself pins numpy < 2.5; the image ships 2.5.2).
import numpy as _np

if not hasattr(_np, "row_stack"):
    _np.row_stack = _np.vstack
