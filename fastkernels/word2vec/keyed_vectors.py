"""Trained word vectors with gensim's ``KeyedVectors`` API: lookups, similarity queries,
evaluation, and files.

Names and results follow gensim 4 (``wv["king"]``, ``most_similar``, ``most_similar_cosmul``,
``doesnt_match``, ``evaluate_word_analogies``, ``load_word2vec_format``, ...), so code written
for gensim runs here. Queries are NumPy BLAS: one matrix-vector product of the vectors with the
unit query, divided by the cached row norms, then ``argpartition`` for the top ``topn``. That
is the fast way already (the product is memory-bound), so nothing here is compiled.

Where this class departs from gensim, it is to refuse what gensim answers silently wrong:

* unknown words raise ``KeyError`` everywhere (gensim's ``doesnt_match`` and ``n_similarity``
  drop them, with a log line or silently);
* ``most_similar`` and ``most_similar_cosmul`` unit-normalise vectors passed as input, as they
  do word vectors (gensim adds raw vectors into the mean and treats them as unit in cosmul);
  with a single input vector, or unit vectors, the results are gensim's;
* ``most_similar_cosmul`` honours ``restrict_vocab`` (gensim 4.4 ignores it);
* ``topn`` < 0, an empty query, a zero query vector, ``restrict_vocab`` < 1 raise ``ValueError``;
* a zero vector has cosine similarity 0 with everything (gensim divides by its zero norm).
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from .._validate import as_array, cast_float, check_flag, check_scalar
from . import evaluation, formats
from .vocab import Vocabulary, check_words


def _is_key(x) -> bool:
    return isinstance(x, str) or (isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_)))


def _check_words(words, name="words") -> list:
    if isinstance(words, Vocabulary):
        return list(words.words)
    if isinstance(words, (str, bytes)) or not hasattr(words, "__iter__"):
        raise TypeError(f"{name} must be a Vocabulary or a sequence of str, got {type(words).__name__}")
    return check_words(words, name)


def _unit(v, name) -> np.ndarray:
    """``v`` (finite float64, shape (d,)) scaled to unit length, float32; scaled by its largest entry
    first so that huge (1e300) and subnormal (1e-320) vectors keep their direction."""
    top = float(np.abs(v).max()) if v.size else 0.0
    if top == 0:
        raise ValueError(f"{name} is the zero vector; it has no direction to compare")
    v = v / top
    return (v / np.linalg.norm(v)).astype(np.float32)


_F32_MAX = float(np.finfo(np.float32).max)
_NORM_ROWS = 1 << 14  # rows per float64 block of the norm computation


def _row_norms(v) -> np.ndarray:
    """Row norms of a float32 matrix, accumulated in float64 block by block: float32 squares
    overflow from 1.8e19 and underflow below 1e-19, which made such vectors' norms inf or 0."""
    out = np.empty(v.shape[0], np.float64)
    for a in range(0, v.shape[0], _NORM_ROWS):
        block = v[a:a + _NORM_ROWS].astype(np.float64)
        out[a:a + _NORM_ROWS] = np.sqrt(np.einsum("ij,ij->i", block, block))
    return out


def _check_vectors(vectors, name, n=None, *, copy=True) -> np.ndarray:
    if hasattr(vectors, "__cuda_array_interface__"):
        raise TypeError(f"{name} must be a host array; copy device arrays to the host first")
    v = as_array(vectors, name, dtypes=(np.float32, np.float64), ndim=2, finite=True)
    if n is not None and v.shape[0] != n:
        raise ValueError(f"{name} must have one row per word ({n}), got shape {v.shape}")
    if v.shape[1] < 1:
        raise ValueError(f"{name} must have at least one column (vector_size >= 1), got shape {v.shape}")
    out = cast_float(v, name, np.float32)
    if out.size and float(np.abs(out).max()) > _F32_MAX / np.sqrt(out.shape[1]):  # a norm may pass float32's max
        norms = _row_norms(out)
        if (norms > _F32_MAX).any():
            i = int(np.argmax(norms > _F32_MAX))
            raise ValueError(f"{name} row {i} has norm {norms[i]:.4g}, beyond the float32 range (max {_F32_MAX:.4g}); "
                             "its cosine similarities could not be computed")
    shared = isinstance(vectors, np.ndarray) and np.may_share_memory(out, vectors)
    return out.copy() if copy and shared else out


def _check_topn(topn):
    if topn is None:
        return None
    return check_scalar(topn, "topn", integer=True, lo=0)


class KeyedVectors:
    """Word vectors and their words, queried as gensim's ``KeyedVectors``.

    Parameters
    ----------
    vectors : array_like of float32 or float64, shape (n, d)
        One row per word, finite, ``d >= 1``; stored as a float32 C-contiguous array.
    words : Vocabulary or sequence of str, length n
        Distinct non-empty words; row ``i`` is the vector of ``words[i]``.
    copy : bool
        Copy ``vectors`` (default). ``copy=False`` keeps a float32 C-contiguous array as is;
        after changing it in place call ``fill_norms(force=True)``.

    Attributes
    ----------
    vectors : ndarray of float32, shape (n, d)
        Assigning validates the new array and drops the cached norms.
    index_to_key : list of str
    key_to_index : dict of str to int
    norms : ndarray of float32, shape (n,), or None
        Row norms, filled by :meth:`fill_norms` (and every query).

    Raises
    ------
    TypeError
        ``words`` not str, ``vectors`` not float.
    ValueError
        Shape not (len(words), d >= 1), non-finite values, empty or duplicate words.

    Examples
    --------
    >>> import numpy as np
    >>> from fastkernels.word2vec.keyed_vectors import KeyedVectors
    >>> kv = KeyedVectors(np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32), ["a", "b", "c"])
    >>> kv.most_similar("a", topn=1)[0][0], round(kv.similarity("a", "c"), 6)
    ('b', 0.0)
    """

    def __init__(self, vectors, words, *, copy=True):
        copy = check_flag(copy, "copy")
        words = _check_words(words)
        if not words:
            raise ValueError("words must not be empty (KeyedVectors hold at least one word)")
        self._vectors = _check_vectors(vectors, "vectors", len(words), copy=copy)
        self.index_to_key = words
        self.key_to_index = {w: i for i, w in enumerate(words)}
        self.norms = None
        self._safe_norms = None

    # -- lookups ------------------------------------------------------------------------------

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors

    @vectors.setter
    def vectors(self, value):
        self._vectors = _check_vectors(value, "vectors", len(self.index_to_key))
        self.norms = self._safe_norms = None

    @property
    def vector_size(self) -> int:
        """``d``, the length of every vector."""
        return self._vectors.shape[1]

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __iter__(self):
        return iter(self.index_to_key)

    def __contains__(self, key) -> bool:
        if isinstance(key, str):
            return key in self.key_to_index
        return _is_key(key) and 0 <= key < len(self)

    def get_index(self, key, default=None) -> int:
        """Row of ``key``: a word, or an int row in ``[0, n)`` (returned as is, as gensim does).

        Returns ``default`` for an unknown key when given, else raises ``KeyError`` naming it;
        ``TypeError`` for a key that is neither str nor int.
        """
        return self._index_of(key, "key", default)

    def _index_of(self, key, name, default=None) -> int:
        """:meth:`get_index`, a wrong type named as the argument ``name``."""
        if isinstance(key, str):
            i = self.key_to_index.get(key)
            if i is not None:
                return i
        elif _is_key(key):
            if 0 <= key < len(self):
                return int(key)
        else:
            raise TypeError(f"{name} must be a word (str) or a row index (int), got {type(key).__name__} {key!r}")
        if default is not None:
            return default
        raise KeyError(f"word {key!r} is not in the vocabulary" if isinstance(key, str)
                       else f"row {key} is out of range [0, {len(self)})")

    def get_vector(self, key, norm=False) -> np.ndarray:
        """Vector of ``key``, shape (d,): a read-only view of its row, or a new unit-length
        array when ``norm`` (a zero vector stays zero). ``KeyError`` for an unknown word."""
        norm = check_flag(norm, "norm")
        i = self.get_index(key)
        if norm:
            return self._vectors[i] / self._norms()[i]
        row = self._vectors[i]
        row.flags.writeable = False
        return row

    def __getitem__(self, key_or_keys) -> np.ndarray:
        """``kv[word]`` (shape (d,), read-only view) or ``kv[[w1, w2, ...]]`` (shape (k, d), a copy)."""
        if _is_key(key_or_keys):
            return self.get_vector(key_or_keys)
        if not hasattr(key_or_keys, "__iter__"):
            raise TypeError(f"key must be a word, a row index or a list of them, got {type(key_or_keys).__name__}")
        return self._vectors[[self.get_index(k) for k in key_or_keys]].reshape(-1, self.vector_size)

    def fill_norms(self, force=False) -> None:
        """Compute the row norms (``self.norms``) if not cached, or again when ``force``."""
        if check_flag(force, "force") or self.norms is None:
            self.norms = _row_norms(self._vectors).astype(np.float32)
            self._safe_norms = np.where(self.norms > 0, self.norms, np.float32(1))

    def _norms(self) -> np.ndarray:
        """Row norms with zeros replaced by 1 (zero vectors stay zero when divided)."""
        self.fill_norms()
        return self._safe_norms

    def get_normed_vectors(self) -> np.ndarray:
        """A new (n, d) float32 array of the unit-length rows (zero rows stay zero)."""
        return self._vectors / self._norms()[:, None]

    # -- changes ------------------------------------------------------------------------------

    def add_vectors(self, keys, weights, replace=False) -> None:
        """Append new words with their vectors; a word already present keeps its vector unless
        ``replace`` (gensim's ``add_vectors``). All or nothing: a refused call changes nothing.

        Parameters
        ----------
        keys : str or sequence of str, length k
        weights : array_like, shape (d,) for one word or (k, d)
        replace : bool
        """
        replace = check_flag(replace, "replace")
        if isinstance(keys, str):
            keys, weights = [keys], _one_row(weights)
        keys = _check_words(keys, "keys")
        new = _check_vectors(weights, "weights", len(keys), copy=True)
        if new.shape[1] != self.vector_size:
            raise ValueError(f"weights must have {self.vector_size} columns (vector_size), got {new.shape}")
        have = np.array([k in self.key_to_index for k in keys], bool)
        fresh = [k for k, h in zip(keys, have) if not h]
        vectors = np.concatenate([self._vectors, new[~have]]) if fresh else self._vectors
        if replace and have.any():
            if vectors is self._vectors:
                vectors = vectors.copy()
            vectors[[self.key_to_index[k] for k, h in zip(keys, have) if h]] = new[have]
        for k in fresh:
            self.key_to_index[k] = len(self.index_to_key)
            self.index_to_key.append(k)
        self._vectors = vectors
        self.norms = self._safe_norms = None

    def __setitem__(self, keys, weights):
        """``kv[word] = vector`` / ``kv[[w1, w2]] = rows``: add or replace (``add_vectors(replace=True)``)."""
        if isinstance(keys, str):
            keys, weights = [keys], _one_row(weights)
        self.add_vectors(keys, weights, replace=True)

    # -- similarity ---------------------------------------------------------------------------

    def similarity(self, w1, w2) -> float:
        """Cosine similarity of two words (0 when either vector is zero)."""
        i, j = self._index_of(w1, "w1"), self._index_of(w2, "w2")
        n = self._norms()
        return float(np.dot(self._vectors[i] / n[i], self._vectors[j] / n[j]))

    def distance(self, w1, w2) -> float:
        """Cosine distance ``1 - similarity(w1, w2)``."""
        return 1.0 - self.similarity(w1, w2)

    def n_similarity(self, ws1, ws2) -> float:
        """Cosine similarity of the means of two word lists (raw vectors averaged, as gensim)."""
        means = []
        for name, ws in (("ws1", ws1), ("ws2", ws2)):
            if isinstance(ws, str) or not hasattr(ws, "__len__") or len(ws) == 0:
                raise ValueError(f"{name} must be a non-empty list of words, got {ws!r}")
            rows = [self._index_of(w, f"{name}[{k}]") for k, w in enumerate(ws)]
            means.append(self._vectors[rows].astype(np.float64).mean(axis=0))
        n1, n2 = (float(np.linalg.norm(m)) for m in means)
        return float(np.dot(means[0], means[1]) / (n1 * n2)) if n1 > 0 and n2 > 0 else 0.0

    def rank(self, key1, key2) -> int:
        """1 + the number of words (``key1`` left out) more cosine-similar to ``key1`` than ``key2`` is."""
        i, j = self._index_of(key1, "key1"), self._index_of(key2, "key2")
        sims = self._scores(self._vectors[i] / self._norms()[i], len(self))
        closer = sims > sims[j]
        closer[i] = False
        return int(closer.sum()) + 1

    def _restrict(self, restrict_vocab) -> int:
        if restrict_vocab is None:
            return len(self)
        return min(check_scalar(restrict_vocab, "restrict_vocab", integer=True, lo=1), len(self))

    def _scores(self, query, r):
        """Cosine of the unit ``query`` with each of the first ``r`` vectors, float32 (r,)."""
        return (self._vectors[:r] @ query) / self._norms()[:r]

    def _terms(self, items, name, default_weight, *, weights_ok=True):
        """``(unit vectors, weights, rows of the words)`` of a positive/negative argument."""
        if items is None:
            return [], [], []
        if _is_key(items) or (isinstance(items, np.ndarray) and items.ndim == 1):
            items = [items]
        elif isinstance(items, np.ndarray) and items.ndim == 2:
            items = list(items)
        if not isinstance(items, (list, tuple)):
            raise TypeError(f"{name} must be a word, a vector or a list of them, got {type(items).__name__}")
        vecs, weights, rows = [], [], []
        for k, item in enumerate(items):
            weight = default_weight
            if weights_ok and isinstance(item, tuple) and len(item) == 2:
                item, weight = item
                weight = check_scalar(weight, f"{name}[{k}] weight")
            if _is_key(item):
                i = self._index_of(item, f"{name}[{k}]")
                rows.append(i)
                vecs.append(self._vectors[i] / self._norms()[i])
            elif isinstance(item, np.ndarray):
                v = as_array(item, f"{name}[{k}]", dtypes=(np.float32, np.float64), shape=(self.vector_size,),
                             finite=True).astype(np.float64)
                vecs.append(_unit(v, f"{name}[{k}]"))
            else:
                raise TypeError(f"{name}[{k}] must be a word, a row index, a 1-D vector"
                                f"{' or a (word, weight) pair' if weights_ok else ''}, got {type(item).__name__}")
            weights.append(weight)
        return vecs, weights, rows

    def _top(self, scores, topn, exclude):
        k = min(len(scores), topn + len(set(exclude)))
        idx = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        idx = idx[np.lexsort((idx, -scores[idx]))]
        skip = set(exclude)
        return [(self.index_to_key[i], float(scores[i])) for i in idx.tolist() if i not in skip][:topn]

    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """The ``topn`` words most cosine-similar to the weighted mean of the query (gensim's).

        Each input (word or vector) is unit-normalised; positives weigh +1 and negatives -1
        (or the weight of a ``(word, weight)`` pair); the weighted mean is normalised and
        compared with every (the first ``restrict_vocab``) normalised vector. The query words
        are left out of the result.

        Parameters
        ----------
        positive, negative : word, vector of shape (d,), or list of words / vectors / (item, weight)
        topn : int >= 0 or None
            None returns the similarity of every word (query words included) as a float32
            array of shape (restrict_vocab or n,).
        restrict_vocab : int >= 1, optional
            Search only the first ``restrict_vocab`` words.

        Returns
        -------
        list of (str, float), best first; or ndarray of float32 when ``topn`` is None

        Raises
        ------
        KeyError
            An unknown word.
        TypeError, ValueError
            No query, a vector of the wrong shape or non-finite or zero, a bad ``topn`` or
            ``restrict_vocab``.
        """
        topn, r = _check_topn(topn), self._restrict(restrict_vocab)
        pv, pw, prow = self._terms(positive, "positive", 1.0)
        nv, nw, nrow = self._terms(negative, "negative", -1.0)
        if not pv and not nv:
            raise ValueError("most_similar needs at least one positive or negative word or vector")
        if topn == 0:
            return []
        weights = np.asarray(pw + nw, np.float64)
        top = np.abs(weights).max()
        weights = weights / (top if top > 0 else 1)  # the direction of the mean does not depend on the scale
        total = np.abs(weights).sum()
        mean = (weights[:, None] * np.asarray(pv + nv, np.float64)).sum(axis=0) / (total if total > 0 else 1)
        length = np.linalg.norm(mean)
        if length == 0:
            raise ValueError("the weighted mean of positive and negative is the zero vector (a zero word vector, "
                             "zero weights, or a word both positive and negative); cosine similarity to it is "
                             "undefined")
        scores = self._scores((mean / length).astype(np.float32), r)
        return scores if topn is None else self._top(scores, topn, prow + nrow)

    def similar_by_key(self, key, topn=10, restrict_vocab=None):
        """``most_similar(positive=[key], ...)``."""
        if not _is_key(key):
            raise TypeError(f"key must be a word, got {type(key).__name__} {key!r}")
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_word = similar_by_key

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """The ``topn`` words most cosine-similar to ``vector`` (shape (d,)); no word is left out."""
        vector = as_array(vector, "vector", dtypes=(np.float32, np.float64), shape=(self.vector_size,), finite=True)
        _unit(np.asarray(vector, np.float64), "vector")  # the zero vector, named as this argument
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """The ``topn`` words by 3CosMul (Levy & Goldberg 2014, as gensim computes it).

        Score of word ``w``: ``prod_p s(w, p) / (prod_n s(w, n) + 1e-6)`` with
        ``s = (1 + cos) / 2``, over the unit positive and negative inputs. Arguments as in
        :meth:`most_similar` (no weights); at least one positive is required.

        Returns
        -------
        list of (str, float), best first; or ndarray (r,) when ``topn`` is None
        """
        topn, r = _check_topn(topn), self._restrict(restrict_vocab)
        pv, _, prow = self._terms(positive, "positive", 1.0, weights_ok=False)
        nv, _, nrow = self._terms(negative, "negative", -1.0, weights_ok=False)
        if not pv:
            raise ValueError("most_similar_cosmul needs at least one positive word or vector")
        if topn == 0:
            return []
        terms = np.asarray(pv + nv, np.float32)
        sims = (1 + (self._vectors[:r] @ terms.T) / self._norms()[:r, None]) / 2
        scores = sims[:, :len(pv)].prod(axis=1) / (sims[:, len(pv):].prod(axis=1) + 1e-6)
        return scores if topn is None else self._top(scores, topn, prow + nrow)

    def doesnt_match(self, words) -> str:
        """The word furthest (by cosine) from the normalised mean of the words' unit vectors.

        Raises ``KeyError`` for an unknown word and ``ValueError`` for an empty list.
        """
        if isinstance(words, str) or not hasattr(words, "__len__") or len(words) == 0:
            raise ValueError(f"words must be a non-empty list of words, got {words!r}")
        rows = [self._index_of(w, f"words[{k}]") for k, w in enumerate(words)]
        unit = self._vectors[rows] / self._norms()[rows, None]
        mean = unit.mean(axis=0)
        length = np.linalg.norm(mean)
        dists = unit @ (mean / length if length > 0 else mean)
        return min(zip(dists.tolist(), (self.index_to_key[i] for i in rows)))[1]

    # -- evaluation and files -----------------------------------------------------------------

    def evaluate_word_pairs(self, pairs, delimiter="\t", restrict_vocab=300000, case_insensitive=True,
                            dummy4unknown=False, encoding="utf8"):
        """See :func:`fastkernels.word2vec.evaluation.evaluate_word_pairs`."""
        return evaluation.evaluate_word_pairs(self, pairs, delimiter, restrict_vocab, case_insensitive,
                                              dummy4unknown, encoding)

    def evaluate_word_analogies(self, analogies, restrict_vocab=300000, case_insensitive=True,
                                dummy4unknown=False, encoding="utf8"):
        """See :func:`fastkernels.word2vec.evaluation.evaluate_word_analogies`."""
        return evaluation.evaluate_word_analogies(self, analogies, restrict_vocab, case_insensitive,
                                                  dummy4unknown, encoding)

    def save_word2vec_format(self, path, binary=False) -> None:
        """Write word2vec.c's text or binary format (see :mod:`fastkernels.word2vec.formats`)."""
        formats.write_word2vec_format(path, self.index_to_key, self._vectors, binary=binary)

    @classmethod
    def load_word2vec_format(cls, path, binary=False, limit=None, encoding="utf8", unicode_errors="strict"):
        """Read word2vec.c's text or binary format, checked whole (see
        :func:`fastkernels.word2vec.formats.read_word2vec_format` for the arguments and errors)."""
        words, vectors = formats.read_word2vec_format(path, binary, limit, encoding, unicode_errors)
        return cls._from_file(path, words, vectors)

    def save(self, path) -> None:
        """Write fastkernels' versioned ``.npz`` (exact; read back with :meth:`load`)."""
        formats.write_npz(path, self.index_to_key, self._vectors)

    @classmethod
    def load(cls, path):
        """Read a file written by :meth:`save`; ``ValueError`` naming the file for a foreign, damaged
        or newer-version file."""
        words, vectors = formats.read_npz(path)
        return cls._from_file(path, words, vectors)

    @classmethod
    def _from_file(cls, path, words, vectors):
        try:
            return cls(vectors, words, copy=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{os.fsdecode(path)}: {exc}") from None

    def __repr__(self) -> str:
        return f"KeyedVectors(n_words={len(self)}, vector_size={self.vector_size})"


def _one_row(weights) -> np.ndarray:
    """The vector of a single key as a (1, d) row (``kv["w"] = v``, ``add_vectors("w", v)``)."""
    try:
        return np.reshape(np.asarray(weights), (1, -1))
    except (TypeError, ValueError):  # ragged nested lists and the like
        raise TypeError(f"weights must be one vector (array_like of float), got {type(weights).__name__}") from None


def load_word2vec_format(path, binary=False, limit=None, encoding="utf8", unicode_errors="strict"):
    """``KeyedVectors.load_word2vec_format`` as a function (gensim's module-level alias)."""
    return KeyedVectors.load_word2vec_format(path, binary, limit, encoding, unicode_errors)


__all__ = ["KeyedVectors", "load_word2vec_format"]
