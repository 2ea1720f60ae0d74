#!/usr/bin/env bash
# Whole-process timings of `faultline scan` side by side with ripgrep and
# GNU grep over the same generated file, in the same run (the figures in
# README.md, "Performance"; method in benches/NOTES.md).
#
#   benches/compare.sh [FILE] [ROUNDS]
#   RG_ONLY=1 benches/compare.sh [FILE] [ROUNDS]   # only faultline vs rg, no memory
#
# FILE (default /tmp/faultline-bench-1g.log: 1 GiB, seed 7) is generated
# when missing, with its .gz and .zst beside it. Each round times every
# command once, reading from the page cache; the minimum per command over
# the rounds is the figure to quote on a shared machine, and every run is
# printed. Then, once: compressed inputs beside their decompressor alone,
# and peak memory (/usr/bin/time -v) for FILE and for one 1 GiB line.
# Two more corpora of 256 MiB beside FILE, timed in the same rounds:
# FILE.patho (the same log with pathological lines: a 4 MiB run of
# letters, base64 blobs, all-digit lines, `Ecs.Ecs.Ecs.`, 1 MiB lines; one
# every 6 MiB) against rg over the 589 codes, and FILE.user (its codes drawn
# from a user catalog of 10,000 codes over 2,000 stems, 4-, 6- and 8-digit
# families, written to FILE.user.json; FILE.user.txt holds those codes and
# the 589) against rg over the same 10,589 codes.
# Needs: bc, gzip, zstd, GNU time (apt-get install -y time), rg 15
# (`cargo install ripgrep`; set RG=... to pick one).
set -euo pipefail
cd "$(dirname "$0")/.."
F=${1:-/tmp/faultline-bench-1g.log}
ROUNDS=${2:-5}
C=fixtures/matcher/codes.txt # the catalog's 589 codes, one per line
RG=${RG:-$(command -v rg || echo ~/.cargo/bin/rg)}
FL=./target/release/faultline
cargo build --release -q --bin faultline --example genlog
[ -f "$F" ] || ./target/release/examples/genlog --bytes 1G --seed 7 -o "$F"
[ -f "$F.gz" ] || gzip -c -6 "$F" > "$F.gz"
[ -f "$F.zst" ] || zstd -q -3 -c "$F" > "$F.zst"
[ -f "$F.patho" ] || ./target/release/examples/genlog --bytes 256M --seed 7 --pathological 6M -o "$F.patho"
[ -f "$F.user" ] || ./target/release/examples/genlog --bytes 256M --seed 7 --user-catalog "$F.user.json" -o "$F.user"
cat "$F" "$F.gz" "$F.zst" "$F.patho" "$F.user" > /dev/null # into the page cache
PSIZE=$(stat -c %s "$F.patho")
USIZE=$(stat -c %s "$F.user")
SIZE=$(stat -c %s "$F")
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
declare -A best all
run() { # name, bytes, command...; output to a file: grep quits early on /dev/null
  local name=$1 bytes=$2
  shift 2
  local t0 t1 t
  t0=$EPOCHREALTIME
  "$@" > "$OUT"
  t1=$EPOCHREALTIME
  t=$(echo "$t1 - $t0" | bc -l)
  printf '%-40s %7.3f s  %6.2f GB/s\n' "$name" "$t" "$(echo "$bytes / $t / 1000000000" | bc -l)"
  all[$name]+="$t "
  if [ -z "${best[$name]:-}" ] || (($(echo "$t < ${best[$name]}" | bc -l))); then best[$name]=$t; fi
}
# Decompressors alone write to /dev/null: 1 GiB written to a file each
# round would leave writeback running under the next round's timings.
discard() { "$@" > /dev/null; }
echo "file: $F ($SIZE bytes); $("$RG" --version | head -1); $(grep --version | head -1)"
for ((i = 1; i <= ROUNDS; i++)); do
  run "faultline scan --threads 1" "$SIZE" "$FL" scan --threads 1 --format json "$F"
  [ -n "${RG_ONLY:-}" ] || run "faultline scan --threads 1 --no-mmap" "$SIZE" "$FL" scan --threads 1 --no-mmap --format json "$F"
  [ -n "${RG_ONLY:-}" ] || run "faultline scan --threads 2 F F (2 files)" "$((2 * SIZE))" "$FL" scan --threads 2 --format json "$F" "$F"
  run "rg -c -F -f" "$SIZE" "$RG" -c -F -f "$C" "$F"
  run "patho: faultline scan --threads 1" "$PSIZE" "$FL" scan --threads 1 --format json "$F.patho"
  run "patho: rg -c -F -f" "$PSIZE" "$RG" -c -F -f "$C" "$F.patho"
  run "user: faultline scan --threads 1" "$USIZE" "$FL" scan --threads 1 --catalog "$F.user.json" --format json "$F.user"
  run "user: rg -c -F -f (10,589 codes)" "$USIZE" "$RG" -c -F -f "$F.user.txt" "$F.user"
  [ -n "${RG_ONLY:-}" ] || run "LC_ALL=C grep -c -F -f" "$SIZE" env LC_ALL=C grep -c -F -f "$C" "$F"
  [ -n "${RG_ONLY:-}" ] || run "grep -c -F -f (LANG=${LANG:-unset})" "$SIZE" grep -c -F -f "$C" "$F"
  [ -n "${RG_ONLY:-}" ] || run "faultline scan F.gz" "$SIZE" "$FL" scan --format json "$F.gz"
  [ -n "${RG_ONLY:-}" ] || run "gzip -dc F.gz > /dev/null" "$SIZE" discard gzip -dc "$F.gz"
  if [ -z "${RG_ONLY:-}" ] && command -v igzip > /dev/null; then # Debian package isal
    run "igzip -dc F.gz > /dev/null" "$SIZE" discard igzip -dc "$F.gz"
    run "faultline scan --threads 1 F.gz" "$SIZE" "$FL" scan --threads 1 --format json "$F.gz"
    # The fallback inflater (flate2), as on a machine without libisal.so.2.
    run "faultline scan --threads 1 F.gz (flate2)" "$SIZE" env FAULTLINE_NO_ISAL=1 "$FL" scan --threads 1 --format json "$F.gz"
  fi
  [ -n "${RG_ONLY:-}" ] || run "faultline scan F.zst" "$SIZE" "$FL" scan --format json "$F.zst"
  [ -n "${RG_ONLY:-}" ] || run "zstd -dc F.zst > /dev/null" "$SIZE" discard zstd -q -dc "$F.zst"
done
echo "--- minimum of $ROUNDS rounds (GB/s of uncompressed bytes)"
for k in "${!best[@]}"; do
  b=$SIZE
  [[ $k == *"2 files"* ]] && b=$((2 * SIZE))
  [[ $k == patho:* ]] && b=$PSIZE
  [[ $k == user:* ]] && b=$USIZE
  printf '%-40s %7.3f s  %6.2f GB/s\n' "$k" "${best[$k]}" "$(echo "$b / ${best[$k]} / 1000000000" | bc -l)"
done | sort -k1,1
median() { tr ' ' '\n' <<< "${all[$1]}" | grep . | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ratio() { printf '%-40s %7.2f\n' "$1" "$(echo "$(median "$2") / $(median "$3")" | bc -l)"; }
echo "--- faultline / rg, medians of $ROUNDS rounds (<= 1: as fast or faster)"
ratio "built-in catalog, generated log" "faultline scan --threads 1" "rg -c -F -f"
ratio "built-in catalog, pathological text" "patho: faultline scan --threads 1" "patho: rg -c -F -f"
ratio "user catalog of 10,000 codes" "user: faultline scan --threads 1" "user: rg -c -F -f (10,589 codes)"
if [ -z "${RG_ONLY:-}" ] && command -v igzip > /dev/null; then
  echo "--- faultline / igzip -dc, medians of $ROUNDS rounds (<= 1: as fast or faster)"
  ratio "gzip -6, ISA-L (libisal.so.2)" "faultline scan --threads 1 F.gz" "igzip -dc F.gz > /dev/null"
  ratio "gzip -6, flate2 fallback" "faultline scan --threads 1 F.gz (flate2)" "igzip -dc F.gz > /dev/null"
fi
if [ -x /usr/bin/time ] && [ -z "${RG_ONLY:-}" ]; then
  echo "--- peak memory"
  rss() { /usr/bin/time -v "$@" 2>&1 > /dev/null | awk -F': ' '/Maximum resident/ {print $2 " KiB"}'; }
  echo "faultline scan --threads 1 F:          $(rss "$FL" scan --threads 1 --format json "$F")"
  echo "faultline scan --threads 1 --no-mmap F: $(rss "$FL" scan --threads 1 --no-mmap --format json "$F")"
  echo "rg -c -F -f F:                          $(rss "$RG" -c -F -f "$C" "$F")"
  LINE=$(mktemp --suffix=.log)
  head -c "$SIZE" "$F" | tr '\n' ' ' > "$LINE" # one line of 1 GiB, no LF
  echo "faultline scan, one 1 GiB line:         $(rss "$FL" scan --threads 1 --format json "$LINE")"
  echo "faultline scan --no-mmap, one line:     $(rss "$FL" scan --threads 1 --no-mmap --format json "$LINE")"
  rm -f "$LINE"
fi
