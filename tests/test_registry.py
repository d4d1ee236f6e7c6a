from dataclasses import dataclass

import pytest

from xlir.errors import MissingDependencyError, ParamError, UnknownComponentError
from xlir.params import make_params, parse_param_options
from xlir.registry import RETRIEVERS, Registry


def test_unknown_name_suggests_close_match():
    with pytest.raises(UnknownComponentError) as e:
        RETRIEVERS.get("bm52")
    assert str(e.value) == "unknown retriever 'bm52'; available: " + ", ".join(RETRIEVERS.names()) + "; did you mean 'bm25'?"


def test_duplicate_registration_refused():
    reg = Registry("thing", "xlir.test-things")
    reg.add("a", "json:dumps")
    with pytest.raises(ValueError, match="already registered"):
        reg.add("a", "json:loads")


def test_missing_dependency_gives_install_hint():
    reg = Registry("retriever", "xlir.test-things")
    reg.add("needs-x", "json:dumps", extra="dense", requires=("surely_not_installed_pkg",))
    assert reg.is_available("needs-x") is False
    with pytest.raises(MissingDependencyError, match=r'pip install "xlir\[dense\]"'):
        reg.get("needs-x")


def test_lazy_import_of_target():
    reg = Registry("thing", "xlir.test-things")
    reg.add("dumps", "json:dumps")
    assert reg.create("dumps", obj=[1]) == "[1]"


@dataclass(frozen=True)
class P:
    lang: str = "en"
    k1: float = 0.9
    n: int = 3
    flag: bool = True
    opt: int | None = None


def test_params_convert_strings_and_reject_unknown_keys():
    p = make_params(P, parse_param_options(["k1=1.2", "n=7", "flag=false", "opt=none"]))
    assert (p.k1, p.n, p.flag, p.opt) == (1.2, 7, False, None)
    assert make_params(P, {"opt": "5"}).opt == 5
    with pytest.raises(ParamError, match="unknown parameter\\(s\\) 'kl' for P; valid: flag, k1, lang, n, opt"):
        make_params(P, {"kl": "1"})
    with pytest.raises(ParamError, match="expected int"):
        make_params(P, {"n": "seven"})
    with pytest.raises(ParamError, match="expected a boolean"):
        make_params(P, {"flag": "maybe"})
    with pytest.raises(ParamError, match="KEY=VALUE"):
        parse_param_options(["k1"])


def test_bm25_params_validated():
    with pytest.raises(ParamError, match="b must be in"):
        RETRIEVERS.create("bm25", b=1.5)
    from xlir.errors import UnknownLanguageError

    with pytest.raises(UnknownLanguageError):
        RETRIEVERS.create("bm25", lang="xx")
