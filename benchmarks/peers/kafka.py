"""Apache Kafka as a single KRaft node (broker and controller in one JVM), jars from Maven Central.

`pom.xml` beside this file names `kafka_2.13`, `kafka-tools` and a log4j2
binding; `mvn dependency:copy-dependencies` copies them with their runtime
dependencies into a cache outside git (`~/.cache/pystream-bench/kafka/<version>`,
or `$PYSTREAM_BENCH_CACHE`). Storage is formatted with `kafka.tools.StorageTool`
and the broker runs `kafka.Kafka` on a generated `server.properties`.
Durability is Kafka's default: the log is written to the page cache and
flushed by the OS (no fsync per batch).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from benchmarks.peers.base import Peer, PeerNotStarted, free_port

KAFKA_VERSION = "4.0.0"
POM = Path(__file__).with_name("kafka") / "pom.xml"
HEAP = "1G"
MAVEN_TIMEOUT_S = 900


def cache_dir(version: str = KAFKA_VERSION) -> Path:
    root = os.environ.get("PYSTREAM_BENCH_CACHE") or Path.home() / ".cache" / "pystream-bench"
    return Path(root) / "kafka" / version


def fetch_jars(version: str = KAFKA_VERSION) -> Path:
    """Copy Kafka's jars into the cache once (a marker file records completion)."""
    target = cache_dir(version)
    marker = target / ".complete"
    if marker.is_file():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise PeerNotStarted("Maven (mvn) not found: needed to fetch Kafka's jars")
    target.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(POM),
                f"-Dkafka.version={version}",
                "dependency:copy-dependencies",
                f"-DoutputDirectory={target}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
            timeout=MAVEN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise PeerNotStarted(f"fetching Kafka jars took over {MAVEN_TIMEOUT_S}s") from exc
    if done.returncode != 0:
        tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        raise PeerNotStarted(f"mvn could not fetch Kafka {version}: {tail}")
    marker.write_text(version + "\n", encoding="utf-8")
    return target


def java_major_version(java: str) -> int:
    """The major version of `java` (17 for 17.0.x), from `java -version`."""
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise PeerNotStarted(f"cannot read the Java version: {out.stderr.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise PeerNotStarted("java not found (Kafka needs Java 17 or newer)")
    if java_major_version(java) < 17:
        raise PeerNotStarted(f"{java} is older than Java 17")
    return java


def cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")


def server_properties(broker_port: int, controller_port: int, log_dir: Path) -> str:
    """A single-node KRaft configuration on loopback, with internal topics at replication 1."""
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Benchmarks start a new consumer group per run; do not wait for more members.
        "group.initial.rebalance.delay.ms": "0",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def log4j_properties(log_file: Path) -> str:
    return (
        "rootLogger.level=INFO\n"
        "rootLogger.appenderRef.file.ref=file\n"
        "appender.file.type=File\n"
        "appender.file.name=file\n"
        f"appender.file.fileName={log_file}\n"
        "appender.file.layout.type=PatternLayout\n"
        "appender.file.layout.pattern=[%d] %p %m (%c)%n\n"
    )


class KafkaPeer(Peer):
    name = "kafka"

    def __init__(self, version: str = KAFKA_VERSION) -> None:
        super().__init__()
        self.version = version
        self.classpath = ""
        self.java = ""
        self.log4j_config: Path | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "jvm": f"-Xms{HEAP} -Xmx{HEAP}",
            "storage": "log.dirs under the work dir",
            "durability": "Kafka default: page cache, OS flush (no fsync per batch)",
        }

    def prepare(self) -> None:
        """Find Java 17+ and fetch the jars (also used by the Java perf tools)."""
        if not self.classpath:
            self.java = find_java()
            self.classpath = str(fetch_jars(self.version) / "*")

    def java_command(self, main_class: str, *args: str) -> list[str]:
        self.prepare()
        command = [self.java]
        if self.log4j_config is not None:
            command.append(f"-Dlog4j2.configurationFile={self.log4j_config}")
        return [*command, "-cp", self.classpath, main_class, *args]

    def start(self, work_dir: Path) -> str:
        self.prepare()
        work_dir.mkdir(parents=True, exist_ok=True)
        broker_port, controller_port = free_port(), free_port()
        config = work_dir / "server.properties"
        config.write_text(
            server_properties(broker_port, controller_port, work_dir / "kafka-logs"),
            encoding="utf-8",
        )
        self.log4j_config = work_dir / "log4j2.properties"
        self.log4j_config.write_text(log4j_properties(work_dir / "server.log"), encoding="utf-8")
        formatted = subprocess.run(
            self.java_command(
                "kafka.tools.StorageTool", "format", "-t", cluster_id(), "-c", str(config)
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if formatted.returncode != 0:
            raise PeerNotStarted(f"kafka storage format failed: {formatted.stderr.strip()[-300:]}")
        command = self.java_command("kafka.Kafka", str(config))
        command[1:1] = [f"-Xms{HEAP}", f"-Xmx{HEAP}", "-XX:+UseG1GC", "-Djava.awt.headless=true"]
        self.launch(command, work_dir)
        self.wait_ready(broker_port)
        self.bootstrap = f"127.0.0.1:{broker_port}"
        return self.bootstrap
