#!/usr/bin/env bash
# The speed targets of SPEC section 4 as ratios, from one run: each
# command timed in interleaved rounds (faultline, then its rival, then the
# next pair), median of ROUNDS per command, so that a shared machine's
# drift falls on both sides of a ratio alike. Outputs go to /dev/null or a
# small file (a decompressor writes to /dev/null, as `igzip -dc >
# /dev/null` is the target).
#
#   benches/ratios.sh [ROUNDS]
#
# Uses the corpora of benches/compare.sh (run it once first to generate
# them): F=/tmp/faultline-bench-1g.log (1 GiB), and the 256 MiB F.patho,
# F.user (+ .user.json, .user.txt) and F.gz beside it; set F to pick
# another. Needs bc, GNU grep, igzip (Debian `isal`), rg 15.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
F=${F:-/tmp/faultline-bench-1g.log}
FL=./target/release/faultline
RG=${RG:-$(command -v rg || echo ~/.cargo/bin/rg)}
C=fixtures/matcher/codes.txt
cargo build --release -q --bin faultline
for f in "$F" "$F.patho" "$F.user" "$F.gz"; do
    [ -f "$f" ] || { echo "missing $f: run benches/compare.sh $F 1 first" >&2; exit 2; }
done
cat "$F" "$F.patho" "$F.user" "$F.gz" > /dev/null
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
declare -A times
time_it() { # name, command...
    local name=$1
    shift
    local t0=$EPOCHREALTIME
    "$@" > "$OUT"
    times[$name]+="$(echo "$EPOCHREALTIME - $t0" | bc -l) "
}
to_null() { "$@" > /dev/null; }
for ((i = 1; i <= ROUNDS; i++)); do
    time_it fl_1g $FL scan --threads 1 --format json "$F"
    time_it rg_1g "$RG" -c -F -f $C "$F"
    time_it fl_1g_threads2 $FL scan --threads 2 --format json "$F"
    time_it fl_patho $FL scan --threads 1 --format json "$F.patho"
    time_it rg_patho "$RG" -c -F -f $C "$F.patho"
    time_it fl_user $FL scan --threads 1 --format json --catalog "$F.user.json" "$F.user"
    time_it rg_user "$RG" -c -F -f "$F.user.txt" "$F.user"
    time_it fl_gz $FL scan --threads 1 --format json "$F.gz"
    time_it igzip_gz to_null igzip -dc "$F.gz"
done
time_it grep_1g env LC_ALL=C grep -c -F -f $C "$F"
time_it grep_patho env LC_ALL=C grep -c -F -f $C "$F.patho"
median() { echo "${times[$1]}" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for k in $(echo "${!times[@]}" | tr ' ' '\n' | sort); do
    printf '%-16s median %.3f s  (%s)\n' "$k" "$(median "$k")" "${times[$k]}"
done
ratio() { printf '%-44s %.2f\n' "$1" "$(echo "$(median "$2") / $(median "$3")" | bc -l)"; }
echo
ratio "1 GiB: faultline / rg (target <= 1)" fl_1g rg_1g
ratio "1 GiB: faultline / grep (target <= 0.33)" fl_1g grep_1g
ratio "1 GiB: --threads 2 / --threads 1 (<= 0.6)" fl_1g_threads2 fl_1g
ratio "pathological: faultline / rg (<= 1)" fl_patho rg_patho
ratio "pathological: faultline / grep (<= 0.33)" fl_patho grep_patho
ratio "user catalog: faultline / rg (<= 1)" fl_user rg_user
ratio "gzip: faultline / igzip -dc (<= 1)" fl_gz igzip_gz
