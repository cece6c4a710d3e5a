"""Output checks of the word2vec benchmark cases (:mod:`fastkernels.word2vec._bench`).

Each check compares a kernel's output with its baseline's (the references in
:mod:`fastkernels.word2vec._reference`) and raises ``AssertionError`` saying what differs:
exactly where the kernels' draws are reproducible, by distribution where they are not.
"""

from __future__ import annotations

import numpy as np

from ._bench_inputs import BATCH
from ._reference import expected_counts, log_uniform_p, mix64


def check_vocabulary(out, ref):
    if out[0] != ref[0]:
        raise AssertionError("vocabulary words or their order differ from Counter.most_common")
    np.testing.assert_array_equal(out[1], ref[1])


def pair_digest(centers, contexts):
    """Order-free digest of a multiset of pairs: size, centre histogram, hash sum."""
    z = mix64((centers.astype(np.uint64) << np.uint64(32)) | contexts.astype(np.uint64))
    return centers.size, np.bincount(centers), int(z.sum(dtype=np.uint64))


def check_pairs(out, ref):
    a, b = pair_digest(*out), pair_digest(*ref)
    if a[0] != b[0] or a[2] != b[2] or not np.array_equal(a[1], b[1]):
        raise AssertionError(f"pairs differ from the NumPy baseline ({a[0]} vs {b[0]} pairs)")


def check_exact(out, ref):
    """Every output equal to the baseline's, dtypes included."""
    for i, (o, r) in enumerate(zip(out, ref)):
        if o.dtype != r.dtype:
            raise AssertionError(f"output {i} is {o.dtype}, baseline {r.dtype}")
        np.testing.assert_array_equal(o, r, err_msg=f"output {i}")


def check_batches(out, ref):
    """Centres equal the baseline's; every label lies in its centre's window (labels are random)."""
    batch, labels = out[0], out[1]
    data = ref[2]
    np.testing.assert_array_equal(batch, ref[0])
    w, ns = BATCH["skip_window"], BATCH["num_skips"]
    starts = np.arange(batch.size // ns)
    window = data[(starts[:, None] + np.delete(np.arange(2 * w + 1), w)) % data.size]
    ok = (labels.reshape(-1, ns)[:, :, None] == window[:, None, :]).any(axis=2)
    if not ok.all():
        raise AssertionError(f"{int((~ok).sum())} labels outside their centre's window")


def check_same_distribution(out, ref):
    """Two samples of one distribution: total variation distance within sampling noise."""
    out = out.copy_to_host() if hasattr(out, "copy_to_host") else np.asarray(out)
    m = max(int(out.max()), int(ref.max())) + 1
    p = np.bincount(out.ravel(), minlength=m) / out.size
    q = np.bincount(ref.ravel(), minlength=m) / ref.size
    tv = 0.5 * np.abs(p - q).sum()
    noise = np.sqrt(2.0 / out.size) * np.sqrt((p + q) / 2).sum()  # ~ E|p - q| summed over words
    if tv > 0.02 + 2 * noise:
        raise AssertionError(f"sample distributions differ: total variation {tv:.4f} (noise ~{noise:.4f})")


def check_subsample(out, ref):
    check_same_distribution(out[0], ref[0])
    n, m = out[0].size, ref[0].size
    if abs(n - m) > 6 * np.sqrt(max(n, m)) + 2:
        raise AssertionError(f"kept {n} tokens, baseline {m}")


def log_uniform_tries(sampled, expected, p, num_sampled):
    """The number of draws behind TF's expected counts (``num_sampled`` when none was rejected)."""
    if np.allclose(expected, p * num_sampled, rtol=1e-12, atol=0):
        return num_sampled
    i = int(np.argmin(p))  # the best-conditioned entry (frequent classes' counts saturate at 1)
    return int(np.rint(np.log1p(-expected[i]) / np.log1p(-p[i])))


def check_log_uniform(out, ref):
    """Format, TF's expected counts exactly, and the log-uniform distribution (the streams differ).

    The number of draws ``T`` is read back from the sampled expected counts; both expected-count
    outputs must then equal TF's formulas to 1e-12, and with ``unique`` the classes be distinct
    with ``T`` consistent with them: T draws give ``sum_c 1 - (1 - P(c)) ** T`` distinct classes
    on average, which must be within 5 standard deviations of ``num_sampled``. The classes,
    binned into up to 20 bins of about equal log-uniform mass, must fit their expected counts
    (``num_sampled * P(bin)``, or the sum of ``1 - (1 - P(c)) ** T`` with ``unique``): chi-square
    below ``df + 6 sqrt(2 df) + 10`` (p ~ 1e-7; Poisson variances, so conservative for ``unique``).
    """
    sampled, true_expected, sampled_expected = out[:3]  # the baseline's own output carries more
    prm = ref[3]
    m, rmax = prm["num_sampled"], prm["range_max"]
    if sampled.dtype != np.int64 or sampled.shape != (m,):
        raise AssertionError(f"sampled is {sampled.dtype} {sampled.shape}, expected int64 ({m},)")
    if sampled.min() < 0 or sampled.max() >= rmax:
        raise AssertionError(f"classes outside [0, {rmax})")
    if true_expected.shape != prm["true"].shape or sampled_expected.shape != (m,):
        raise AssertionError("expected counts have the wrong shapes")
    p = log_uniform_p(sampled, rmax)
    tries = log_uniform_tries(sampled, sampled_expected, p, m)
    if tries < m or (tries > m and not prm["unique"]):
        raise AssertionError(f"expected counts imply {tries} draws for {m} classes")
    np.testing.assert_allclose(sampled_expected, expected_counts(p, tries, m), rtol=1e-12, atol=0)
    np.testing.assert_allclose(true_expected, expected_counts(log_uniform_p(prm["true"], rmax), tries, m),
                               rtol=1e-12, atol=0)
    p_all = log_uniform_p(np.arange(rmax), rmax)
    if prm["unique"]:
        if np.unique(sampled).size != m:
            raise AssertionError("unique=True gave repeated classes")
        q = -np.expm1(tries * np.log1p(-p_all))  # P(class c among T draws)
        if abs(q.sum() - m) > 5 * np.sqrt((q * (1 - q)).sum()) + 1:
            raise AssertionError(f"{tries} draws give {q.sum():.1f} distinct classes on average, not {m}")
    else:
        q = p_all * m
    n_bins = int(min(20, max(2, m // 5)))
    edges = np.unique(np.rint((rmax + 1.0) ** (np.arange(n_bins + 1) / n_bins) - 1).astype(np.int64))
    edges[-1] = rmax
    obs = np.histogram(sampled, bins=edges)[0]
    exp = np.add.reduceat(q, edges[:-1])
    chi2 = ((obs - exp) ** 2 / exp).sum()
    df = edges.size - 2
    if chi2 > df + 6 * np.sqrt(2 * df) + 10:
        raise AssertionError(f"classes do not follow the log-uniform distribution: chi-square {chi2:.1f}, {df} df")
