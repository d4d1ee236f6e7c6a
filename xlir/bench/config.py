"""The ``xlir bench`` grid configuration: a YAML or JSON file, validated into :class:`BenchConfig`.

::

    name: xquad-r
    data: ../../../shared/data          # data root for relative collection paths (--data overrides)
    collections:
      - type: xquad-r                   # xquad-r | files | beir | clirudit | hc4
        path: xquad-r
        queries_lang: en
        langs: [de, es]
    retrievers:
      - bm25
      - {name: dense, label: e5, params: {model: multilingual-e5-small}}
    translation:
      modes: [none, query, document]
      translator: table:auto            # or NAME:ARG, or {query: ..., document: ...}
    rerankers: [none, adapter, "cross-encoder:PATH"]   # or {name: NAME[:ARG], label, params, depth: 100}
    measures: [nDCG@10, R@100, RR@10]
    k: 100
    baseline: bm25/none
    significance: {test: t-test, alpha: 0.05, correction: holm}
    confidence: {method: bootstrap, level: 0.95, resamples: 1000}
    latency: {queries: 100, warmup: 10}
    threads: null

Paths in the file are relative to the file's folder; ``cache`` defaults to
``indexes/bench`` and ``output`` to ``CACHE/reports/NAME`` (both relative to the current
folder when they come from the command line or the defaults).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from xlir.errors import ParamError
from xlir.spec_checks import check_keys as _check_keys
from xlir.spec_checks import fail as _fail
from xlir.spec_checks import mapping as _mapping

__all__ = [
    "BenchConfig",
    "CollectionSpec",
    "RetrieverSpec",
    "RerankerSpec",
    "SignificanceSpec",
    "ConfidenceSpec",
    "LatencySpec",
    "MODES",
    "COLLECTION_TYPES",
    "DEFAULT_CACHE",
    "load_config",
    "parse_config",
]

MODES = ("none", "query", "document")
DEFAULT_CACHE = Path("indexes") / "bench"
DEFAULT_MEASURES = ("nDCG@10", "R@100", "RR@10")
XQUAD_R_GRID_LANGS = ("de", "es", "ru", "zh", "ar", "hi", "el", "th", "tr", "vi")

#: collection type -> (required keys, optional keys with defaults)
COLLECTION_TYPES: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "xquad-r": ((), {"name": None, "path": "xquad-r", "queries_lang": "en", "langs": list(XQUAD_R_GRID_LANGS)}),
    "files": (("corpus", "queries", "qrels"), {"name": None, "docs_lang": None, "queries_lang": None}),
    "beir": (("path",), {"name": None, "split": "test", "docs_lang": None, "queries_lang": None}),
    "clirudit": ((), {"name": None, "path": "ftvalentini/clirudit", "langs": ["fr"], "revision": None}),
    "hc4": (("docs",), {"name": None, "path": "hc4", "langs": ["fa", "ru", "zh"], "split": "test",
                        "query_field": "title", "queries_lang": "en"}),
}

_TOP_KEYS = ("name", "description", "data", "cache", "output", "collections", "retrievers", "translation",
             "rerankers", "measures", "k", "baseline", "significance", "confidence", "latency", "threads")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


@dataclass(frozen=True)
class CollectionSpec:
    """One collection entry; ``options`` holds the type's keys (paths still as written)."""

    type: str
    name: str
    options: dict[str, Any]


@dataclass(frozen=True)
class RetrieverSpec:
    name: str
    label: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RerankerSpec:
    name: str
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    depth: int = 100
    arg: str | None = None  # NAME:ARG's ARG (a model or folder; paths resolved against the config's folder)

    @property
    def spec(self) -> str:
        """``NAME[:ARG]``, as ``xlir search --rerank`` takes it."""
        return self.name if self.arg is None else f"{self.name}:{self.arg}"


@dataclass(frozen=True)
class SignificanceSpec:
    test: str = "t-test"
    alpha: float = 0.05
    correction: str = "holm"
    permutations: int = 10_000
    seed: int = 0


@dataclass(frozen=True)
class ConfidenceSpec:
    method: str = "bootstrap"
    level: float = 0.95
    resamples: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class LatencySpec:
    queries: int = 100  # single queries timed one at a time (a seeded sample)
    warmup: int = 10  # queries searched (and documents indexed) before any clock starts
    seed: int = 0


@dataclass(frozen=True)
class BenchConfig:
    """A validated grid. Build it with :func:`load_config` or :func:`parse_config`."""

    name: str
    collections: tuple[CollectionSpec, ...]
    retrievers: tuple[RetrieverSpec, ...]
    modes: tuple[str, ...] = ("none",)
    translators: dict[str, str | None] = field(default_factory=dict)  # mode -> NAME[:ARG]
    translator_params: dict[str, Any] = field(default_factory=dict)
    rerankers: tuple[RerankerSpec, ...] = ()
    measures: tuple[str, ...] = DEFAULT_MEASURES
    k: int = 100
    baseline: str | None = None
    significance: SignificanceSpec = SignificanceSpec()
    confidence: ConfidenceSpec = ConfidenceSpec()
    latency: LatencySpec = LatencySpec()
    threads: int | None = None
    description: str = ""
    base_dir: Path = Path(".")  # the config file's folder
    data_root: Path | None = None
    cache: Path = DEFAULT_CACHE
    output: Path | None = None
    source: str | None = None  # the config file's path

    def resolve_data(self, value: str | os.PathLike) -> Path:
        """A collection path: absolute as is, else under the data root (or the config's folder)."""
        p = Path(os.path.expanduser(str(value)))
        return p if p.is_absolute() else (self.data_root or self.base_dir) / p

    @property
    def output_dir(self) -> Path:
        return self.output if self.output is not None else self.cache / "reports" / self.name

    def as_dict(self) -> dict[str, Any]:
        """The configuration as recorded in the results JSON (paths as strings)."""
        out = dataclasses.asdict(self)
        for key in ("base_dir", "data_root", "cache", "output"):
            out[key] = None if out[key] is None else str(out[key])
        out["output"] = str(self.output_dir)
        return out


def _spec_fields(cls, obj: Mapping, where: str, source: str | None):
    names = [f.name for f in dataclasses.fields(cls)]
    _check_keys(obj, names, where, source)
    defaults = cls()
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in obj:
            continue
        value, default = obj[f.name], getattr(defaults, f.name)
        if isinstance(default, bool) or not isinstance(default, (int, float, str)):
            values[f.name] = value
            continue
        try:
            values[f.name] = type(default)(value) if not isinstance(default, str) else str(value)
        except (TypeError, ValueError):
            raise _fail(f"{where}.{f.name}", f"expected {type(default).__name__}, got {value!r}", source) from None
    return cls(**values)


def _label(value: Any, where: str, source: str | None) -> str:
    if not isinstance(value, str) or not _LABEL.fullmatch(value):
        raise _fail(where, f"label {value!r} must be letters, digits and _.+- (no spaces or '/')", source)
    return value


def _reranker_name(value: str, w: str, base: Path, source: str | None) -> tuple[str, str | None, str]:
    """``NAME[:ARG]`` -> (name, arg with an existing path resolved, default label)."""
    from xlir.pipeline import parse_component_spec

    try:
        name, arg = parse_component_spec(value, "reranker")
    except ParamError as e:
        raise _fail(f"{w}.name", str(e), source) from None
    if arg is None:
        return name, None, name
    p = Path(os.path.expanduser(arg))
    p = p if p.is_absolute() else base / p
    if p.exists():
        arg = str(p)
    tail = re.sub(r"[^A-Za-z0-9_.+-]+", "-", Path(arg).name or arg).strip("-.") or "arg"
    return name, arg, f"{name}-{tail}"


def _component_list(raw: Any, where: str, source: str | None, *, reranker: bool, base: Path = Path(".")) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _fail(where, f"expected a list, got {type(raw).__name__}", source)
    out = []
    for i, item in enumerate(raw):
        w = f"{where}[{i}]"
        if reranker and item in (None, "none"):
            continue  # the systems without a reranker are always in the grid
        if isinstance(item, str):
            item = {"name": item}
        item = _mapping(item, w, source)
        valid = ["name", "label", "params"] + (["depth"] if reranker else [])
        _check_keys(item, valid, w, source)
        if not isinstance(item.get("name"), str) or not item["name"]:
            raise _fail(w, "missing 'name' (a registered component, see `xlir list`)", source)
        name, arg, default_label = (_reranker_name(item["name"], w, base, source) if reranker
                                    else (item["name"], None, item["name"]))
        label = _label(item.get("label", default_label), f"{w}.label", source)
        params = _mapping(item.get("params"), f"{w}.params", source)
        if reranker:
            depth = item.get("depth", 100)
            if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
                raise _fail(f"{w}.depth", f"expected a positive integer, got {depth!r}", source)
            out.append(RerankerSpec(name, label, params, depth, arg))
        else:
            out.append(RetrieverSpec(item["name"], label, params))
    labels = [c.label for c in out]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise _fail(where, f"duplicate label(s) {', '.join(dupes)}; give each entry its own 'label'", source)
    return out


def _collections(raw: Any, source: str | None) -> list[CollectionSpec]:
    if not isinstance(raw, list) or not raw:
        raise _fail("collections", "expected a non-empty list of collections, e.g. [{type: xquad-r, langs: [de]}]",
                    source)
    out = []
    for i, item in enumerate(raw):
        w = f"collections[{i}]"
        item = _mapping(item, w, source)
        kind = item.get("type")
        if kind not in COLLECTION_TYPES:
            raise _fail(f"{w}.type", f"unknown collection type {kind!r}; available: {', '.join(COLLECTION_TYPES)}",
                        source)
        required, optional = COLLECTION_TYPES[kind]
        _check_keys(item, ["type", *required, *optional], w, source)
        missing = [k for k in required if k not in item]
        if missing:
            raise _fail(w, f"collection type {kind!r} needs {', '.join(missing)}", source)
        options = {**optional, **{k: v for k, v in item.items() if k != "type"}}
        if "langs" in optional:
            langs = options["langs"]
            if isinstance(langs, str):
                langs = [x.strip() for x in langs.split(",") if x.strip()]
            if not isinstance(langs, list) or not langs or not all(isinstance(x, str) for x in langs):
                raise _fail(f"{w}.langs", f"expected a non-empty list of language codes, got {langs!r}", source)
            options["langs"] = list(langs)
        name = _label(options.pop("name") or kind, f"{w}.name", source)
        out.append(CollectionSpec(kind, name, options))
    names = [c.name for c in out]
    dupes = sorted({x for x in names if names.count(x) > 1})
    if dupes:
        raise _fail("collections", f"duplicate collection name(s) {', '.join(dupes)}; set 'name' on each", source)
    return out


def _translation(raw: Any, source: str | None) -> tuple[tuple[str, ...], dict[str, str | None], dict[str, Any]]:
    if raw is None:
        return ("none",), {}, {}
    if isinstance(raw, list):
        raw = {"modes": raw}
    raw = _mapping(raw, "translation", source)
    _check_keys(raw, ["modes", "translator", "params"], "translation", source)
    modes = raw.get("modes", ["none"])
    if isinstance(modes, str):
        modes = [modes]
    if not isinstance(modes, list) or not modes:
        raise _fail("translation.modes", f"expected a list of modes ({', '.join(MODES)})", source)
    for m in modes:
        if m not in MODES:
            raise _fail("translation.modes", f"unknown mode {m!r}; available: {', '.join(MODES)}", source)
    if len(set(modes)) != len(modes):
        raise _fail("translation.modes", "a mode is listed twice", source)
    spec = raw.get("translator")
    translators: dict[str, str | None] = {}
    for mode in ("query", "document"):
        value = spec.get(mode) if isinstance(spec, Mapping) else spec
        if isinstance(spec, Mapping):
            _check_keys(spec, ["query", "document"], "translation.translator", source)
        if value is not None and not isinstance(value, str):
            raise _fail("translation.translator", f"expected NAME[:ARG], got {value!r}", source)
        translators[mode] = value
        if mode in modes and not value:
            raise _fail("translation.translator",
                        f"mode {mode!r} needs a translator (table:auto, table:FILE or ctranslate2:DIR)", source)
    params = _mapping(raw.get("params"), "translation.params", source)
    return tuple(modes), translators, params


def parse_config(
    raw: Mapping[str, Any],
    *,
    base_dir: str | os.PathLike = ".",
    source: str | None = None,
    data: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    output: str | os.PathLike | None = None,
    langs: list[str] | None = None,
    threads: int | None = None,
    baseline: str | None = None,
) -> BenchConfig:
    """Validate a configuration mapping. Keyword arguments override the file (command-line options).

    Raises :class:`ParamError` naming the offending key for unknown keys (listing the
    valid ones), missing or badly typed values, unknown modes or measures.
    """
    if not isinstance(raw, Mapping):
        raise _fail("(top level)", f"expected a mapping, got {type(raw).__name__}", source)
    _check_keys(raw, _TOP_KEYS, "(top level)", source)
    base = Path(base_dir)
    name = _label(raw.get("name") or (Path(source).stem if source else "bench"), "name", source)
    collections = _collections(raw.get("collections"), source)
    if langs:
        collections = [
            dataclasses.replace(c, options={**c.options, "langs": list(langs)}) if "langs" in c.options else c
            for c in collections
        ]
    retrievers = _component_list(raw.get("retrievers"), "retrievers", source, reranker=False)
    if not retrievers:
        raise _fail("retrievers", "expected at least one retriever, e.g. [bm25]", source)
    rerankers = _component_list(raw.get("rerankers"), "rerankers", source, reranker=True, base=base)
    modes, translators, translator_params = _translation(raw.get("translation"), source)

    measures = raw.get("measures", list(DEFAULT_MEASURES))
    if isinstance(measures, str):
        measures = [measures]
    if not isinstance(measures, list) or not measures:
        raise _fail("measures", "expected a list of measures, e.g. [nDCG@10, R@100, RR@10]", source)
    from xlir.eval.measures import parse_measures

    parsed = parse_measures(measures)
    measures = [str(m) for m in parsed]
    k = raw.get("k", 100)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise _fail("k", f"expected a positive integer, got {k!r}", source)
    too_deep = [str(m) for m in parsed if (getattr(m, "params", None) or {}).get("cutoff") and m.params["cutoff"] > k]
    if too_deep:
        raise _fail("k", f"k={k} is below the cutoff of {', '.join(too_deep)}; raise k", source)

    significance = _spec_fields(SignificanceSpec, _mapping(raw.get("significance"), "significance", source),
                                "significance", source)
    from xlir.bench.stats import CI_METHODS, TESTS

    if significance.test not in TESTS:
        raise _fail("significance.test", f"unknown test {significance.test!r}; available: {', '.join(TESTS)}", source)
    if significance.correction not in ("holm", "none"):
        raise _fail("significance.correction", f"expected holm or none, got {significance.correction!r}", source)
    if not 0 < significance.alpha < 1:
        raise _fail("significance.alpha", f"expected a value in (0, 1), got {significance.alpha}", source)
    confidence = _spec_fields(ConfidenceSpec, _mapping(raw.get("confidence"), "confidence", source),
                              "confidence", source)
    if confidence.method not in CI_METHODS:
        raise _fail("confidence.method", f"unknown method {confidence.method!r}; available: {', '.join(CI_METHODS)}",
                    source)
    if not 0 < confidence.level < 1 or confidence.resamples < 10:
        raise _fail("confidence", "level must be in (0, 1) and resamples >= 10", source)
    latency = _spec_fields(LatencySpec, _mapping(raw.get("latency"), "latency", source), "latency", source)
    if latency.queries < 0 or latency.warmup < 0:
        raise _fail("latency", "queries and warmup must be >= 0", source)

    threads = threads if threads is not None else raw.get("threads")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise _fail("threads", f"expected a positive integer or null, got {threads!r}", source)

    def config_path(value: Any, key: str) -> Path | None:
        if value is None:
            return None
        if not isinstance(value, (str, os.PathLike)):
            raise _fail(key, f"expected a path, got {value!r}", source)
        p = Path(os.path.expanduser(str(value)))
        return p if p.is_absolute() else base / p

    data_root = Path(data) if data is not None else config_path(raw.get("data"), "data")
    cache_dir = Path(cache) if cache is not None else (config_path(raw.get("cache"), "cache") or DEFAULT_CACHE)
    output_dir = Path(output) if output is not None else config_path(raw.get("output"), "output")
    return BenchConfig(
        name=name,
        description=str(raw.get("description") or ""),
        collections=tuple(collections),
        retrievers=tuple(retrievers),
        modes=modes,
        translators=translators,
        translator_params=translator_params,
        rerankers=tuple(rerankers),
        measures=tuple(measures),
        k=k,
        baseline=baseline if baseline is not None else raw.get("baseline"),
        significance=significance,
        confidence=confidence,
        latency=latency,
        threads=threads,
        base_dir=base,
        data_root=data_root,
        cache=cache_dir,
        output=output_dir,
        source=source,
    )


def load_config(path: str | os.PathLike, **overrides: Any) -> BenchConfig:
    """Read a YAML (``.yaml``/``.yml``, needs PyYAML) or JSON grid file and validate it.

    ``overrides`` are :func:`parse_config`'s keyword arguments. Raises :class:`InputError`
    for a missing or unparsable file and :class:`ParamError` for an invalid grid.
    """
    from xlir.io._files import read_config_file

    p, raw = read_config_file(path, "configuration")
    return parse_config(raw or {}, base_dir=p.resolve().parent, source=str(p), **overrides)
