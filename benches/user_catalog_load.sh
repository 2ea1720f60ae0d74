#!/usr/bin/env bash
# Whole-process time to load a large user catalog (SPEC section 1: a user
# catalog of 1,000,000 entries in any order loads in about a second), and
# the built-in catalog alone for comparison.
#
#   benches/user_catalog_load.sh [ENTRIES] [ROUNDS]
#
# Writes ENTRIES (default 1000000) codes of mixed shapes (6- and 8-digit
# families over 2,000 stems, word codes, purely numeric codes), shuffled,
# with a message and a category each, as JSON and as CSV, then times
# `faultline explain Ecs.0013 --catalog FILE` (load, validate, merge, look
# up one code; no matcher is built) ROUNDS times (default 5) and prints
# every run and the minimum of each column: user CPU, system CPU, wall
# time, peak memory (GNU time: apt-get install -y time). On a shared,
# loaded machine the user CPU is the figure to compare; wall time waits
# for the other processes. FL=path/to/faultline times another build (no
# cargo build then), e.g. the previous commit's for a before/after.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
ROUNDS=${2:-5}
if [ -z "${FL:-}" ]; then
  FL=./target/release/faultline
  cargo build --release -q --bin faultline
fi
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
python3 - "$N" "$DIR" <<'EOF'
import json, random, sys
n, d = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
codes = set()
while len(codes) < n:
    k = rng.randrange(4)
    if k == 0:
        codes.add(f"S{rng.randrange(2000)}.{rng.randrange(10**6):06d}")
    elif k == 1:
        codes.add(f"SVC-{rng.randrange(2000)}.{rng.randrange(10**8):08d}")
    elif k == 2:
        codes.add(f"Word{rng.randrange(10**7)}.Failure")
    else:
        codes.add(str(10**9 + rng.randrange(10**9)))
codes = list(codes)
rng.shuffle(codes)
cats = ["quota", "access", "retry", "fix_request"]
with open(f"{d}/user.json", "w") as f:
    json.dump([{"code": c, "message": f"message of {c}", "category": cats[i % 4]}
               for i, c in enumerate(codes)], f)
with open(f"{d}/user.csv", "w") as f:
    f.write("code,message,category\n")
    for i, c in enumerate(codes):
        f.write(f'{c},"message of {c}, shuffled",{cats[i % 4]}\n')
EOF
ls -l "$DIR"
run() { # label, args...
  local label=$1
  shift
  for _ in $(seq "$ROUNDS"); do
    /usr/bin/time -f "%U %S %e %M" -o "$DIR/time" "$FL" "$@" > /dev/null
    read -r user sys wall rss < "$DIR/time"
    printf '%-12s user %5.2f s  sys %5.2f s  wall %6.2f s  peak %7d KiB\n' "$label" "$user" "$sys" "$wall" "$rss"
  done | tee "$DIR/runs"
  awk '{for (i = 1; i < NF; i++) if ($i == "user") print $(i + 1), $0}' "$DIR/runs" |
    sort -g | head -1 | cut -d' ' -f2- | sed 's/^/min by user CPU: /'
}
run builtin explain Ecs.0013
run "json $N" explain Ecs.0013 --catalog "$DIR/user.json"
run "csv $N" explain Ecs.0013 --catalog "$DIR/user.csv"
