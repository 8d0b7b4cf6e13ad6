#!/usr/bin/env bash
# Times a rapid profile, process start to exit, for five example specs (dense, MoE, MLA,
# load-match, autoscale) and prints wall time and peak memory of each (best of N runs), once as is
# and once with the top 5 candidates of each mode re-ranked by scheduler simulation (--rerank-top 5).
# Usage: scripts/bench_rapid.sh [BINARY] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/dynamo-profiler}
RUNS=${2:-5}
SPECS=(examples/qwen3-32b-h200.yaml examples/qwen3-30b-a3b-moe.yaml examples/deepseek-r1-mla.yaml
       examples/llama-70b-load-match.yaml examples/qwen3-32b-autoscale.yaml)
VARIANTS=("" "--rerank-top 5")  # extra flags of each timed run (word-split)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf "%-40s %10s %10s %12s  %s\n" spec best_s median_s peak_rss_MB pick
for spec in "${SPECS[@]}"; do
  for extra in "${VARIANTS[@]}"; do
    times=()
    rss=0
    for _ in $(seq "$RUNS"); do
      /usr/bin/time -f "%e %M" -o "$out/time" "$BIN" --config "$spec" --output-dir "$out/o" --quiet $extra >/dev/null 2>&1
      read -r t m < "$out/time"
      times+=("$t")
      [ "$m" -gt "$rss" ] && rss=$m
    done
    sorted=$(printf "%s\n" "${times[@]}" | sort -g)
    best=$(echo "$sorted" | head -1)
    median=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")
    pick=$(python3 -c "import json;d=json.load(open('$out/o/pick.json'));print(d.get('chosen',{}).get('description','-'))" 2>/dev/null || echo -)
    printf "%-40s %10s %10s %12.1f  %s\n" "$(basename "$spec")${extra:+ $extra}" "$best" "$median" \
      "$(awk "BEGIN{print $rss/1024}")" "$pick"
  done
done
