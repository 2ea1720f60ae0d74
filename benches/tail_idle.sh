#!/usr/bin/env bash
# Idle cost of `faultline tail` with many followed files: peak RSS (VmHWM)
# and CPU (utime+stime from /proc/PID/stat) over an idle period, and the
# descriptors in use. Default 2,000 files, 30 s idle after a 3 s start.
#
#   benches/tail_idle.sh [FILES] [IDLE_SECS]     (run with `nice` on a shared machine)
#
# Uses target/release/faultline (cargo build --release first).
set -euo pipefail
files=${1:-2000}
idle=${2:-30}
bin=${FAULTLINE:-$(dirname "$0")/../target/release/faultline}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir "$dir/logs"
for i in $(seq -w 1 "$files"); do
    echo "start Ecs.0013" > "$dir/logs/f$i.log"
done
"$bin" tail --summaries /dev/null "$dir/logs/*.log" 2>/dev/null &
pid=$!
sleep 3
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks)
sleep "$idle"
after=$(ticks)
hwm=$(awk '/^VmHWM/ { print $2, $3 }' "/proc/$pid/status")
fds=$(ls "/proc/$pid/fd" | wc -l)
kill "$pid"
wait "$pid" || true
used_ms=$(( (after - before) * 1000 / hz ))
echo "files=$files idle=${idle}s cpu=${used_ms}ms ($(awk -v u="$used_ms" -v s="$idle" 'BEGIN { printf "%.2f", u / (s * 10) }') % of a core) peak_rss=$hwm fds=$fds"
