#!/usr/bin/env bash
# Measures the benchmark client against the engine emulator on loopback: agreement of TTFT/ITL
# averages with the emulator's own timing, and N concurrent streams (default 1000) without errors.
# Usage: scripts/emulator_streams.sh [BINARY] [STREAMS]
set -euo pipefail
BIN=${1:-build/dynamo-profiler}
N=${2:-1000}
PORT=$((20000 + RANDOM % 20000))
"$BIN" emulate --model Qwen/Qwen3-32B --system h200_sxm --backend vllm --tp 4 --port "$PORT" \
  --speedup 10 --max-num-seqs 2048 --http-threads $((N + 100)) > /tmp/emulator_streams.$$.log 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1 && break; sleep 0.1; done
echo "== agreement (concurrency 8, 48 requests, speedup 10)"
"$BIN" bench --url "http://127.0.0.1:$PORT" --model Qwen/Qwen3-32B --isl 512 --osl 64 --concurrency 8 \
  --requests 48 --time-scale 10 --format json --output /tmp/emulator_streams.$$.a.json >/dev/null
python3 - "$PORT" /tmp/emulator_streams.$$.a.json <<'PY'
import json, sys, urllib.request
s = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/emulator/stats"))
b = json.load(open(sys.argv[2]))
for name, key in (("TTFT", "time_to_first_token"), ("ITL", "inter_token_latency")):
    cli, srv = b[key]["avg"], s[f"avg_{name.lower()}_ms"]
    print(f"{name}: bench {cli:.2f} ms  emulator {srv:.2f} ms  diff {100*(cli-srv)/srv:+.2f}%")
PY
echo "== $N concurrent streams"
/usr/bin/time -f "bench wall %e s, max RSS %M KiB" "$BIN" bench --url "http://127.0.0.1:$PORT" --model Qwen/Qwen3-32B \
  --isl 128 --osl 32 --concurrency "$N" --requests "$N" --time-scale 10 --timeout-s 120 | \
  grep -E "completed|errors|timeouts|time_to_first|inter_token|output_token_throughput"
