"""Word-pair and analogy evaluation (fastkernels.word2vec.evaluation) against a plain
NumPy/SciPy reference and against gensim's KeyedVectors on gensim's own test files."""

import numpy as np
import pytest
from scipy import stats

from fastkernels.word2vec.evaluation import evaluate_word_analogies, evaluate_word_pairs
from fastkernels.word2vec.keyed_vectors import KeyedVectors

D = 12


def unit(x):
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(n > 0, n, 1)


def write(tmp_path, name, text, encoding="utf8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


# -- word pairs -------------------------------------------------------------------------------

PAIRS = ("# a comment\n"
         "Word 1\tWord 2\tHuman (mean)\n"  # not a number: skipped, as gensim skips it
         "w1\tw2\t3.5\n"
         "W3\tw4\t1.0\n"
         "w5\tnope\t2.0\n"
         "w6\tw7\t9\n"
         "too\tmany\tfields\t1\n"
         "w8\tw9\t4.25\n"
         "w2\tw9\t0.5\n")


@pytest.fixture
def small():
    words = [f"w{i}" for i in range(12)] + ["Paris", "x", "paris"]
    return KeyedVectors(np.random.default_rng(4).standard_normal((len(words), D)), words)


def reference_pairs(kv, pairs, dummy=(), oov=0):
    """(pearson, spearman, oov%) over ``pairs`` = [(w1, w2, gold)], ``dummy`` = golds scored 0."""
    u = unit(kv.vectors.astype(np.float64))
    gold = [g for _, _, g in pairs] + list(dummy)
    model = [u[kv.get_index(a)] @ u[kv.get_index(b)] for a, b, _ in pairs] + [0.0] * len(dummy)
    return stats.pearsonr(gold, model), stats.spearmanr(gold, model)


def check_pairs(got, want, oov_ratio):
    (r, rp), (rho, rhop), oov = got
    assert all(type(x) is float for x in (r, rp, rho, rhop, oov))
    np.testing.assert_allclose([r, rp, rho, rhop], [want[0][0], want[0][1], want[1][0], want[1][1]], rtol=1e-5)
    assert oov == pytest.approx(oov_ratio)


def test_word_pairs_match_the_reference(small, tmp_path):
    path = write(tmp_path, "pairs.tsv", PAIRS)
    known = [("w1", "w2", 3.5), ("w3", "w4", 1.0), ("w6", "w7", 9.0), ("w8", "w9", 4.25), ("w2", "w9", 0.5)]
    check_pairs(evaluate_word_pairs(small, path), reference_pairs(small, known), 100 / 6)
    check_pairs(small.evaluate_word_pairs(str(path)), reference_pairs(small, known), 100 / 6)
    strict = [p for p in known if p[0] != "w3"]
    check_pairs(evaluate_word_pairs(small, path, case_insensitive=False), reference_pairs(small, strict), 200 / 6)
    # dummy4unknown: unknown pairs score 0, in file order; the ratio is over the pairs used
    got = evaluate_word_pairs(small, path, dummy4unknown=True)
    gold = [3.5, 1.0, 2.0, 9.0, 4.25, 0.5]
    u = unit(small.vectors.astype(np.float64))
    model = [u[1] @ u[2], u[3] @ u[4], 0.0, u[6] @ u[7], u[8] @ u[9], u[2] @ u[9]]
    check_pairs(got, (stats.pearsonr(gold, model), stats.spearmanr(gold, model)), 100 / 6)
    # restrict_vocab: only the first 9 words are known
    first9 = [p for p in known if max(int(p[0][1:]), int(p[1][1:])) < 9]
    assert len(first9) == 3
    check_pairs(evaluate_word_pairs(small, path, restrict_vocab=9), reference_pairs(small, first9), 300 / 6)


def test_word_pairs_other_delimiter_and_first_case_variant(small, tmp_path):
    path = write(tmp_path, "pairs.txt", "PARIS,w1,1\nparis,w2,2\nx,w3,3\n")
    got = evaluate_word_pairs(small, path, delimiter=",")
    u = unit(small.vectors.astype(np.float64))
    paris = small.get_index("Paris")  # the first of the case variants
    model = [u[paris] @ u[1], u[paris] @ u[2], u[small.get_index("x")] @ u[3]]
    check_pairs(got, (stats.pearsonr([1, 2, 3], model), stats.spearmanr([1, 2, 3], model)), 0.0)


# -- analogies --------------------------------------------------------------------------------


def reference_answer(kv, r, ok, q, case_insensitive):
    """gensim's rule for one question, in plain NumPy: 3CosAdd, question rows left out, the five
    best, the first that is no case variant of a question word (else the fifth)."""
    u = unit(kv.vectors[:r].astype(np.float64))
    a, b, c = (ok[w] for w in q[:3])
    query = unit(u[b] + u[c] - u[a])
    scores = u @ query
    order = [i for i in sorted(range(r), key=lambda i: (-scores[i], i)) if i not in (a, b, c)][:5]
    predicted = None
    for i in order:
        predicted = kv.index_to_key[i].upper() if case_insensitive else kv.index_to_key[i]
        if predicted not in q[:3]:
            break
    return predicted


def reference_analogies(kv, path, restrict_vocab, case_insensitive, dummy4unknown):
    r = min(restrict_vocab, len(kv))
    norm = (lambda w: w.upper()) if case_insensitive else (lambda w: w)
    ok = {}
    for i in reversed(range(r)):
        ok[norm(kv.index_to_key[i])] = i
    sections = []
    for line in path.read_text().splitlines():
        if line.startswith(": "):
            sections.append({"section": line[2:].strip(), "correct": [], "incorrect": []})
            continue
        q = tuple(norm(w) for w in line.split())
        if len(q) != 4:
            continue
        if all(w in ok for w in q):
            right = reference_answer(kv, r, ok, q, case_insensitive) == q[3]
            sections[-1]["correct" if right else "incorrect"].append(q)
        elif dummy4unknown:
            sections[-1]["incorrect"].append(q)
    total = {"section": "Total accuracy", "correct": [q for s in sections for q in s["correct"]],
             "incorrect": [q for s in sections for q in s["incorrect"]]}
    n = len(total["correct"]) + len(total["incorrect"])
    return (len(total["correct"]) / n if n else 0.0), sections + [total]


@pytest.fixture
def analogy_case(tmp_path):
    rng = np.random.default_rng(11)
    base = [f"t{i}" for i in range(40)]
    words = base[:30] + ["T1", "T2", "t5x"] + base[30:] + ["T7"]  # case variants after the originals
    kv = KeyedVectors(rng.standard_normal((len(words), 6)), words)
    pool = base + ["T1", "T7", "oov"]
    lines = []
    for s in range(3):
        lines.append(f": section {s}")
        for _ in range(60):
            lines.append(" ".join(rng.choice(pool, 4)))
        lines.append("a b c")  # not a question
        lines.append("")
    # a question whose answer is a case variant of a question word: skipped past
    lines += [": variants", "t1 t2 T1 t3", "T2 t2 t1 t1"]
    return kv, write(tmp_path, "q.txt", "\n".join(lines) + "\n")


@pytest.mark.parametrize("opts", [dict(), dict(restrict_vocab=25), dict(case_insensitive=False),
                                  dict(dummy4unknown=True, restrict_vocab=35), dict(restrict_vocab=4)])
def test_analogies_match_the_reference(analogy_case, opts):
    kv, path = analogy_case
    full = dict(restrict_vocab=300000, case_insensitive=True, dummy4unknown=False) | opts
    score, sections = evaluate_word_analogies(kv, path, **opts)
    want_score, want_sections = reference_analogies(kv, path, **full)
    assert sections == want_sections and score == want_score
    assert [s["section"] for s in sections] == ["section 0", "section 1", "section 2", "variants", "Total accuracy"]
    assert sum(len(s["correct"]) + len(s["incorrect"]) for s in sections[:-1]) > 0


def test_planted_analogy_is_answered_and_blocks_do_not_matter(tmp_path, monkeypatch):
    from fastkernels.word2vec import evaluation

    s = 2 ** -0.5
    words = ["man", "woman", "king", "queen", "apple"]
    kv = KeyedVectors(np.array([[1, 0, 0], [0, 1, 0], [s, 0, s], [0, s, s], [0, 0, -1]]), words)
    path = write(tmp_path, "q.txt", ": royals\nman woman king queen\nMAN WOMAN KING QUEEN\nman woman king apple\n"
                                    ": missing\nman woman pear queen\n")
    score, sections = kv.evaluate_word_analogies(path)
    assert score == pytest.approx(2 / 3)
    assert sections[0]["correct"] == [("MAN", "WOMAN", "KING", "QUEEN")] * 2
    assert sections[1] == {"section": "missing", "correct": [], "incorrect": []}
    assert evaluate_word_analogies(kv, path, dummy4unknown=True)[0] == pytest.approx(2 / 4)
    # one question per block gives the same answers as one block
    one_block = evaluate_word_analogies(kv, path, case_insensitive=False)
    monkeypatch.setattr(evaluation, "_BLOCK_VALUES", 1)
    assert evaluate_word_analogies(kv, path, case_insensitive=False) == one_block
    assert one_block[1][-1]["correct"] == [("man", "woman", "king", "queen")]


# -- gensim's numbers on gensim's files -------------------------------------------------------


@pytest.fixture(scope="module")
def gensim_pair():
    gensim_models = pytest.importorskip("gensim.models")
    from gensim.test.utils import datapath

    ws, qw = datapath("wordsim353.tsv"), datapath("questions-words.txt")
    words, seen = [], set()
    with open(qw, encoding="utf8") as f:
        for line in f:
            if not line.startswith(":"):
                for w in line.split():
                    for v in (w, w.lower()):  # both cases: the first variant must win
                        if v not in seen:
                            seen.add(v)
                            words.append(v)
    with open(ws, encoding="utf8") as f:
        for line in f:
            if not line.startswith("#"):
                for w in line.split("\t")[:2]:
                    if w not in seen:
                        seen.add(w)
                        words.append(w)
    rng = np.random.default_rng(1)
    words = [words[i] for i in rng.permutation(len(words))]
    vectors = rng.standard_normal((len(words), 16)).astype(np.float32)
    g = gensim_models.KeyedVectors(16)
    g.add_vectors(words, vectors)
    return KeyedVectors(vectors, words), g, ws, qw


@pytest.mark.parametrize("opts", [dict(), dict(restrict_vocab=500), dict(case_insensitive=False),
                                  dict(dummy4unknown=True, restrict_vocab=300)])
def test_word_pairs_equal_gensim(gensim_pair, opts):
    kv, g, ws, _ = gensim_pair
    (r, rp), (rho, rhop), oov = kv.evaluate_word_pairs(ws, **opts)
    gp, gs, goov = g.evaluate_word_pairs(ws, **opts)
    np.testing.assert_allclose([r, rp, rho, rhop], [gp[0], gp[1], gs[0], gs[1]], rtol=1e-5)
    assert oov == goov


@pytest.mark.parametrize("opts", [dict(), dict(restrict_vocab=400, dummy4unknown=True),
                                  dict(restrict_vocab=900, case_insensitive=False)])
def test_analogies_equal_gensim(gensim_pair, opts):
    kv, g, _, qw = gensim_pair
    score, sections = evaluate_word_analogies(kv, qw, **opts)
    want_score, want_sections = g.evaluate_word_analogies(qw, **opts)
    assert score == want_score and sections == want_sections
    assert len(sections) == 15 and sections[-1]["section"] == "Total accuracy"


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.bad_input
def test_bad_files_and_options(small, tmp_path):
    pairs = write(tmp_path, "p.tsv", PAIRS)
    questions = write(tmp_path, "q.txt", ": s\nw1 w2 w3 w4\n")
    before = (small.vectors.copy(), dict(small.key_to_index))
    cases = [
        (lambda: evaluate_word_pairs(small, write(tmp_path, "none.tsv", "# nothing\nnope\tnada\t1\n")),
         ValueError, "usable word pairs"),
        (lambda: evaluate_word_pairs(small, write(tmp_path, "one.tsv", "w1\tw2\t1\n")), ValueError, "usable"),
        (lambda: evaluate_word_pairs(small, pairs, restrict_vocab=0), ValueError, "restrict_vocab"),
        (lambda: evaluate_word_pairs(small, pairs, restrict_vocab=2.5), TypeError, "restrict_vocab"),
        (lambda: evaluate_word_pairs(small, pairs, case_insensitive="no"), TypeError, "case_insensitive"),
        (lambda: evaluate_word_pairs(small, pairs, dummy4unknown=None), TypeError, "dummy4unknown"),
        (lambda: evaluate_word_pairs(small, pairs, delimiter=""), TypeError, "delimiter"),
        (lambda: evaluate_word_pairs(small, pairs, encoding="no-such-codec"), ValueError, "encoding"),
        (lambda: evaluate_word_pairs(small, write(tmp_path, "bin.tsv", b"w1\tw2\t\xff\xfe\n")), ValueError,
         "bin.tsv"),
        (lambda: evaluate_word_pairs(small.vectors, pairs), TypeError, "kv"),
        (lambda: evaluate_word_pairs(small, 3.5), TypeError, "path"),
        (lambda: evaluate_word_analogies(small, write(tmp_path, "empty.txt", ": s\n\n")), ValueError,
         "no analogy questions"),
        (lambda: evaluate_word_analogies(small, write(tmp_path, "nohead.txt", "\nw1 w2 w3 w4\n")), ValueError,
         "line 2"),
        (lambda: evaluate_word_analogies(small, questions, restrict_vocab=-1), ValueError, "restrict_vocab"),
        (lambda: evaluate_word_analogies(small, questions, dummy4unknown="yes"), TypeError, "dummy4unknown"),
        (lambda: evaluate_word_analogies(None, questions), TypeError, "kv"),
        (lambda: evaluate_word_analogies(small, tmp_path / "missing.txt"), FileNotFoundError, "missing.txt"),
    ]
    for call, exc, match in cases:
        with pytest.raises(exc, match=match):
            call()
    assert np.array_equal(small.vectors, before[0]) and small.key_to_index == before[1]
