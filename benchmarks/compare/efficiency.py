"""Report sections on broker efficiency and the issue's throughput targets.

Broker CPU seconds per GB come from /proc/<pid>/stat read around each run
(see `pystream.bench.proc_cpu`); unlike throughput they hardly depend on
what else the shared machine was doing. The targets compare pystream's best
1-partition acks=1 medians with the peers' best, from the same run.
"""

from __future__ import annotations

from typing import Any

SUBJECT = "pystream"
ANY = ""
LIBRDKAFKA = "librdkafka"
# (section, case-key prefix, reader, what, reference, required ratio). Consume targets are
# shown for any reader (the broker's own speed) and for librdkafka consumers alone.
TARGETS = (
    ("produce", "produce-p1-acks1-", ANY, "produce", "kafka", 1.0),
    ("produce", "produce-p1-acks1-", ANY, "produce", "tansu", 3.0),
    ("consume", "consume-p1-", ANY, "consume", "kafka", 1.0),
    ("consume", "consume-p1-", ANY, "consume", "tansu", 3.0),
    ("consume", "consume-p1-", ANY, "consume", "loopback TCP", 0.5),
    ("consume", "consume-p1-", LIBRDKAFKA, "consume (librdkafka)", "kafka", 1.0),
    ("consume", "consume-p1-", LIBRDKAFKA, "consume (librdkafka)", "tansu", 3.0),
    ("consume", "consume-p1-", LIBRDKAFKA, "consume (librdkafka)", "loopback TCP", 0.5),
)


def best_case(
    peer: dict[str, Any], section: str, prefix: str, reader: str = ANY
) -> dict[str, Any] | None:
    """The case with the highest median MB/s among those whose key starts with `prefix`.

    With `reader` set to librdkafka, the wire-level reader's cases (key suffix) are left out.
    """
    found = [
        case
        for key, case in peer.get(section, {}).items()
        if key.startswith(prefix)
        and case.get("mb_per_s")
        and not (reader == LIBRDKAFKA and key.endswith("-fetch"))
    ]
    return max(found, key=lambda case: case["mb_per_s"]["median"]) if found else None


def best_median(
    peer: dict[str, Any], section: str, prefix: str, reader: str = ANY
) -> tuple[float, str] | None:
    """The highest median MB/s over the cases whose key starts with `prefix`, and its label."""
    case = best_case(peer, section, prefix, reader)
    return (case["mb_per_s"]["median"], case["label"]) if case else None


def target_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target: the figures, the ratio and whether it is met (None: not measurable)."""
    peers: dict[str, Any] = results["peers"]
    rows = []
    for section, prefix, reader, what, reference, required in TARGETS:
        case = best_case(peers.get(SUBJECT, {}), section, prefix, reader)
        ours = (case["mb_per_s"]["median"], case["label"]) if case else None
        if reference == "loopback TCP":
            tcp = results["limits"].get("loopback_tcp_mb_s")
            theirs = (tcp, "one connection") if tcp else None
        else:
            theirs = best_median(peers.get(reference, {}), section, prefix, reader)
        ratio = ours[0] / theirs[0] if ours and theirs and theirs[0] > 0 else None
        rows.append(
            {
                "case": case,  # pystream's best case, for its CPU figures
                "what": what,
                "reference": reference,
                "ours": ours,
                "theirs": theirs,
                "ratio": ratio,
                "required": required,
                "met": None if ratio is None else ratio >= required,
            }
        )
    return rows


def targets_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "### Targets (1 KiB records, 1 partition, acks=1, batched librdkafka client)",
        "",
        "Best median of the 1-partition acks=1 cases (any number of client processes; for "
        "consume, any reader unless the row says librdkafka) for each side, from this run.",
        "",
        "| target | pystream MB/s | reference MB/s | ratio | required | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in target_rows(results):
        ours, theirs = row["ours"], row["theirs"]
        ours_cell = f"{ours[0]:,.0f} ({ours[1]})" if ours else "not measured"
        theirs_cell = f"{theirs[0]:,.0f} ({theirs[1]})" if theirs else "not measured"
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "-"
        met = {True: "yes", False: "**no**", None: "unknown"}[row["met"]]
        lines.append(
            f"| {row['what']} vs {row['reference']} | {ours_cell} | {theirs_cell} | {ratio} | "
            f"{row['required']:.1f}x | {met} |"
        )
    return [*lines, ""]


def busiest_run_cores(results: dict[str, Any]) -> float | None:
    """The most cores (load generators + broker) any single run kept busy."""
    used = [
        run["client"]["cpu_cores_used"] + run["broker"]["cpu_cores_used"]
        for peer in results["peers"].values()
        for section in ("produce", "consume")
        for case in peer.get(section, {}).values()
        for run in case.get("runs", [])
        if run.get("broker") and run.get("client")
    ]
    return max(used) if used else None


def ceiling_section(results: dict[str, Any]) -> list[str]:
    """What each target's rate would cost the machine's CPUs, with this run's per-GB costs.

    At the rate a target asks for, the load generators need their CPU seconds
    per GB times the rate, and the broker at least its kernel (system) CPU per
    GB: receiving, page-cache and sending work that any broker moving those
    bytes through the kernel pays. When the two together come near the
    machine's CPUs, the target is beyond what this machine can show, whatever
    the broker's own code costs.
    """
    cpus = results.get("host", {}).get("cpus")
    busiest = busiest_run_cores(results)
    lines = [
        "### What the targets' rates cost this machine",
        "",
        "For each target, the rate it asks for (required ratio times the reference) "
        "and, at that rate, the cores pystream's best case would use with this run's "
        "median CPU seconds per GB: the load generators', the broker's kernel (system) "
        "time alone, and the broker's total. The machine has "
        f"{cpus if cpus else 'an unknown number of'} CPUs"
        + (f"; the busiest run of any peer kept {busiest:.2f} of them busy." if busiest else "."),
        "",
        "| target | rate needed MB/s | client cores | broker kernel cores | broker total cores "
        "| client + broker |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in target_rows(results):
        case, theirs = row["case"], row["theirs"]
        if not case or not theirs:
            continue
        need = row["required"] * theirs[0]
        gib_s = need / 1024
        client = (case.get("client_cpu_s_per_gb") or {}).get("median")
        system = (case.get("broker_system_s_per_gb") or {}).get("median")
        broker = (case.get("broker_cpu_s_per_gb") or {}).get("median")
        total = (
            f"{(client + broker) * gib_s:.2f}" if client is not None and broker is not None else "-"
        )
        lines.append(
            f"| {row['what']} vs {row['reference']} ({case['label']}) | {need:,.0f} | "
            f"{_cores(client, gib_s)} | {_cores(system, gib_s)} | {_cores(broker, gib_s)} | "
            f"{total} |"
        )
    return [*lines, ""]


def _cores(cpu_s_per_gb: float | None, gb_per_s: float) -> str:
    return f"{cpu_s_per_gb * gb_per_s:.2f}" if cpu_s_per_gb is not None else "-"


def cpu_section(peers: dict[str, Any], ok: list[str]) -> list[str]:
    """Broker CPU seconds per GB and broker cores beside the client's cores, per workload."""
    lines = [
        "### Broker CPU per GB moved (CPU seconds per 2^30 bytes, median [min-max])",
        "",
        "Read from `/proc/<pid>/stat` (utime+stime of the broker and its child processes) "
        "before and after each run; lower is better. This does not depend on how fast the "
        "run went, so it is the figure to compare when the machine is loaded. For Kafka "
        "it includes JVM background work (GC, log flusher) in the window.",
        "",
        "| workload | " + " | ".join(ok) + " |",
        "|---|" + "---:|" * len(ok),
    ]
    lines += _rows(peers, ok, "broker_cpu_s_per_gb", "{:.2f}")
    lines += [
        "",
        "### CPU use during the runs: broker cores / client cores (medians)",
        "",
        "On 2 CPUs, broker + client near 2.0 means the machine was saturated; a client "
        "near 1.0 core per process would mean the load generator limited the run.",
        "",
        "| workload | " + " | ".join(ok) + " |",
        "|---|" + "---:|" * len(ok),
    ]
    for section in ("produce", "consume"):
        for key, case in peers[ok[0]].get(section, {}).items():
            cells = []
            for name in ok:
                entry = peers[name].get(section, {}).get(key, {})
                broker, client = entry.get("broker_cores"), entry.get("client_cores")
                cells.append(
                    f"{broker['median']:.2f} / {client['median']:.2f}" if broker and client else "-"
                )
            lines.append(f"| {section} {case['label']} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _rows(peers: dict[str, Any], ok: list[str], field: str, fmt: str) -> list[str]:
    lines = []
    for section in ("produce", "consume"):
        for key, case in peers[ok[0]].get(section, {}).items():
            cells = []
            for name in ok:
                stat = peers[name].get(section, {}).get(key, {}).get(field)
                cells.append(
                    f"{fmt.format(stat['median'])} [{fmt.format(stat['min'])}-"
                    f"{fmt.format(stat['max'])}]"
                    if stat
                    else "-"
                )
            lines.append(f"| {section} {case['label']} | " + " | ".join(cells) + " |")
    return lines
