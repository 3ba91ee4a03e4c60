#!/usr/bin/env bash
# Build-speed benchmark: scalebook on generated corpora of 1,000 and 10,000 pages, cold
# (no highlight cache) and warm (cache filled by a previous build), with hyperfine.
#
# Figures are reported as ratios against a baseline measured in the same run: `cat` of every
# markdown file (the cost of just reading the corpus), so numbers from different machines
# compare. Peak memory comes from /usr/bin/time -v. `scalebook check` on the same corpus is
# timed too.
#
# Usage: bench/build.sh [PAGES...]      (default: 1000 10000)
#        WORK=/dev/shm/sb bench/build.sh  keeps corpus and output in memory: on a machine whose
#        disk is shared or throttled, writeback otherwise dominates and swings the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
[ -d "$SHARED" ] || SHARED=/work/shared
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -x /usr/bin/time ] || apt-get install -y -qq time
cargo build --release -q
BIN=$PWD/target/release/scalebook
WORK=${WORK:-target/bench}
mkdir -p "$WORK"
RUNS=${RUNS:-5}
for N in "${@:-1000 10000}"; do
  for n in $N; do
    CORPUS=$WORK/corpus-$n
    [ -d "$CORPUS/playbooks" ] || python3 "$SHARED/bench/gen_corpus.py" --pages "$n" --out "$CORPUS" --layout neutral --seed 42 >/dev/null
    rm -rf "$CORPUS/.scalebook-cache"
    echo "== $n pages"
    hyperfine --runs "$RUNS" --warmup 1 --export-json "$WORK/build-$n.json" \
      -n baseline-read "find $CORPUS/playbooks -name '*.md' -exec cat {} + > /dev/null" \
      -n cold "$BIN build --quiet --no-cache --root $CORPUS --out $WORK/out-$n" \
      --prepare "$BIN build --quiet --root $CORPUS --out $WORK/out-$n" -n warm "$BIN build --quiet --root $CORPUS --out $WORK/out-$n" \
      -n check "$BIN check --root $CORPUS"
    for mode in --no-cache ""; do
      /usr/bin/time -v "$BIN" build --quiet $mode --root "$CORPUS" --out "$WORK/out-$n" 2> "$WORK/time-$n.txt" || true
      echo "peak RSS ${mode:-warm}: $(awk -F: '/Maximum resident/ {print int($2/1024) " MB"}' "$WORK/time-$n.txt")"
    done
    /usr/bin/time -v "$BIN" check --root "$CORPUS" > /dev/null 2> "$WORK/time-$n.txt" || true
    echo "peak RSS check: $(awk -F: '/Maximum resident/ {print int($2/1024) " MB"}' "$WORK/time-$n.txt")"
    echo "output: $(du -sh "$WORK/out-$n" | cut -f1) in $(find "$WORK/out-$n" -type f | wc -l) files"
    python3 - "$WORK/build-$n.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["baseline-read"]["median"]
for name in ("cold", "warm", "check"):
    m = r[name]["median"]
    print(f"{name}: median {m:.2f} s ({m / base:.0f}x the time to read the corpus)")
print(f"warm/cold: {r['warm']['median'] / r['cold']['median']:.2f}")
PY
  done
done
