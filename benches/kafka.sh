#!/usr/bin/env bash
# How fast one `faultline tail` instance consumes a Kafka topic, beside
# `kcat -C` reading the same topic to /dev/null, both from librdkafka's
# mock cluster (examples/kafka_mock) on loopback, in the same run.
#
#   benches/kafka.sh [TOPIC_MB] [PARTITIONS] [ROUNDS]   (defaults: 96, 32, 3)
#
# The topic is filled by kcat with one generated log line per message
# (benches/support/genlog, 3 lines per thousand with a code; the same
# number of bytes per partition), then read
# ROUNDS times by each tool; the table shows the median round.
#
# The mock cluster keeps at most 5 MB per partition and silently drops
# older messages beyond that (librdkafka's rdkafka_mock.c, max_size): a
# topic over ~4 MB per partition would be cut short (this is why an
# earlier version of this script "stalled": faultline waited for lines the
# broker had dropped). The script refuses such sizes and checks that the
# topic holds every line before timing anything.
#
# kcat's time is its whole run (-C -e: connect, read every partition to
# its end, exit). faultline's time runs from its first line read to its
# last, from its `faultline_lines_total` counter polled every 10 ms on
# /metrics: the group join (held by the mock cluster for its 3 s initial
# rebalance delay) is left out, the protocol's commits and fsyncs (one per
# 250 ms window) are in. After each round faultline is stopped and its
# committed totals must equal the topic's line count. Needs kcat (Debian
# package kcat), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-96}
parts=${2:-32}
rounds=${3:-3}
if ((mb > 4 * parts)); then
    echo "kafka.sh: $mb MB over $parts partitions is more than the mock cluster keeps (5 MB per partition); use at least $(((mb + 3) / 4)) partitions" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'kill "${mock_pid:-}" "${ft_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet --bin faultline --example kafka_mock --example genlog
bin=target/release/faultline

target/release/examples/genlog --bytes "${mb}M" --seed 7 -o "$work/log"
lines=$(wc -l <"$work/log")
bytes=$(stat -c %s "$work/log")

mkfifo "$work/mock.in"
target/release/examples/kafka_mock bench "$parts" <"$work/mock.in" >"$work/mock.out" &
mock_pid=$!
exec 3>"$work/mock.in" # keeps the mock serving until this script ends
for _ in $(seq 100); do [ -s "$work/mock.out" ] && break; sleep 0.1; done
brokers=$(head -1 "$work/mock.out")

# One message per line, the same number of bytes into each partition
# (kcat's sticky partitioner would pile whole batches onto a few).
split -n "l/$parts" -d -a 4 "$work/log" "$work/part."
p=0
for f in "$work"/part.*; do
    kcat -P -q -b "$brokers" -t bench -p "$p" -X linger.ms=50 -X batch.num.messages=10000 -l "$f"
    p=$((p + 1))
done
rm -f "$work"/part.*
held=$(kcat -C -q -b "$brokers" -t bench -o beginning -e | wc -l)
if [ "$held" -ne "$lines" ]; then
    echo "kafka.sh: the topic holds $held of $lines messages (the mock cluster dropped some: use more partitions)" >&2
    exit 1
fi
echo "topic: $lines messages, $((bytes / 1000000)) MB in $parts partitions at $brokers"

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

: >"$work/kcat.times"
: >"$work/ft.times"
for round in $(seq "$rounds"); do
    # kcat and faultline alternate, so that both see the same machine.
    t0=$(date +%s.%N)
    kcat -C -q -b "$brokers" -t bench -o beginning -e >/dev/null
    t=$(echo "$(date +%s.%N) - $t0" | bc -l)
    echo "$t" >>"$work/kcat.times"
    echo "round $round: kcat -C ${t}s"

    rm -rf "$work/state" "$work/summaries"
    port=$(free_port)
    "$bin" tail --kafka-brokers "$brokers" --kafka-topic bench --kafka-group "bench$round" \
        --kafka-session-timeout 4s --from beginning --interval 250ms \
        --metrics-addr "127.0.0.1:$port" \
        --state-dir "$work/state" --summaries "$work/summaries" 2>"$work/ft.err" &
    ft_pid=$!
    if ! t=$(python3 - "$port" "$lines" "$ft_pid" <<'PY'
import os, sys, time, urllib.request
port, want, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def read():
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("faultline_lines_total "):
            return int(float(line.split()[1]))
    return None
first = None
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    os.kill(pid, 0)
    n = read()
    now = time.monotonic()
    if n and first is None:
        first = now
    if n is not None and n >= want:
        print(f"{now - first:.3f}")
        sys.exit(0)
    time.sleep(0.01)
sys.exit("faultline did not read every line")
PY
    ); then
        cat "$work/ft.err" >&2
        exit 1
    fi
    # Its committed totals must be every line, exactly.
    until [ -s "$work/summaries" ] && [ "$(tail -1 "$work/summaries" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["lines"])')" -ge "$lines" ]; do
        sleep 0.1
    done
    kill -TERM "$ft_pid"
    wait "$ft_pid"
    ft_pid=
    total=$(tail -1 "$work/summaries" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["lines"])')
    if [ "$total" -ne "$lines" ]; then
        echo "kafka.sh: faultline's totals hold $total lines, the topic $lines" >&2
        exit 1
    fi
    echo "$t" >>"$work/ft.times"
    echo "round $round: faultline ${t}s"
done

kcat_t=$(median <"$work/kcat.times")
ft_t=$(median <"$work/ft.times")
rate() { echo "scale=1; $1 / $2" | bc -l; }
echo
echo "median of $rounds rounds, $lines messages, $((bytes / 1000000)) MB, $parts partitions:"
printf '%-10s %9s %12s %8s\n' tool seconds messages/s MB/s
printf '%-10s %9.3f %12.0f %8.1f\n' "kcat -C" "$kcat_t" "$(rate "$lines" "$kcat_t")" "$(rate "$bytes/1000000" "$kcat_t")"
printf '%-10s %9.3f %12.0f %8.1f\n' faultline "$ft_t" "$(rate "$lines" "$ft_t")" "$(rate "$bytes/1000000" "$ft_t")"
printf 'faultline / kcat throughput: %.2f\n' "$(echo "$kcat_t / $ft_t" | bc -l)"
