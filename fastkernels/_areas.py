"""The package's areas, named once.

Each area is a subpackage ``fastkernels.<area>`` (imported on first use) that defines
``_warmup(backend, dtype)`` for :func:`fastkernels.warmup` and registers its benchmark cases
in ``fastkernels.<area>._bench`` for :mod:`fastkernels.bench`. Adding an area means adding
its name here.
"""

AREAS = ("nn", "neurons", "networks", "word2vec")
