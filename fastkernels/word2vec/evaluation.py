"""Intrinsic evaluation of word vectors, as gensim's ``KeyedVectors.evaluate_word_pairs`` and
``evaluate_word_analogies`` compute it (same files, same rules, same numbers).

* :func:`evaluate_word_pairs`: Pearson and Spearman correlation between the cosine similarity
  of word pairs and human judgements (``wordsim353.tsv``, ``simlex999.txt``);
* :func:`evaluate_word_analogies`: "a is to b as c is to ?" questions (``questions-words.txt``,
  word2vec.c's ``compute-accuracy``) answered by 3CosAdd over the first ``restrict_vocab``
  words. The questions are answered in blocks: one matrix product of a block of query vectors
  with the vocabulary, then a top-5 per row, instead of one ``most_similar`` call per question.

Both take a :class:`KeyedVectors` (or anything with ``index_to_key`` and ``vectors``, gensim's
KeyedVectors included) and a file path. Words are matched upper-cased when
``case_insensitive`` (the first, most frequent, of several case variants wins), and only among
the first ``restrict_vocab`` words.
"""

from __future__ import annotations

import itertools
import os
import warnings

import numpy as np

from .._validate import as_array, check_flag, check_scalar
from ._vocab_file import path_arg

#: Candidates kept per analogy question before the question words' case variants are skipped.
TOPN = 5
_BLOCK_VALUES = 1 << 24  # scores per block of questions (64 MiB of float32)


def _vectors_of(kv):
    if not (hasattr(kv, "index_to_key") and hasattr(kv, "vectors")):
        raise TypeError(f"kv must be a KeyedVectors (with index_to_key and vectors), got {type(kv).__name__}")
    keys = kv.index_to_key
    # a KeyedVectors holds these already; another object (gensim's) is checked: one finite row per word
    vectors = as_array(kv.vectors, "kv.vectors", dtypes=(np.float32, np.float64), ndim=2, finite=True)
    if vectors.shape[0] != len(keys) or vectors.shape[1] < 1:
        raise ValueError(f"kv.vectors must have one row per word of kv.index_to_key ({len(keys)}) and at least one "
                         f"column, got shape {vectors.shape}")
    return keys, vectors


def _ok_vocab(keys, restrict_vocab, case_insensitive):
    """``{word (upper-cased when case_insensitive): index}`` over the first ``restrict_vocab``
    words; the first of several case variants wins (gensim's rule)."""
    if restrict_vocab is not None:
        restrict_vocab = check_scalar(restrict_vocab, "restrict_vocab", integer=True, lo=1)
    case_insensitive = check_flag(case_insensitive, "case_insensitive")
    r = len(keys) if restrict_vocab is None else min(restrict_vocab, len(keys))
    ok = {}
    for i in range(r - 1, -1, -1):
        ok[keys[i].upper() if case_insensitive else keys[i]] = i
    return ok, r, case_insensitive


def _unit_rows(v):
    """Rows of ``v`` scaled to unit length (zero rows stay zero), and the safe norms (accumulated
    in float64: float32 squares overflow from 1.8e19 and underflow below 1e-19)."""
    norms = np.sqrt(np.einsum("ij,ij->i", v, v, dtype=np.float64))
    norms[norms == 0] = 1
    norms = norms.astype(v.dtype)
    return v / norms[:, None], norms


def _lines(path, encoding, name):
    where = os.fsdecode(path_arg(path, name))
    if not isinstance(encoding, str):
        raise TypeError(f"encoding must be a str, got {type(encoding).__name__} {encoding!r}")
    try:
        with open(where, encoding=encoding) as f:
            return where, f.readlines()
    except LookupError:
        raise ValueError(f"encoding must name a codec, got {encoding!r}") from None
    except UnicodeError as exc:  # a decoding error, or a UTF-16/32 file without its byte-order mark
        raise ValueError(f"{where}: not {encoding} text (encoding {encoding!r}: {exc})") from None


def evaluate_word_pairs(kv, pairs, delimiter="\t", restrict_vocab=300000, case_insensitive=True,
                        dummy4unknown=False, encoding="utf8"):
    """Correlation of the model's cosine similarities with human similarity judgements.

    Parameters
    ----------
    kv : KeyedVectors
    pairs : str or os.PathLike
        File of ``word1<delimiter>word2<delimiter>score`` lines; lines starting with ``#`` are
        comments, and lines that are not three fields with a numeric score are skipped
        (gensim's rules, e.g. ``wordsim353.tsv``'s column-title line).
    delimiter : str
    restrict_vocab : int or None
        Only the first ``restrict_vocab`` words count as known.
    case_insensitive : bool
        Compare upper-cased words.
    dummy4unknown : bool
        A pair with an unknown word gets model similarity 0 instead of being skipped.
    encoding : str

    Returns
    -------
    pearson : tuple of (float, float)
        Pearson's r and its two-sided p-value (``scipy.stats.pearsonr``).
    spearman : tuple of (float, float)
        Spearman's rho and its p-value (``scipy.stats.spearmanr``).
    oov_ratio : float
        Percentage of pairs with an unknown word (of all pairs read; of the pairs used when
        ``dummy4unknown``, as gensim computes it).
        A correlation is NaN when either side is constant.

    Raises
    ------
    ValueError
        Fewer than two usable pairs, a file the encoding cannot decode, bad options.
    TypeError
        Arguments of the wrong type.
    """
    from scipy import stats

    keys, vectors = _vectors_of(kv)
    ok, _, case_insensitive = _ok_vocab(keys, restrict_vocab, case_insensitive)
    dummy4unknown = check_flag(dummy4unknown, "dummy4unknown")
    if not isinstance(delimiter, str) or not delimiter:
        raise TypeError(f"delimiter must be a non-empty str, got {delimiter!r}")
    where, lines = _lines(pairs, encoding, "pairs")
    gold, ia, ib, known, oov = [], [], [], [], 0
    for line in lines:
        if not line or line.startswith("#"):
            continue
        fields = line.split(delimiter)
        if len(fields) != 3:
            continue
        a, b, sim = (x.upper() for x in fields) if case_insensitive else fields
        try:
            sim = float(sim)
        except ValueError:
            continue
        if a not in ok or b not in ok:
            oov += 1
            if dummy4unknown:
                gold.append(sim)
                known.append(False)
            continue
        gold.append(sim)
        known.append(True)
        ia.append(ok[a])
        ib.append(ok[b])
    if len(gold) < 2:
        raise ValueError(f"{where}: {len(gold)} usable word pairs (need 2 for a correlation): not a word-pair "
                         f"file, or all pairs out of the vocabulary ({oov} pairs with unknown words)")
    model = np.zeros(len(gold), np.float64)
    if ia:
        ua, _ = _unit_rows(vectors[ia])
        ub, _ = _unit_rows(vectors[ib])
        model[np.asarray(known)] = (ua * ub).sum(axis=1)
    gold = np.asarray(gold, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: NaN, as documented
        pearson = stats.pearsonr(gold, model)
        spearman = stats.spearmanr(gold, model)
    oov_ratio = 100.0 * oov / (len(gold) if dummy4unknown else len(gold) + oov)
    return ((float(pearson[0]), float(pearson[1])), (float(spearman[0]), float(spearman[1])), oov_ratio)


def _parse_analogies(where, lines, case_insensitive):
    """Sections ``[name, [(a, b, c, expected), ...]]`` (invalid lines skipped as gensim does)."""
    sections = []
    for lineno, line in enumerate(lines, 1):
        if line.startswith(": "):
            sections.append((line.lstrip(": ").strip(), []))
            continue
        words = line.split()
        if not words:
            continue
        if not sections:
            raise ValueError(f"{where}, line {lineno}: a question before the first ': section' line; "
                             "not an analogy file?")
        if len(words) == 4:
            sections[-1][1].append(tuple(w.upper() for w in words) if case_insensitive else tuple(words))
    return sections


def _answer(vectors, r, abc, exclude_upper, keys, case_insensitive):
    """gensim's prediction for each question: among the 5 best (3CosAdd) words outside the
    question's own, the first that is no case variant of a question word, else the 5th;
    None when no candidate is left."""
    unit, norms = _unit_rows(vectors[:r])
    block = max(1, min(2048, _BLOCK_VALUES // r))
    rows = np.arange(block)
    out = []
    for start in range(0, len(abc), block):
        idx = abc[start:start + block]
        q = unit[idx[:, 1]] + unit[idx[:, 2]] - unit[idx[:, 0]]
        qn = np.linalg.norm(q, axis=1)
        q /= np.where(qn > 0, qn, 1)[:, None]
        scores = q @ vectors[:r].T
        scores /= norms[None, :]
        m = len(idx)
        for j in range(3):
            scores[rows[:m], idx[:, j]] = -np.inf
        k = min(TOPN, r)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < r else np.tile(np.arange(r), (m, 1))
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.lexsort((top, -top_scores), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        top_scores = np.take_along_axis(top_scores, order, axis=1)
        for i in range(m):
            predicted = None
            for cand, s in zip(top[i].tolist(), top_scores[i].tolist()):
                if s == -np.inf:
                    break
                predicted = keys[cand].upper() if case_insensitive else keys[cand]
                if predicted not in exclude_upper[start + i]:
                    break
            out.append(predicted)
    return out


def evaluate_word_analogies(kv, analogies, restrict_vocab=300000, case_insensitive=True, dummy4unknown=False,
                            encoding="utf8"):
    """Accuracy on word analogies ("a : b :: c : ?"), answered by 3CosAdd as gensim does.

    For each question the query is ``unit(b) + unit(c) - unit(a)`` (unit vectors), the answer the
    most cosine-similar of the first ``restrict_vocab`` words, the question's three words excluded
    (and, among gensim's five best, their case variants). A question with a word outside the first
    ``restrict_vocab`` words is skipped, or counted wrong when ``dummy4unknown``.

    Parameters
    ----------
    kv : KeyedVectors
    analogies : str or os.PathLike
        ``questions-words.txt``-style file: ``: section name`` lines, then ``a b c expected``
        lines (lines of another length are skipped, as gensim does).
    restrict_vocab : int or None
    case_insensitive : bool
    dummy4unknown : bool
    encoding : str

    Returns
    -------
    score : float
        Correct / (correct + incorrect) over all sections (0.0 when nothing was evaluated).
    sections : list of dict
        One ``{'section': name, 'correct': [(a, b, c, expected), ...], 'incorrect': [...]}`` per
        section in file order (upper-cased words when ``case_insensitive``), then
        ``'Total accuracy'``.

    Raises
    ------
    ValueError
        No question in the file, a question before the first section line, a file the
        encoding cannot decode, bad options.
    TypeError
        Arguments of the wrong type.
    """
    keys, vectors = _vectors_of(kv)
    ok, r, case_insensitive = _ok_vocab(keys, restrict_vocab, case_insensitive)
    dummy4unknown = check_flag(dummy4unknown, "dummy4unknown")
    where, lines = _lines(analogies, encoding, "analogies")
    parsed = _parse_analogies(where, lines, case_insensitive)
    if not any(qs for _, qs in parsed):
        raise ValueError(f"{where}: no analogy questions ('a b c expected' lines after a ': section' line)")
    flat = [(s, q, all(w in ok for w in q)) for s, (_, qs) in enumerate(parsed) for q in qs]
    known = [q for _, q, k in flat if k]
    abc = np.array([[ok[w] for w in q[:3]] for q in known], np.int64).reshape(-1, 3)
    predicted = iter(_answer(vectors, r, abc, [set(q[:3]) for q in known], keys, case_insensitive) if known else [])
    sections = [{"section": name, "correct": [], "incorrect": []} for name, _ in parsed]
    for s, q, k in flat:
        if k:
            sections[s]["correct" if next(predicted) == q[3] else "incorrect"].append(q)
        elif dummy4unknown:
            sections[s]["incorrect"].append(q)
    total = {"section": "Total accuracy",
             "correct": list(itertools.chain.from_iterable(s["correct"] for s in sections)),
             "incorrect": list(itertools.chain.from_iterable(s["incorrect"] for s in sections))}
    n = len(total["correct"]) + len(total["incorrect"])
    sections.append(total)
    return (len(total["correct"]) / n if n else 0.0), sections


__all__ = ["evaluate_word_analogies", "evaluate_word_pairs"]
