#!/usr/bin/env bash
# Interleaved sweep of the broker's socket.send.buffer.bytes under consumers.
#
#   perf/ab_send_buffer.sh ROUNDS SIZE...      e.g. perf/ab_send_buffer.sh 3 102400 262144 -1
#
# For each round and size: a fresh broker on an empty data dir with
# `-o socket.send.buffer.bytes=SIZE`, a 1 GB topic written by the C producer,
# then the fetch reader twice, librdkafka consumers in C (2, then 1 process)
# and confluent-kafka's Python consumer; prints MB/s and the broker's CPU
# clock ticks (1/100 s) for each read. Run from the repository root with the
# venv installed.
#
# Environment: BROKER_PYTHONPATH=DIR runs the broker from DIR/pystream (a copy
# of the package before a change, for a code A/B; the clients stay the
# repository's); READERS="rdkafka-c 2,fetch 1" replaces the reader list.
set -euo pipefail
rounds=$1; shift
sizes=("$@")
bin="$(pwd)/.venv/bin/pystream"
listen=127.0.0.1:29093
mbs() { grep "│" | tail -1 | awk -F'│' '{gsub(/ /, "", $2); print $2}'; }
for r in $(seq "$rounds"); do
  for size in "${sizes[@]}"; do
    data=$(mktemp -d)
    (cd /tmp && PYTHONPATH="${BROKER_PYTHONPATH:-}" exec "$bin" broker --data-dir "$data" --listen $listen \
       -o socket.send.buffer.bytes="$size" >/dev/null 2>&1) &
    broker=$!
    sleep 2
    "$bin" bench produce --bootstrap-server $listen --topic c --num-records 1000000 \
      --acks 1 --client c >/dev/null
    ticks() { awk '{print $14 + $15}' "/proc/$broker/stat"; }
    IFS=, read -r -a readers <<<"${READERS:-fetch 1,fetch 1,rdkafka-c 2,rdkafka-c 1,librdkafka 1}"
    for reader in "${readers[@]}"; do
      read -r name procs <<<"$reader"
      t0=$(ticks)
      rate=$("$bin" bench consume --bootstrap-server $listen --topic c \
        --num-records 1000000 --reader "$name" --num-consumers "$procs" | mbs)
      echo "round $r send.buffer $size reader $name x$procs: $rate MB/s, broker ticks $(( $(ticks) - t0 ))"
    done
    kill -TERM $broker; wait $broker || true
    rm -rf "$data"
  done
done
