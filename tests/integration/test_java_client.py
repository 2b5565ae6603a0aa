"""The stock Java client (kafka-clients 4.x) against a real broker: admin, produce, consume.

`tests/integration/java/` holds a one-program Maven project (`ClientCheck`); it is
compiled once per session into `tests/integration/java/target/` with the local
repository in the default `~/.m2`, then run against the `pystream_broker`
fixture. `PYSTREAM_KAFKA_CLIENTS_VERSION=4.0.0` (any 4.x) tests another client
version than the one pinned in `java/pom.xml`. The test is skipped, with the reason, when Java 17+ or Maven is
missing or Maven Central cannot be reached for artifacts not yet in `~/.m2`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pystream.testing import EmbeddedBroker

pytestmark = [pytest.mark.integration, pytest.mark.java]

JAVA_DIR = Path(__file__).parent / "java"
MAIN_CLASS = "pystream.compat.ClientCheck"
# The first build downloads kafka-clients, its codecs and Maven's plugins (~45 MB).
BUILD_TIMEOUT_S = 600
RUN_TIMEOUT_S = 240
# What Maven prints when an artifact cannot be fetched, as opposed to a compile error.
UNREACHABLE = re.compile(
    r"Could not transfer artifact|Could not resolve dependencies|could not be resolved"
    r"|Unknown host|UnknownHostException|Connection refused|Connect timed out"
    r"|Network is unreachable|in offline mode|Non-resolvable parent POM",
)
COMPILE_ERROR = "COMPILATION ERROR"
# Maven 3.8 colours some lines even in batch mode.
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Small, quick-starting JVM: the machine has 2 cores shared with the broker.
JVM_FLAGS = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
VERSION_ENV = "PYSTREAM_KAFKA_CLIENTS_VERSION"


def _java_major(java: str) -> int | None:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    # `java -version` writes e.g. 'openjdk version "17.0.15" 2025-04-15' to stderr.
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if m is None:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def _maven(mvn: str, *args: str) -> tuple[int, str]:
    """Runs `mvn compile` in JAVA_DIR; (exit code, output without colour codes)."""
    version = os.environ.get(VERSION_ENV)
    if version:
        args = (*args, f"-Dkafka.version={version}")
    try:
        done = subprocess.run(
            [mvn, "-B", "-q", "-Dstyle.color=never", *args, "compile"],
            cwd=JAVA_DIR,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"Maven took over {BUILD_TIMEOUT_S}s (is Maven Central reachable?)")
    return done.returncode, ANSI.sub("", done.stdout + done.stderr)


def _unreachable_reason(output: str) -> str | None:
    for line in output.splitlines():
        if UNREACHABLE.search(line):
            return line.strip()
    return None


def _text(captured: str | bytes | None) -> str:
    # TimeoutExpired carries bytes even when the run asked for text.
    if isinstance(captured, bytes):
        return captured.decode(errors="replace")
    return captured or ""


@pytest.fixture(scope="session")
def client_check() -> list[str]:
    """The command (minus its arguments) that runs ClientCheck, built once per session."""
    java, mvn = shutil.which("java"), shutil.which("mvn")
    if java is None:
        pytest.skip("java is not on PATH (the Java client test needs Java 17+)")
    if mvn is None:
        pytest.skip("mvn is not on PATH (the Java client test builds with Maven)")
    major = _java_major(java)
    if major is None or major < 17:
        pytest.skip(f"{java} is Java {major}, the Java client test needs Java 17+")

    # Offline first: a warm ~/.m2 builds without touching the network at all.
    code, output = _maven(mvn, "-o")
    if code != 0 and COMPILE_ERROR not in output:
        code, output = _maven(mvn)
    if code != 0:
        reason = _unreachable_reason(output)
        if reason is not None and COMPILE_ERROR not in output:
            pytest.skip(f"Maven could not fetch the Java client: {reason}")
        pytest.fail(f"building {JAVA_DIR} failed:\n{output}")
    classpath = (JAVA_DIR / "target" / "classpath.txt").read_text().strip()
    classes = JAVA_DIR / "target" / "classes"
    return [java, *JVM_FLAGS, "-cp", f"{classes}{os.pathsep}{classpath}", MAIN_CLASS]


@pytest.mark.timeout(BUILD_TIMEOUT_S + RUN_TIMEOUT_S + 60)
def test_java_admin_produce_consume(
    client_check: list[str], pystream_broker: EmbeddedBroker
) -> None:
    """Admin, idempotent producer (zstd/lz4/snappy/gzip/none) and consumer all agree."""
    try:
        run = subprocess.run(
            [*client_check, pystream_broker.bootstrap, "java-check"],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(
            f"ClientCheck did not finish in {RUN_TIMEOUT_S}s:\n{_text(e.stdout)}{_text(e.stderr)}"
        )
    assert run.returncode == 0, f"ClientCheck exit {run.returncode}:\n{run.stdout}\n{run.stderr}"
