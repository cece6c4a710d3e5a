"""KeyedVectors (fastkernels.word2vec.keyed_vectors): lookups, similarity queries against a plain
NumPy reference and against gensim; Vocabulary's gensim names; 2-D projections and plots."""

import numpy as np
import pytest

from fastkernels.word2vec import Vocabulary
from fastkernels.word2vec.keyed_vectors import KeyedVectors
from fastkernels.word2vec.projection import plot_words, project_2d

N, D = 120, 10
WORDS = [f"w{i}" for i in range(N)]


def make_vectors(seed=7, n=N, d=D):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


@pytest.fixture
def kv():
    return KeyedVectors(make_vectors(), WORDS)


def state(kv):
    return (kv.vectors.copy(), list(kv.index_to_key), dict(kv.key_to_index))


def same_state(kv, before):
    v, keys, k2i = before
    return np.array_equal(kv.vectors, v) and kv.index_to_key == keys and kv.key_to_index == k2i


# -- the NumPy reference ----------------------------------------------------------------------


def unit(x):
    x = np.asarray(x, np.float64)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def ref_terms(V, items, weight):
    out = []
    for it in items:
        w = weight
        if isinstance(it, tuple):
            it, w = it
        out.append((unit(V[WORDS.index(it)]) if isinstance(it, str) else unit(it), w,
                    WORDS.index(it) if isinstance(it, str) else None))
    return out


def ref_rank(scores, topn, exclude):
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return [(WORDS[i], scores[i]) for i in order if i not in exclude][:topn]


def ref_most_similar(V, positive=(), negative=(), topn=10, restrict_vocab=None):
    terms = ref_terms(V, positive, 1.0) + ref_terms(V, negative, -1.0)
    mean = sum(w * t for t, w, _ in terms) / sum(abs(w) for _, w, _ in terms)
    r = len(V) if restrict_vocab is None else restrict_vocab
    scores = unit(V[:r]) @ unit(mean)
    return scores if topn is None else ref_rank(scores, topn, {i for _, _, i in terms})


def ref_cosmul(V, positive, negative=(), topn=10, restrict_vocab=None):
    r = len(V) if restrict_vocab is None else restrict_vocab
    u = unit(V[:r])
    pos, neg = ref_terms(V, positive, 1.0), ref_terms(V, negative, -1.0)
    scores = np.prod([(1 + u @ t) / 2 for t, _, _ in pos], axis=0)
    scores = scores / (np.prod([(1 + u @ t) / 2 for t, _, _ in neg], axis=0) + 1e-6)
    return scores if topn is None else ref_rank(scores, topn, {i for _, _, i in pos + neg})


def assert_same_ranking(got, want, rtol=1e-5):
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=rtol, atol=1e-6)
    assert all(type(w) is str and type(s) is float for w, s in got)


QUERIES = [
    dict(positive=["w1"]),
    dict(positive=["w1", "w2"], negative=["w3"]),
    dict(negative=["w5"], topn=4),
    dict(positive=["w1", ("w2", 2.0)], negative=[("w3", -0.5)], topn=7),
    dict(positive=["w4"], restrict_vocab=30, topn=5),
    dict(positive=["w10", "w11"], negative=["w12"], restrict_vocab=40, topn=50),
    dict(positive=["w0"], topn=N + 5),
]


@pytest.mark.parametrize("q", QUERIES)
def test_most_similar_matches_the_numpy_reference(kv, q):
    V = make_vectors()
    assert_same_ranking(kv.most_similar(**q), ref_most_similar(V, **{"topn": 10, **q}))


def test_most_similar_with_vectors_as_input_normalises_each(kv):
    V = make_vectors()
    v = 7.5 * V[3] + 1.0  # not unit, not a word's vector
    assert_same_ranking(kv.most_similar(positive=[v]), ref_most_similar(V, positive=[v]))
    assert_same_ranking(kv.similar_by_vector(v, topn=5), ref_most_similar(V, positive=[v], topn=5))
    got = kv.most_similar(positive=["w1", v], negative=[V[2] * 3])
    assert_same_ranking(got, ref_most_similar(V, positive=["w1", v], negative=[V[2] * 3]))
    # a word's own vector as input is no query word: the word itself comes first
    assert kv.most_similar(positive=[V[9]], topn=1)[0][0] == "w9"
    assert_same_ranking(kv.most_similar(positive=V[[9, 8]]),  # a 2-D array is a list of rows
                        ref_most_similar(V, positive=[V[9], V[8]]))


def test_most_similar_excludes_query_words_and_topn_none_returns_all(kv):
    V = make_vectors()
    got = kv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=N)
    assert len(got) == N - 3 and not {"w1", "w2", "w3"} & {w for w, _ in got}
    scores = kv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=None)
    assert scores.shape == (N,) and scores.dtype == np.float32
    np.testing.assert_allclose(scores, ref_most_similar(V, ["w1", "w2"], ["w3"], topn=None), rtol=1e-5, atol=1e-6)
    assert kv.most_similar("w1", topn=None, restrict_vocab=25).shape == (25,)
    assert kv.most_similar("w1", topn=0) == []
    assert kv.similar_by_word("w1", topn=3) == kv.most_similar("w1", topn=3) == kv.similar_by_key("w1", topn=3)
    assert kv.most_similar(5, topn=3) == kv.most_similar("w5", topn=3)  # int keys are rows, as in gensim


@pytest.mark.parametrize("q", [dict(positive=["w1", "w2"], negative=["w3"]), dict(positive=["w4"], topn=3),
                               dict(positive=["w7", "w8"], restrict_vocab=35, topn=6),
                               dict(positive=["w1"], negative=["w2", "w6"], topn=None)])
def test_most_similar_cosmul_matches_the_numpy_reference(kv, q):
    got = kv.most_similar_cosmul(**q)
    want = ref_cosmul(make_vectors(), **{"topn": 10, **q})
    if q.get("topn", 10) is None:
        np.testing.assert_allclose(got, want, rtol=1e-5)
    else:
        assert_same_ranking(got, want)


def test_similarity_distance_n_similarity_rank_doesnt_match(kv):
    V = make_vectors()
    u = unit(V)
    assert kv.similarity("w1", "w2") == pytest.approx(u[1] @ u[2], abs=1e-6)
    assert kv.distance("w1", "w2") == pytest.approx(1 - u[1] @ u[2], abs=1e-6)
    assert kv.similarity("w4", "w4") == pytest.approx(1.0, abs=1e-6)
    m1, m2 = V[[1, 2]].mean(0), V[[3, 4, 5]].mean(0)
    assert kv.n_similarity(["w1", "w2"], ["w3", "w4", "w5"]) == pytest.approx(unit(m1) @ unit(m2), abs=1e-6)
    sims = u @ u[1]
    assert kv.rank("w1", "w2") == 1 + sum(1 for j in range(N) if j != 1 and sims[j] > sims[2])
    assert kv.rank("w1", kv.most_similar("w1", topn=1)[0][0]) == 1
    group = ["w1", "w2", "w3", "w4", "w5"]
    rows = [WORDS.index(w) for w in group]
    mean = unit(u[rows].mean(0))
    assert kv.doesnt_match(group) == group[int(np.argmin(u[rows] @ mean))]
    planted = KeyedVectors(np.array([[1, 0.1], [1, 0], [0.9, 0.05], [-1, 3]], np.float32), ["a", "b", "c", "odd"])
    assert planted.doesnt_match(["a", "b", "odd", "c"]) == "odd"


def test_lookups(kv):
    V = make_vectors()
    row = kv["w3"]
    assert row.shape == (D,) and np.shares_memory(row, kv.vectors) and not row.flags.writeable
    np.testing.assert_array_equal(row, V[3])
    np.testing.assert_array_equal(kv[["w1", "w4"]], V[[1, 4]])
    assert kv[[]].shape == (0, D)
    np.testing.assert_array_equal(kv[7], V[7])
    assert kv.get_index("w9") == 9 and kv.get_index(9) == 9 and kv.get_index("nope", -1) == -1
    assert "w9" in kv and "nope" not in kv and 5 in kv and N not in kv and 1.5 not in kv
    assert len(kv) == N and kv.vector_size == D and list(kv) == WORDS
    assert kv.index_to_key == WORDS and kv.key_to_index["w5"] == 5
    np.testing.assert_allclose(kv.get_vector("w2", norm=True), unit(V[2]), rtol=1e-6)
    np.testing.assert_allclose(kv.get_normed_vectors(), unit(V), rtol=1e-5, atol=1e-7)
    assert repr(kv) == f"KeyedVectors(n_words={N}, vector_size={D})"


@pytest.mark.bad_input
def test_unknown_keys_name_themselves(kv):
    for call in (lambda: kv["nope"], lambda: kv[["w1", "nope"]], lambda: kv.get_vector("nope"),
                 lambda: kv.similarity("w1", "nope"), lambda: kv.most_similar(["w1", "nope"]),
                 lambda: kv.most_similar(negative="nope"), lambda: kv.most_similar_cosmul(["nope"]),
                 lambda: kv.doesnt_match(["w1", "nope"]), lambda: kv.n_similarity(["w1"], ["nope"]),
                 lambda: kv.rank("nope", "w1")):
        with pytest.raises(KeyError, match="nope"):
            call()
    with pytest.raises(KeyError, match="out of range"):
        kv[N]
    with pytest.raises(TypeError, match="key"):
        kv.get_index(1.5)


def test_norms_are_cached_and_dropped_when_vectors_change(kv):
    assert kv.norms is None
    kv.fill_norms()
    norms = kv.norms
    kv.fill_norms()
    assert kv.norms is norms
    kv.fill_norms(force=True)
    assert kv.norms is not norms
    new = make_vectors(seed=3)
    kv.vectors = new
    assert kv.norms is None and not np.shares_memory(kv.vectors, new)
    np.testing.assert_allclose(kv.most_similar("w1", topn=None), unit(new) @ unit(new[1]), rtol=1e-5, atol=1e-6)
    kv["w1"] = np.ones(D)
    assert kv.norms is None
    assert kv.similarity("w1", "w1") == pytest.approx(1) and kv.get_vector("w1", norm=True)[0] == pytest.approx(D ** -0.5)
    kv.fill_norms()
    kv[["w2", "extra"]] = np.full((2, D), 2.0)
    assert kv.norms is None and len(kv) == N + 1 and kv.index_to_key[-1] == "extra"
    np.testing.assert_array_equal(kv["extra"], np.full(D, 2.0, np.float32))
    np.testing.assert_array_equal(kv["w2"], np.full(D, 2.0, np.float32))
    kv.add_vectors(["w3", "more"], np.zeros((2, D)))  # w3 kept (replace=False), more added
    np.testing.assert_array_equal(kv["w3"], new[3])
    assert kv.similarity("more", "w3") == 0.0  # a zero vector is similar to nothing
    assert kv.most_similar(positive=["w3"], topn=None)[-1] == 0.0


def test_construction(kv):
    V = make_vectors()
    v64 = V.astype(np.float64)
    a = KeyedVectors(v64, WORDS)
    assert a.vectors.dtype == np.float32 and a.vectors.flags.c_contiguous
    np.testing.assert_array_equal(a.vectors, V)
    b = KeyedVectors(V, WORDS)
    assert not np.shares_memory(b.vectors, V)
    c = KeyedVectors(V, WORDS, copy=False)
    assert c.vectors is V
    f = KeyedVectors(np.asfortranarray(V), WORDS)
    assert f.vectors.flags.c_contiguous
    vocab = Vocabulary(["the", "cat", "sat"], [5, 3, 2])
    kv3 = KeyedVectors(V[:3], vocab)
    assert kv3.index_to_key == ["the", "cat", "sat"] and kv3.index_to_key is not vocab.words
    assert KeyedVectors([[1.0, 2.0]], ["x"]).vectors.dtype == np.float32


@pytest.mark.bad_input
@pytest.mark.parametrize("vectors, words, exc, match", [
    (np.zeros((3, 2), np.float32), ["a", "b"], ValueError, "vectors"),
    (np.zeros(3, np.float32), ["a", "b", "c"], ValueError, "vectors"),
    (np.zeros((2, 0), np.float32), ["a", "b"], ValueError, "vectors"),
    (np.zeros((2, 2), np.int64), ["a", "b"], TypeError, "vectors"),
    (np.array([[1, np.nan]], np.float32), ["a"], ValueError, "vectors"),
    (np.array([[1, np.inf]]), ["a"], ValueError, "vectors"),
    (np.array([[1e300, 0]]), ["a"], ValueError, "vectors"),
    (np.zeros((2, 2), np.float32), ["a", "a"], ValueError, "distinct"),
    (np.zeros((2, 2), np.float32), ["a", ""], ValueError, "non-empty"),
    (np.zeros((2, 2), np.float32), ["a", 3], TypeError, "words"),
    (np.zeros((2, 2), np.float32), "ab", TypeError, "words"),
    (np.zeros((0, 2), np.float32), [], ValueError, "words"),
])
def test_bad_construction(vectors, words, exc, match):
    with pytest.raises(exc, match=match):
        KeyedVectors(vectors, words)


@pytest.mark.bad_input
@pytest.mark.parametrize("call, exc, match", [
    (lambda kv: kv.most_similar("w1", topn=-1), ValueError, "topn"),
    (lambda kv: kv.most_similar("w1", topn=1.5), TypeError, "topn"),
    (lambda kv: kv.most_similar("w1", topn=True), TypeError, "topn"),
    (lambda kv: kv.most_similar("w1", restrict_vocab=0), ValueError, "restrict_vocab"),
    (lambda kv: kv.most_similar(), ValueError, "at least one"),
    (lambda kv: kv.most_similar(positive=[np.ones(D + 1)]), ValueError, "positive"),
    (lambda kv: kv.most_similar(positive=[np.full(D, np.nan)]), ValueError, "positive"),
    (lambda kv: kv.most_similar(negative=["w1", np.zeros(D)]), ValueError, r"negative\[1\]"),
    (lambda kv: kv.most_similar(positive=["w1"], negative=["w1"]), ValueError, "zero vector"),
    (lambda kv: kv.most_similar(positive=[["w1"]]), TypeError, "positive"),
    (lambda kv: kv.most_similar(positive=[("w1", "x")]), TypeError, "weight"),
    (lambda kv: kv.most_similar(positive={"w1"}), TypeError, "positive"),
    (lambda kv: kv.most_similar_cosmul(negative=["w1"]), ValueError, "positive"),
    (lambda kv: kv.most_similar_cosmul(["w1"], topn=-2), ValueError, "topn"),
    (lambda kv: kv.similar_by_vector(np.ones((2, D))), ValueError, "vector"),
    (lambda kv: kv.doesnt_match([]), ValueError, "words"),
    (lambda kv: kv.n_similarity([], ["w1"]), ValueError, "ws1"),
    (lambda kv: kv.get_vector("w1", norm="yes"), TypeError, "norm"),
    (lambda kv: kv.fill_norms(force=None), TypeError, "force"),
])
def test_bad_queries_raise_and_change_nothing(kv, call, exc, match):
    before = state(kv)
    with pytest.raises(exc, match=match):
        call(kv)
    assert same_state(kv, before)


@pytest.mark.bad_input
@pytest.mark.parametrize("call, exc, match", [
    (lambda kv: setattr(kv, "vectors", np.zeros((N - 1, D), np.float32)), ValueError, "vectors"),
    (lambda kv: setattr(kv, "vectors", np.full((N, D), np.nan, np.float32)), ValueError, "vectors"),
    (lambda kv: kv.add_vectors(["new", "w1"], np.ones((2, D + 1))), ValueError, "weights"),
    (lambda kv: kv.add_vectors(["new", "new"], np.ones((2, D))), ValueError, "distinct"),
    (lambda kv: kv.add_vectors(["new", "w1"], np.array([[1.0] * D, [np.inf] * D])), ValueError, "weights"),
    (lambda kv: kv.add_vectors(["new"], np.ones((2, D))), ValueError, "weights"),
    (lambda kv: kv.__setitem__("w1", np.ones(D + 2)), ValueError, "weights"),
])
def test_refused_changes_leave_the_vectors_as_they_were(kv, call, exc, match):
    kv.fill_norms()
    before, norms = state(kv), kv.norms
    with pytest.raises(exc, match=match):
        call(kv)
    assert same_state(kv, before) and kv.norms is norms


# -- gensim -----------------------------------------------------------------------------------


@pytest.fixture
def both():
    gensim_models = pytest.importorskip("gensim.models")
    V = make_vectors()
    g = gensim_models.KeyedVectors(D)
    g.add_vectors(WORDS, V)
    return KeyedVectors(V, WORDS), g


@pytest.mark.parametrize("q", QUERIES + [dict(positive=[make_vectors()[5]], topn=6),
                                         dict(positive=[unit(make_vectors()[5]).astype(np.float32), "w2"])])
def test_most_similar_equals_gensim(both, q):
    kv, g = both
    assert_same_ranking(kv.most_similar(**q), g.most_similar(**q))
    np.testing.assert_allclose(kv.most_similar(**{**q, "topn": None}), g.most_similar(**{**q, "topn": None}),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gensim's cosmul calls its deprecated init_sims
def test_other_queries_equal_gensim(both):
    kv, g = both
    for q in (dict(positive=["w1", "w2"], negative=["w3"]), dict(positive=["w4"], topn=3),
              dict(positive=["w1", "w9"], negative=["w2", "w6"], topn=20)):
        assert_same_ranking(kv.most_similar_cosmul(**q), g.most_similar_cosmul(**q))
    np.testing.assert_allclose(kv.most_similar_cosmul(["w1", "w2"], ["w3"], topn=None),
                               g.most_similar_cosmul(["w1", "w2"], ["w3"], topn=None), rtol=1e-5)
    for group in (["w1", "w2", "w3", "w4"], ["w10", "w3", "w50", "w7", "w8", "w9"]):
        assert kv.doesnt_match(group) == g.doesnt_match(group)
    for a, b in (("w1", "w2"), ("w5", "w9"), ("w3", "w3")):
        assert kv.similarity(a, b) == pytest.approx(float(g.similarity(a, b)), abs=1e-6)
        assert kv.distance(a, b) == pytest.approx(float(g.distance(a, b)), abs=1e-6)
        assert kv.rank(a, b) == g.rank(a, b)
    assert kv.n_similarity(["w1", "w2"], ["w3"]) == pytest.approx(float(g.n_similarity(["w1", "w2"], ["w3"])),
                                                                  abs=1e-6)
    np.testing.assert_allclose(kv.get_normed_vectors(), g.get_normed_vectors(), rtol=1e-6)
    assert_same_ranking(kv.similar_by_vector(g["w3"], topn=4), g.similar_by_vector(g["w3"], topn=4))
    assert kv.get_index("w7") == g.get_index("w7") and kv.get_index(7) == g.get_index(7)


# -- Vocabulary speaks gensim's names ----------------------------------------------------------


def test_vocabulary_gensim_names():
    v = Vocabulary(["the", "cat", "sat"], [5, 3, 2])
    assert v.key_to_index == {"the": 0, "cat": 1, "sat": 2} and v.key_to_index is v.key_to_index
    assert v.index_to_key == ["the", "cat", "sat"]
    assert v["cat"] == 1 == v.index("cat")
    assert v.get_count("sat") == 2 and type(v.get_count("sat")) is int
    with pytest.raises(KeyError, match="dog"):
        v["dog"]
    with pytest.raises(KeyError, match="dog"):
        v.get_count("dog")
    with pytest.raises(TypeError, match="word"):
        v[0]


# -- projections and plots --------------------------------------------------------------------


def test_project_2d_pca_is_the_svd_projection(kv):
    V = make_vectors().astype(np.float64)
    xc = V - V.mean(0)
    u, s, _ = np.linalg.svd(xc, full_matrices=False)
    got = project_2d(kv)
    assert got.shape == (N, 2) and got.dtype == np.float64
    np.testing.assert_allclose(np.abs(got), np.abs(u[:, :2] * s[:2]), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got, project_2d(V), rtol=1e-12)
    sub = ["w3", "w1", "w7", "w20"]
    np.testing.assert_allclose(np.abs(project_2d(kv, sub)), np.abs(project_2d(V[[3, 1, 7, 20]])), rtol=1e-6)
    line = project_2d(np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]))  # rank 1: the second axis is zero
    np.testing.assert_allclose(line[:, 1], 0, atol=1e-12)
    np.testing.assert_allclose(np.abs(line[:, 0]), [2 ** 0.5, 0, 2 ** 0.5], atol=1e-12)
    assert project_2d(np.ones((1, 3))).tolist() == [[0.0, 0.0]]


def test_project_2d_tsne(kv):
    pytest.importorskip("sklearn")
    xy = project_2d(kv, WORDS[:20], method="tsne", seed=3)
    assert xy.shape == (20, 2) and np.isfinite(xy).all()
    np.testing.assert_array_equal(xy, project_2d(kv, WORDS[:20], method="tsne", seed=3))


@pytest.mark.bad_input
@pytest.mark.parametrize("call, exc, match", [
    (lambda kv: project_2d(kv, ["w1", "nope"]), KeyError, "nope"),
    (lambda kv: project_2d(kv, "w1"), TypeError, "words"),
    (lambda kv: project_2d(kv, method="umap"), ValueError, "method"),
    (lambda kv: project_2d(np.zeros((3, 2)), words=["a"]), TypeError, "words"),
    (lambda kv: project_2d(np.zeros(3)), ValueError, "kv_or_vectors"),
    (lambda kv: project_2d(np.array([[np.nan, 1.0]])), ValueError, "kv_or_vectors"),
    (lambda kv: project_2d(kv, ["w1", "w2"], method="tsne"), ValueError, "3 vectors"),
    (lambda kv: plot_words(kv, ["w1", "nope"]), KeyError, "nope"),
    (lambda kv: plot_words(kv, ["w1"], ax="axes"), TypeError, "ax"),
    (lambda kv: plot_words(kv, None), TypeError, "words"),
    (lambda kv: plot_words(kv, ["w1"], path=3), TypeError, "path"),
])
def test_bad_projection_arguments(kv, call, exc, match):
    with pytest.raises(exc, match=match):
        call(kv)


def test_plot_words_writes_a_png(kv, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = tmp_path / "words.png"
    words = ["w1", "w2", "w3", "w4", "w5"]
    ax = plot_words(kv, iter(words), path=path)
    try:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert [t.get_text() for t in ax.texts] == words
        np.testing.assert_allclose(ax.collections[0].get_offsets(), project_2d(kv, words))
        fig, ax2 = plt.subplots()
        assert plot_words(kv, words, ax=ax2) is ax2
        plt.close(fig)
    finally:
        plt.close(ax.figure)
