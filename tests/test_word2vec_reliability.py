"""Regression tests of issue 13 (reliability) in the word2vec area that span several modules: every
defect a review found, each failing before its fix. The regressions of one module are in that
module's tests (tests/test_word2vec_<module>.py, section "regressions of issue 13"); the property
tests of the same contract are in tests/contract/test_word2vec.py."""

import io

import numpy as np
import pytest

from fastkernels.word2vec import (
    Corpus,
    NegativeSampler,
    Vocabulary,
    cbow_windows,
    generate_batch,
    keep_probability,
    log_uniform_candidates,
    log_uniform_probability,
    pair_counts,
    read_corpus,
    skipgram_pairs,
    subsample,
)

pytestmark = pytest.mark.bad_input

FLOAT_IDS = [0.9, 1.7, 2.2, 0.1, 1.5, 2.9, 0.4, 1.0]
VOCAB = Vocabulary(["a", "b", "c"], [5, 3, 2])
SAMPLER = NegativeSampler([5, 3, 2])


# -- 1. float ids are refused, never truncated ------------------------------------------

ID_CALLS = {
    "generate_batch": (lambda ids: generate_batch(ids, 4, 2, 1, seed=0), "data"),
    "skipgram_pairs": (lambda ids: skipgram_pairs(ids, 2, seed=0), "corpus"),
    "cbow_windows": (lambda ids: cbow_windows(ids, 2, seed=0), "corpus"),
    "pair_counts": (lambda ids: pair_counts(ids, 2, seed=0), "corpus"),
    "subsample": (lambda ids: subsample(ids, np.ones(3), seed=0), "corpus"),
    "NegativeSampler.sample": (lambda ids: SAMPLER.sample(len(ids), 2, exclude=ids, seed=0), "exclude"),
    "log_uniform_candidates": (lambda ids: log_uniform_candidates(ids, 2, 5, seed=0), "true_classes"),
    "log_uniform_probability": (lambda ids: log_uniform_probability(ids, 5), "classes"),
    "Vocabulary.decode": (lambda ids: VOCAB.decode(ids), "ids"),
    "Corpus": (lambda ids: Corpus(ids), "ids"),
    "Corpus offsets": (lambda ids: Corpus([0, 1, 2], offsets=[0.0, 1.5, 3.0]), "offsets"),
}


@pytest.mark.parametrize("name", sorted(ID_CALLS))
@pytest.mark.parametrize("form", ["list", "array"])
def test_float_ids_are_refused_not_truncated(name, form):
    call, arg = ID_CALLS[name]
    ids = FLOAT_IDS if form == "list" else np.array(FLOAT_IDS)
    with pytest.raises(TypeError, match=rf"{arg}\b.*dtype int32 or int64, got float64"):
        call(ids)


def test_id_errors_name_the_callers_argument():
    with pytest.raises(ValueError, match=r"corpus ids must lie in"):
        subsample([0, 3], np.ones(3))
    with pytest.raises(TypeError, match=r"^corpus ids must have dtype"):
        skipgram_pairs([True, False], 1)


# -- 2. text the encoding cannot decode or encode ------------------------------------------

def test_undecodable_or_unencodable_text_is_a_clear_error():
    with pytest.raises(ValueError, match="source holds bytes that encoding 'utf-7' cannot decode"):
        read_corpus(b"+\xff a", min_count=1, encoding="utf-7")
    with pytest.raises(ValueError, match="tokens must be encodable with encoding 'latin-1'; sentence 0, token 1"):
        read_corpus([["a", "\u20ac"]], min_count=1, encoding="latin-1")
    with pytest.raises(ValueError, match="tokens must be encodable with encoding 'utf-8'; token 0"):
        VOCAB.encode(["\ud800"])
    with pytest.raises(ValueError, match="unk='\u20ac' cannot be encoded with encoding 'latin-1'"):
        Vocabulary.build([["a"]], min_count=1, unk="\u20ac", encoding="latin-1")
    with pytest.raises(ValueError, match="source .*character '\u20ac' cannot be encoded"):
        read_corpus(io.StringIO("a \u20ac\n"), min_count=1, encoding="latin-1")


# -- 3. seeds ----------------------------------------------------------------------------

@pytest.mark.parametrize("call", [lambda s: skipgram_pairs([0, 1, 2], 1, shrink_windows=False, seed=s),
                                  lambda s: cbow_windows([0, 1, 2], 1, shrink_windows=False, seed=s),
                                  lambda s: pair_counts([0, 1, 2], 1, shrink_windows=False, seed=s),
                                  lambda s: subsample([0, 1], [1.0, 1.0], seed=s),
                                  lambda s: SAMPLER.sample(0, 2, seed=s),
                                  lambda s: generate_batch(np.arange(4), 2, 1, 1, seed=s)])
@pytest.mark.parametrize("seed", ["0", 1.5, -1, True, [0]])
def test_bad_seed_raises_even_when_nothing_is_drawn(call, seed):
    with pytest.raises((TypeError, ValueError), match="seed"):
        call(seed)


def test_a_generator_seed_is_left_as_it_was_by_a_call_that_raises():
    gen = np.random.default_rng(7)
    before = gen.bit_generator.state
    with pytest.raises(ValueError, match="found -3 at position 4"):
        generate_batch(np.array([0, 1, 2, 3, -3, 5, 6, 7]), 4, 2, 1, 2, seed=gen)
    assert gen.bit_generator.state == before
    with pytest.raises(ValueError, match="out\\[0\\] holds 2 pairs"):
        skipgram_pairs([0, 1, 2], 1, shrink_windows=False, seed=gen, out=(np.zeros(2, np.int32),
                                                                          np.zeros(9, np.int32)))
    assert gen.bit_generator.state == before
    generate_batch(np.arange(8), 4, 2, 1, seed=gen)  # a call that succeeds does draw
    assert gen.bit_generator.state != before


# -- silent wrong results found on the way ------------------------------------------------

def test_no_warning_leaks_from_refused_exponents():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="overflows"):
            NegativeSampler([1, 2], ns_exponent=1e308)
        with pytest.raises(ValueError, match="float64 range"):
            keep_probability([1e308, 1e308])
