"""Corpus: token ids with sentence boundaries (fastkernels.word2vec.corpus)."""

import numpy as np
import pytest

from fastkernels.word2vec import Corpus


def test_corpus_sentences_and_views():
    c = Corpus(np.array([3, 1, 2, 0, 1], np.int64), [0, 3, 3, 5], n_words=4)
    assert c.ids.dtype == np.int32 and c.n_sentences == 3 and len(c) == 3
    assert [s.tolist() for s in c] == [[3, 1, 2], [], [0, 1]]
    assert c.sentence(-1).tolist() == [0, 1] and c.sentence_lengths().tolist() == [3, 0, 2]
    assert Corpus([]).n_sentences == 0 and Corpus([1, 2]).offsets.tolist() == [0, 2]


@pytest.mark.bad_input
def test_bad_input():
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\)"):
        Corpus([0, 3], n_words=3)
    with pytest.raises(ValueError, match="offsets must start at 0"):
        Corpus([0, 1], [0, 1])
    with pytest.raises(ValueError, match="non-decreasing"):
        Corpus([0, 1, 2], [0, 2, 1, 3])
    with pytest.raises(TypeError):
        Corpus([0.5, 1.0])
