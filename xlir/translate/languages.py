"""Language codes for translation: ISO 639-1 in, the token a model expects out.

xlir speaks ISO 639-1 (``fr``). Multilingual MT models name languages with special
tokens: NLLB-200 with FLORES-200 codes (``fra_Latn``), M2M-100 with ``__fr__``, and
multi-target OPUS-MT (Marian) models with a ``>>fra<<`` token at the start of the
source. Single-pair Marian models need no token at all.
"""

from __future__ import annotations

import re
from typing import Collection

from xlir.errors import UnknownLanguageError

__all__ = ["NLLB_CODES", "translation_lang", "lang_token", "detect_family", "FAMILIES"]

#: Model families, as told by the language tokens in the target vocabulary.
FAMILIES = ("nllb", "m2m100", "marian-multi", "marian")

#: ISO 639-1 -> FLORES-200 code (NLLB-200). Where a macrolanguage has several NLLB
#: varieties, the one NLLB's authors use for it by default (arb, pes, zho_Hans, npi...).
NLLB_CODES: dict[str, str] = {
    "af": "afr_Latn", "am": "amh_Ethi", "ar": "arb_Arab", "az": "azj_Latn", "be": "bel_Cyrl",
    "bg": "bul_Cyrl", "bn": "ben_Beng", "bs": "bos_Latn", "ca": "cat_Latn", "cs": "ces_Latn",
    "cy": "cym_Latn", "da": "dan_Latn", "de": "deu_Latn", "el": "ell_Grek", "en": "eng_Latn",
    "eo": "epo_Latn", "es": "spa_Latn", "et": "est_Latn", "eu": "eus_Latn", "fa": "pes_Arab",
    "fi": "fin_Latn", "fr": "fra_Latn", "ga": "gle_Latn", "gl": "glg_Latn", "gu": "guj_Gujr",
    "ha": "hau_Latn", "he": "heb_Hebr", "hi": "hin_Deva", "hr": "hrv_Latn", "hu": "hun_Latn",
    "hy": "hye_Armn", "id": "ind_Latn", "is": "isl_Latn", "it": "ita_Latn", "ja": "jpn_Jpan",
    "jv": "jav_Latn", "ka": "kat_Geor", "kk": "kaz_Cyrl", "km": "khm_Khmr", "kn": "kan_Knda",
    "ko": "kor_Hang", "lo": "lao_Laoo", "lt": "lit_Latn", "lv": "lvs_Latn", "mk": "mkd_Cyrl",
    "ml": "mal_Mlym", "mn": "khk_Cyrl", "mr": "mar_Deva", "ms": "zsm_Latn", "my": "mya_Mymr",
    "ne": "npi_Deva", "nl": "nld_Latn", "no": "nob_Latn", "pa": "pan_Guru", "pl": "pol_Latn",
    "ps": "pbt_Arab", "pt": "por_Latn", "ro": "ron_Latn", "ru": "rus_Cyrl", "si": "sin_Sinh",
    "sk": "slk_Latn", "sl": "slv_Latn", "so": "som_Latn", "sq": "als_Latn", "sr": "srp_Cyrl",
    "st": "sot_Latn", "sv": "swe_Latn", "sw": "swh_Latn", "ta": "tam_Taml", "te": "tel_Telu",
    "th": "tha_Thai", "tl": "tgl_Latn", "tr": "tur_Latn", "uk": "ukr_Cyrl", "ur": "urd_Arab",
    "uz": "uzn_Latn", "vi": "vie_Latn", "xh": "xho_Latn", "yi": "ydd_Hebr", "yo": "yor_Latn",
    "zh": "zho_Hans", "zu": "zul_Latn",
}
# ISO 639-3 (and the NLLB variety code) -> 639-1, for languages xlir has no analyzer for.
_ISO3 = {code.split("_")[0]: iso1 for iso1, code in NLLB_CODES.items()}
_ISO3.update({"swa": "sw", "msa": "ms", "zsm": "ms", "lav": "lv", "sqi": "sq", "aze": "az", "mon": "mn",
              "pus": "ps", "uzb": "uz", "tgl": "tl", "fil": "tl"})

_NLLB_TOKEN = re.compile(r"[a-z]{3}_[A-Z][a-z]{3}")
_M2M_TOKEN = re.compile(r"__[a-z]{2,3}__")
_MARIAN_TOKEN = re.compile(r">>[A-Za-z_]{2,8}<<")


def translation_lang(code: str) -> str:
    """The ISO 639-1 code of a language given as 639-1, 639-3, an English name or ``fra_Latn``.

    Accepts every language xlir analyzes plus the other languages of :data:`NLLB_CODES`.
    Raises :class:`UnknownLanguageError` listing the supported codes.
    """
    from xlir.analysis import normalize_lang

    if not isinstance(code, str):
        raise UnknownLanguageError(f"language code must be a string, got {type(code).__name__}")
    key = code.strip()
    try:
        lang = normalize_lang(key)
    except UnknownLanguageError:
        base = key.lower().replace("_", "-").split("-", 1)[0]
        lang = base if base in NLLB_CODES else _ISO3.get(base)
        if lang is None:
            raise UnknownLanguageError(
                f"unknown language code {code!r} for translation; supported: {', '.join(sorted(NLLB_CODES))}"
            ) from None
    if lang not in NLLB_CODES:  # 'multi' and any analyzer-only code
        raise UnknownLanguageError(
            f"language {code!r} cannot be translated from or to; supported: {', '.join(sorted(NLLB_CODES))}"
        )
    return lang


def detect_family(vocabulary: Collection[str]) -> str:
    """``nllb``, ``m2m100``, ``marian-multi`` or ``marian`` from a model's target vocabulary."""
    # Enough language tokens to be sure: an odd BPE piece could look like one by chance.
    counts = {"nllb": 0, "m2m100": 0, "marian-multi": 0}
    for token in vocabulary:
        if _NLLB_TOKEN.fullmatch(token):
            counts["nllb"] += 1
        elif _M2M_TOKEN.fullmatch(token):
            counts["m2m100"] += 1
        elif _MARIAN_TOKEN.fullmatch(token):
            counts["marian-multi"] += 1
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] >= 2 else "marian"


def _candidates(lang: str, family: str) -> list[str]:
    nllb = NLLB_CODES[lang]
    if family == "nllb":
        return [nllb]
    if family == "m2m100":
        return [f"__{lang}__"]
    if family == "marian-multi":
        iso3 = nllb.split("_")[0]
        extra = {"zh": ["cmn_Hans", "cmn", "zho"], "ar": ["ara"], "fa": ["fas", "pes"], "no": ["nob", "nor"],
                 "ms": ["zlm_Latn", "msa"], "sr": ["srp_Cyrl", "srp_Latn"]}.get(lang, [])
        return [f">>{c}<<" for c in (iso3, *extra, lang)]
    return []


def lang_token(code: str, family: str, vocabulary: Collection[str] | None = None) -> str | None:
    """The token that names language ``code`` for a model of ``family``; ``None`` for ``marian``.

    ``code`` may be ISO 639-1/639-3 or the model's own token (``zho_Hant``, ``__zh__``,
    ``>>cmn_Hant<<``), which is used as is when ``vocabulary`` holds it. With a
    ``vocabulary`` the token must be in it. Raises :class:`UnknownLanguageError` for an
    unknown code or a language the model does not know.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(FAMILIES)}")
    if family == "marian":
        translation_lang(code)  # still reject nonsense codes
        return None
    raw = code.strip() if isinstance(code, str) else code
    if vocabulary is not None and raw in vocabulary and raw not in ("</s>", "<s>", "<unk>", "<pad>"):
        return raw
    lang = translation_lang(code)
    candidates = _candidates(lang, family)
    if vocabulary is None:
        return candidates[0]
    for token in candidates:
        if token in vocabulary:
            return token
    known = sorted(t for t in vocabulary if _looks_like(t, family))
    shown = ", ".join(known[:12]) + (f", ... ({len(known)} in all)" if len(known) > 12 else "")
    raise UnknownLanguageError(
        f"language {code!r} ({' or '.join(candidates)}) is not in this {family} model's vocabulary; it knows {shown}"
    )


def _looks_like(token: str, family: str) -> bool:
    pattern = {"nllb": _NLLB_TOKEN, "m2m100": _M2M_TOKEN, "marian-multi": _MARIAN_TOKEN}[family]
    return pattern.fullmatch(token) is not None
