#!/usr/bin/env bash
# Side-by-side whole-process timing of the engine, ripgrep and GNU grep over
# one generated file from the page cache (see benches/NOTES.md).
#   benches/compare.sh [FILE] [ROUNDS]
# Generates FILE (1 GiB, seed 7) when missing. Prints every run; the
# per-tool minimum is the figure to quote on a shared, noisy machine.
set -euo pipefail
cd "$(dirname "$0")/.."
F=${1:-/tmp/faultline-bench-1g.log}
ROUNDS=${2:-5}
C=fixtures/matcher/codes.txt
RG=${RG:-$(command -v rg || echo ~/.cargo/bin/rg)}
cargo build --release -q --example genlog --example scanbench
[ -f "$F" ] || ./target/release/examples/genlog --bytes 1G --seed 7 -o "$F"
cat "$F" > /dev/null   # into the page cache
SIZE=$(stat -c %s "$F")
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
declare -A best
run() {   # name, command...; output goes to a file: grep quits early on /dev/null
  local name=$1; shift
  local t0 t1 t
  t0=$EPOCHREALTIME
  "$@" > "$OUT"
  t1=$EPOCHREALTIME
  t=$(echo "$t1 - $t0" | bc -l)
  printf '%-34s %6.3f s  %6.2f GB/s\n' "$name" "$t" "$(echo "$SIZE / $t / 1000000000" | bc -l)"
  if [ -z "${best[$name]:-}" ] || (( $(echo "$t < ${best[$name]}" | bc -l) )); then best[$name]=$t; fi
}
for ((i = 1; i <= ROUNDS; i++)); do
  run "engine reader (read 256K)" ./target/release/examples/scanbench "$F"
  run "engine mmap" ./target/release/examples/scanbench "$F" --mmap
  run "rg -c -F -f" "$RG" -c -F -f "$C" "$F"
  run "rg --no-mmap -c -F -f" "$RG" --no-mmap -c -F -f "$C" "$F"
  run "LC_ALL=C grep -c -F -f" env LC_ALL=C grep -c -F -f "$C" "$F"
  run "grep -c -F -f (LANG=$LANG)" grep -c -F -f "$C" "$F"
done
echo "--- minimum of $ROUNDS rounds"
for k in "${!best[@]}"; do
  printf '%-34s %6.3f s  %6.2f GB/s\n' "$k" "${best[$k]}" "$(echo "$SIZE / ${best[$k]} / 1000000000" | bc -l)"
done | sort -k1,1
