#!/usr/bin/env bash
# How fast one `faultline tail` instance consumes a Kafka topic, beside
# `kcat -C` reading the same topic to /dev/null, both from librdkafka's
# mock cluster (examples/kafka_mock) on loopback.
#
#   benches/kafka.sh [MESSAGES_MB] [PARTITIONS]     (defaults: 256 MB, 6)
#
# The topic is filled by kcat with one generated log line per message
# (benches/support/genlog, 3 lines per thousand with a code). kcat's time
# is its whole run (-C -e: read every partition to its end). faultline's
# time runs from its first window that read anything to the window in
# which its committed totals reached every line: the group join (held by
# the mock cluster for its 3 s initial delay) is left out, the commits and
# fsyncs of the protocol are in. Needs kcat (Debian package kcat).
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-256}
parts=${2:-6}
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

# One message per line, spread over the partitions by kcat's partitioner.
kcat -P -q -b "$brokers" -t bench -p -1 -X linger.ms=50 -X batch.num.messages=10000 -l "$work/log"
echo "topic: $lines messages, $((bytes / 1000000)) MB in $parts partitions at $brokers"

now() { date +%s.%N; }
kcat_best=
for round in 1 2 3; do
    t0=$(now)
    kcat -C -q -b "$brokers" -t bench -o beginning -e >/dev/null
    t=$(echo "$(now) - $t0" | bc -l)
    echo "kcat -C round $round: ${t}s"
    if [ -z "$kcat_best" ] || (($(echo "$t < $kcat_best" | bc -l))); then kcat_best=$t; fi
done

ft_best=
for round in 1 2 3; do
    rm -rf "$work/state" "$work/summaries"
    "$bin" tail --kafka-brokers "$brokers" --kafka-topic bench --kafka-group "bench$round" \
        --kafka-session-timeout 4s --from beginning --interval 250ms \
        --state-dir "$work/state" --summaries "$work/summaries" 2>"$work/ft.err" &
    ft_pid=$!
    until [ -s "$work/summaries" ] && [ "$(tail -1 "$work/summaries" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["lines"])')" -ge "$lines" ]; do
        sleep 0.2
        kill -0 "$ft_pid" || { cat "$work/ft.err"; exit 1; }
    done
    kill -TERM "$ft_pid"; wait "$ft_pid" || true
    t=$(python3 - "$work/summaries" "$lines" <<'PY'
import json, sys
from datetime import datetime
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ts = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
first = next(r for r in rows if r["lines"] > 0)
done = next(r for r in rows if r["totals"]["lines"] >= int(sys.argv[2]))
print(ts(done["window_end"]) - ts(first["window_start"]))
PY
)
    echo "faultline round $round: ${t}s"
    if [ -z "$ft_best" ] || (($(echo "$t < $ft_best" | bc -l))); then ft_best=$t; fi
done

rate() { echo "scale=0; $1 / $2" | bc -l; }
echo
printf '%-12s %10s %12s %8s\n' tool seconds messages/s MB/s
printf '%-12s %10.2f %12s %8s\n' "kcat -C" "$kcat_best" "$(rate "$lines" "$kcat_best")" "$(rate "$bytes/1000000" "$kcat_best")"
printf '%-12s %10.2f %12s %8s\n' faultline "$ft_best" "$(rate "$lines" "$ft_best")" "$(rate "$bytes/1000000" "$ft_best")"
