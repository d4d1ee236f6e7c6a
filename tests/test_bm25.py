import math

import numpy as np
import pytest

from xlir.errors import InputError, ParamError
from xlir.inverted import InvertedIndexBuilder
from xlir.retrievers.bm25 import BM25Retriever
from xlir.types import Doc, Query

# Analysis off (no stemming, no stopwords) so the terms are exactly the words below.
DOCS = [Doc("d1", "apple banana"), Doc("d2", "apple apple cherry"), Doc("d3", "cherry date elder fig")]


@pytest.fixture
def bm25():
    r = BM25Retriever(lang="en", stem=False, stopwords=False)
    r.index(DOCS)
    return r


def test_scores_match_hand_computed_lucene_bm25(bm25):
    # N=3, avgdl=(2+3+4)/3=3, k1=0.9, b=0.4
    # idf(apple) = ln(1 + (3-2+0.5)/(2+0.5)) = ln(1.6) = 0.470004
    # d1: tf=1, dl=2: 1 / (1 + 0.9*(0.6+0.4*2/3)) = 1/1.78   -> 0.264047
    # d2: tf=2, dl=3: 2 / (2 + 0.9*(0.6+0.4*3/3)) = 2/2.9    -> 0.324141
    run = bm25.search([Query("q", "apple")], k=10)
    assert list(run["q"]) == ["d2", "d1"]
    assert run["q"]["d2"] == pytest.approx(0.324141, abs=1e-5)
    assert run["q"]["d1"] == pytest.approx(0.264047, abs=1e-5)


def test_multi_term_query_sums_and_repeated_terms_weigh_more(bm25):
    # idf(cherry) = ln(1.6) too; d3: tf=1, dl=4: 1/(1+0.9*(0.6+0.4*4/3)) = 1/2.02
    cherry_d3 = math.log(1.6) / 2.02
    cherry_d2 = math.log(1.6) * 1 / (1 + 0.9)
    apple_d2 = math.log(1.6) * 2 / 2.9
    run = bm25.search([Query("q", "apple cherry"), Query("r", "cherry cherry")], k=10)
    assert run["q"]["d2"] == pytest.approx(apple_d2 + cherry_d2, abs=1e-5)
    assert run["q"]["d3"] == pytest.approx(cherry_d3, abs=1e-5)
    assert run["r"]["d3"] == pytest.approx(2 * cherry_d3, abs=1e-5)


def test_rare_term_idf_is_higher(bm25):
    # idf(fig) = ln(1 + 2.5/1.5) = ln(8/3)
    run = bm25.search([Query("q", "fig")], k=10)
    assert run["q"] == {"d3": pytest.approx(math.log(8 / 3) / 2.02, abs=1e-5)}


def test_unknown_and_empty_queries_return_no_results(bm25):
    run = bm25.search([Query("a", "zucchini"), Query("b", "   ")], k=5)
    assert run == {"a": {}, "b": {}}


def test_k_limits_results_and_ties_break_by_index_order():
    r = BM25Retriever(lang="en", stem=False, stopwords=False)
    r.index([Doc(f"d{i}", "same words here") for i in range(20)])
    run = r.search([Query("q", "words")], k=5)
    assert list(run["q"]) == ["d0", "d1", "d2", "d3", "d4"]
    assert len(set(run["q"].values())) == 1
    with pytest.raises(ParamError):
        r.search([Query("q", "words")], k=0)


def test_search_matches_brute_force_on_random_corpus():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(60)]
    docs = [Doc(f"d{i}", " ".join(rng.choice(words, size=rng.integers(1, 30)))) for i in range(300)]
    r = BM25Retriever(lang="en", stem=False, stopwords=False)
    r.index(docs)
    queries = [Query(f"q{i}", " ".join(rng.choice(words, size=rng.integers(1, 6)))) for i in range(40)]
    run = r.search(queries, k=7)
    # brute force with the same formula over the full document-term matrix
    tf = [{w: d.text.split().count(w) for w in set(d.text.split())} for d in docs]
    dl = np.array([len(d.text.split()) for d in docs], dtype=float)
    avgdl = dl.mean()
    df = {w: sum(w in t for t in tf) for w in words}
    for q in queries:
        scores = np.zeros(len(docs))
        for w in q.text.split():
            if df[w] == 0:
                continue
            idf = math.log(1 + (len(docs) - df[w] + 0.5) / (df[w] + 0.5))
            for i, t in enumerate(tf):
                if w in t:
                    scores[i] += idf * t[w] / (t[w] + 0.9 * (1 - 0.4 + 0.4 * dl[i] / avgdl))
        order = sorted(range(len(docs)), key=lambda i: (-scores[i], i))[:7]
        order = [i for i in order if scores[i] > 0]
        assert list(run[q.id]) == [f"d{i}" for i in order]
        assert [run[q.id][f"d{i}"] for i in order] == pytest.approx([scores[i] for i in order], rel=1e-5)


def test_dense_and_sparse_kernel_paths_agree():
    # a term in every document takes the dense path; a rare term the sparse path
    docs = [Doc(f"d{i}", "common " + ("rare" if i % 50 == 0 else "other") + f" t{i % 7}") for i in range(400)]
    r = BM25Retriever(lang="en", stem=False, stopwords=False)
    r.index(docs)
    dense = r.search([Query("q", "common t3")], k=400)["q"]
    sparse = r.search([Query("q", "rare t3")], k=400)["q"]
    assert len(dense) == 400 and list(dense)[:3] == ["d3", "d10", "d17"]
    assert set(sparse) == {d.id for d in docs if "rare" in d.text or " t3" in d.text}


def test_languages_are_analyzed_per_query_language():
    r = BM25Retriever(lang="fr")
    r.index([Doc("a", "Les chevaux galopent dans les prés"), Doc("b", "Un cheval mange")])
    run = r.search([Query("q", "chevaux")], k=2)
    assert set(run["q"]) == {"a", "b"}  # French stemming conflates cheval/chevaux


def test_duplicate_and_empty_doc_ids_rejected():
    r = BM25Retriever(lang="en")
    with pytest.raises(InputError, match="duplicate document id 'a'"):
        r.index([Doc("a", "x"), Doc("a", "y")])
    with pytest.raises(InputError, match="empty document id"):
        r.index([Doc(" ", "x")])


def test_builder_chunking_gives_the_same_index(monkeypatch):
    import xlir.inverted as inv

    docs = [["a", "b", "a"], ["c"], ["b", "c", "d", "d"], ["a"]]
    whole = InvertedIndexBuilder()
    for d in docs:
        whole.add_tokens(d)
    monkeypatch.setattr(inv, "_CHUNK_POSTINGS", 2)
    chunked = InvertedIndexBuilder()
    for d in docs:
        chunked.add_tokens(d)
    a, b = whole.build(), chunked.build()
    assert a.vocab == b.vocab == ["a", "b", "c", "d"]
    for name in ("indptr", "doc_ids", "values", "doc_lengths"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.doc_ids.tolist() == [0, 3, 0, 2, 1, 2, 2] and a.values.tolist() == [2, 1, 1, 1, 1, 1, 2]


def test_weighted_documents_for_learned_sparse():
    b = InvertedIndexBuilder()
    b.add_weights({"x": 0.5, "y": 2.0})
    b.add_weights({"y": 1.0, "z": 0.0})  # zero weights are not stored
    index = b.build()
    hits = index.search([{"y": 1.0, "x": 2.0}], k=5)
    rows, scores = hits[0]
    assert rows.tolist() == [0, 1] and scores.tolist() == pytest.approx([3.0, 1.0])
    assert "z" not in index.term_ids
