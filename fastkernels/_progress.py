"""A dependency-free text progress bar for long runs (network runs, word2vec training)."""

from __future__ import annotations

import sys

from ._validate import check_flag

#: A run estimated to take longer than this many seconds shows its bar when ``progress="auto"``.
PROGRESS_AFTER_S = 5.0


class ProgressBar:
    """A one-line bar on stderr: shown when ``mode`` is True, or (``"auto"``) once the run looks
    longer than :data:`PROGRESS_AFTER_S`; never when ``mode`` is False."""

    def __init__(self, total, mode):
        self.total, self.mode, self.shown = total, mode, False

    def update(self, done, left, note=""):
        """``done`` units of ``total``, ``left`` seconds estimated to go, ``note`` appended (a rate)."""
        if self.mode is False or (not self.shown and not (self.mode is True or left > PROGRESS_AFTER_S)):
            return
        self.shown = True
        f = int(30 * done / self.total) if self.total else 30
        pct = 100 * done / self.total if self.total else 100.0
        sys.stderr.write(f"\r[{'#' * f}{'.' * (30 - f)}] {pct:5.1f}%  {left:6.1f} s left {note}")
        sys.stderr.flush()

    def close(self):
        if self.shown:
            sys.stderr.write("\n")
            self.shown = False


def check_progress(progress):
    """``progress``: ``"auto"``, or a flag as :func:`fastkernels._validate.check_flag` reads one (``bool``,
    ``numpy.bool_``, 0 or 1; returned as ``bool``); anything else raises ``ValueError``."""
    if isinstance(progress, str) and progress == "auto":
        return progress
    try:
        return check_flag(progress, "progress")
    except TypeError:
        raise ValueError(f"progress must be 'auto', True or False, got {progress!r}") from None
