"""XQuAD-R loading and export: the real data when present, and a tiny synthetic folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xlir.datasets import POOLED, XQUAD_R_LANGS, export_xquad_r, load_xquad_r
from xlir.errors import IndexExistsError, InputError, ParamError
from xlir.io import read_corpus, read_qrels, read_queries

XQUAD_R = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad-r"


@pytest.fixture(scope="module")
def real_dir() -> Path:
    if not all((XQUAD_R / f"{lang}.json").is_file() for lang in XQUAD_R_LANGS):
        pytest.skip(f"XQuAD-R data not found at {XQUAD_R}")
    return XQUAD_R


# --- real data --------------------------------------------------------------------------


def test_real_en_de_counts_and_qrels(real_dir):
    task = load_xquad_r(real_dir, queries_lang="en", docs_lang="de")
    assert task.name == "xquad-r/en-de"
    assert len(task.docs) == 240 and len(task.queries) == 1190
    assert len({d.id for d in task.docs}) == 240
    assert all(d.lang == "de" and d.title == "" and d.text.strip() for d in task.docs)
    assert {d.meta["article_title"] for d in task.docs} >= {"Super_Bowl_50", "Warsaw"}
    assert all(q.lang == "en" and q.text for q in task.queries)
    assert [d.id for d in task.docs] == sorted(d.id for d in task.docs)
    doc_ids = {d.id for d in task.docs}
    assert set(task.qrels) == {q.id for q in task.queries}
    for rels in task.qrels.values():
        assert len(rels) == 1
        (docid, rel), = rels.items()
        assert docid in doc_ids and rel == 1
    # every paragraph is relevant to at least one question
    assert {d for rels in task.qrels.values() for d in rels} == doc_ids
    first = task.queries[0]
    assert first.id == "56beb4343aeaaa14008c925b"
    assert task.qrels[first.id] == {"de-00-00": 1}


def test_real_ids_aligned_across_languages(real_dir):
    en = load_xquad_r(real_dir, queries_lang="en", docs_lang="en")
    zh = load_xquad_r(real_dir, queries_lang="zh", docs_lang="ar")
    assert [q.id for q in en.queries] == [q.id for q in zh.queries]
    assert [q.text for q in en.queries] != [q.text for q in zh.queries]
    # the same question points at the same position in either language
    for qid in en.qrels:
        (en_doc,) = en.qrels[qid]
        (ar_doc,) = zh.qrels[qid]
        assert en_doc.split("-", 1)[1] == ar_doc.split("-", 1)[1]
        assert en_doc.startswith("en-") and ar_doc.startswith("ar-")


def test_real_pooled(real_dir):
    task = load_xquad_r(real_dir, queries_lang="en", docs_lang=POOLED)
    assert len(task.docs) == 11 * 240 and len(task.queries) == 1190
    doc_ids = {d.id for d in task.docs}
    assert len(doc_ids) == 2640
    assert {d.lang for d in task.docs} == set(XQUAD_R_LANGS)
    for rels in task.qrels.values():
        assert len(rels) == 11 and set(rels) <= doc_ids
        assert {d.split("-")[0] for d in rels} == set(XQUAD_R_LANGS)
        assert len({d.split("-", 1)[1] for d in rels}) == 1  # one position, 11 languages


def test_real_export_readable_by_readers(real_dir, tmp_path):
    out = tmp_path / "en-es"
    paths = export_xquad_r(real_dir, out, queries_lang="en", docs_lang="es")
    assert paths == {"docs": out / "docs.jsonl", "queries": out / "queries.tsv", "qrels": out / "qrels.txt"}
    assert sorted(p.name for p in out.iterdir()) == ["docs.jsonl", "qrels.txt", "queries.tsv"]
    task = load_xquad_r(real_dir, queries_lang="en", docs_lang="es")
    docs = list(read_corpus(paths["docs"]))
    assert docs == task.docs
    assert [d.meta for d in docs] == [d.meta for d in task.docs]
    assert read_queries(paths["queries"], lang="en") == task.queries
    assert read_qrels(paths["qrels"]) == task.qrels
    with pytest.raises(IndexExistsError):
        export_xquad_r(real_dir, out, queries_lang="en", docs_lang="es")
    export_xquad_r(real_dir, out, queries_lang="en", pooled=True, overwrite=True)
    assert len(list(read_corpus(paths["docs"]))) == 2640
    assert all(len(r) == 11 for r in read_qrels(paths["qrels"]).values())


# --- synthetic folder -------------------------------------------------------------------


def _squad(lang: str, articles: list[list[list[str]]]) -> dict:
    """SQuAD v1.1 JSON: articles -> paragraphs -> question ids."""
    return {
        "version": "1.1",
        "data": [
            {
                "title": f"Article_{a}",
                "paragraphs": [
                    {
                        "context": f"[{lang}] paragraph {a}.{p}",
                        "qas": [
                            {
                                "id": qid,
                                "question": f"[{lang}] question {qid}?",
                                "answers": [{"answer_start": 0, "text": "x"}],
                            }
                            for qid in qids
                        ],
                        "sentences": [f"[{lang}] paragraph {a}.{p}"],
                        "sentence_breaks": [[0, 10]],
                    }
                    for p, qids in enumerate(paragraphs)
                ],
            }
            for a, paragraphs in enumerate(articles)
        ],
    }


LAYOUT = [[["q1", "q2"], ["q3"]], [["q4"]]]


def _folder(tmp_path: Path, layouts: dict[str, list]) -> Path:
    folder = tmp_path / "xquad-r"
    folder.mkdir(exist_ok=True)
    for lang, layout in layouts.items():
        (folder / f"{lang}.json").write_text(json.dumps(_squad(lang, layout), ensure_ascii=False), encoding="utf-8")
    return folder


def test_synthetic_two_languages(tmp_path):
    folder = _folder(tmp_path, {"en": LAYOUT, "de": LAYOUT})
    task = load_xquad_r(folder, queries_lang="de", docs_lang="en")
    assert [d.id for d in task.docs] == ["en-00-00", "en-00-01", "en-01-00"]
    assert task.docs[1].text == "[en] paragraph 0.1"
    assert task.docs[2].meta == {"article_title": "Article_1", "article": 1, "paragraph": 0}
    assert [(q.id, q.text, q.lang) for q in task.queries] == [
        ("q1", "[de] question q1?", "de"),
        ("q2", "[de] question q2?", "de"),
        ("q3", "[de] question q3?", "de"),
        ("q4", "[de] question q4?", "de"),
    ]
    assert task.qrels == {
        "q1": {"en-00-00": 1},
        "q2": {"en-00-00": 1},
        "q3": {"en-00-01": 1},
        "q4": {"en-01-00": 1},
    }
    # only the languages used need to exist; pooled needs all eleven
    with pytest.raises(InputError, match=r"missing ar\.json"):
        load_xquad_r(folder, queries_lang="en", docs_lang=POOLED)
    paths = export_xquad_r(folder, tmp_path / "out", queries_lang="de", docs_lang="en")
    assert read_qrels(paths["qrels"]) == task.qrels
    assert [q.id for q in read_queries(paths["queries"])] == ["q1", "q2", "q3", "q4"]


@pytest.mark.parametrize(
    "layout, fragment",
    [
        ([[["q1", "q2"], ["q3"]]], "1 articles, expected 2"),
        ([[["q1", "q2"]], [["q4"]]], "article 0 ('Article_0') has 1 paragraphs, expected 2"),
        ([[["q1", "q2"], ["q3"]], [["q5"]]], "article 1 paragraph 0: question ids"),
        ([[["q2", "q1"], ["q3"]], [["q4"]]], "article 0 paragraph 0: question ids"),
    ],
)
def test_synthetic_misaligned_raises_naming_the_file(tmp_path, layout, fragment):
    folder = _folder(tmp_path, {"en": LAYOUT, "de": layout})
    with pytest.raises(InputError) as exc:
        load_xquad_r(folder, queries_lang="en", docs_lang="de")
    message = str(exc.value)
    assert message.startswith(f"{folder / 'de.json'}: not aligned with en.json: ")
    assert fragment in message


def test_synthetic_bad_files(tmp_path):
    folder = _folder(tmp_path, {"en": LAYOUT})
    (folder / "de.json").write_text('{"data": [\n  {"title": "x",\n}', encoding="utf-8")
    with pytest.raises(InputError, match=r"de\.json:3: invalid JSON"):
        load_xquad_r(folder, queries_lang="en", docs_lang="de")
    (folder / "de.json").write_text('{"data": [{"title": "x"}]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"data\[0\]\.paragraphs is missing"):
        load_xquad_r(folder, queries_lang="en", docs_lang="de")
    (folder / "de.json").write_text(json.dumps(_squad("de", [[["q1", "q1"]]])), encoding="utf-8")
    with pytest.raises(InputError, match="duplicate question id 'q1'"):
        load_xquad_r(folder, queries_lang="en", docs_lang="de")


def test_missing_folder_and_bad_arguments(tmp_path):
    with pytest.raises(InputError, match=r"XQuAD-R folder not found; expected a folder with ar\.json, de\.json"):
        load_xquad_r(tmp_path / "nowhere", queries_lang="en", docs_lang="de")
    folder = _folder(tmp_path, {"en": LAYOUT})
    with pytest.raises(InputError, match=r"missing de\.json"):
        load_xquad_r(folder, queries_lang="en", docs_lang="de")
    with pytest.raises(ParamError, match="unknown XQuAD-R queries language 'fr'; available: ar, de"):
        load_xquad_r(folder, queries_lang="fr", docs_lang="en")
    with pytest.raises(ParamError, match="queries language 'pooled'"):
        load_xquad_r(folder, queries_lang="pooled", docs_lang="en")
    with pytest.raises(ParamError, match="docs_lang is required"):
        export_xquad_r(folder, tmp_path / "o", queries_lang="en")
    with pytest.raises(ParamError, match="pooled"):
        export_xquad_r(folder, tmp_path / "o", queries_lang="en", docs_lang="de", pooled=True)
    assert not (tmp_path / "o").exists()
