#!/usr/bin/env bash
# Profiles a disaggregated planner spec, then opens its report.html in headless Chromium and checks
# the screenshot is not blank. Exit 77 (skipped) without Chromium.
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
DGDR_NAME=report "$bin" --config "$src/examples/qwen3-32b-autoscale.yaml" --output-dir "$work/out" --quiet
grep -q '<div id="pareto"><svg' "$work/out/report.html"
"$src/scripts/screenshot_report.sh" "$work/out/report.html" "$work/report.png"
