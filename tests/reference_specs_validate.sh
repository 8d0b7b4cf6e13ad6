#!/bin/sh
# Profiles every reference example spec (behaviour reference §8, tests/specs/reference/) in both
# DGD API versions and validates final_config.yaml and picked_dgd_config.yaml against the real
# Dynamo CRD schemas. Exit 77 (skipped) when the validator is absent.
# Usage: reference_specs_validate.sh BINARY SOURCE_DIR VALIDATOR
bin="$1"
src="$2"
validator="$3"
if [ ! -x "$validator" ]; then
  echo "SKIP: $validator not found (needs ../shared/tools/validate-crd, python3-yaml, python3-jsonschema)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
count=0
for spec in "$src"/tests/specs/reference/*.yaml; do
  for api in v1beta1 v1alpha1; do
    out="$work/$(basename "$spec" .yaml)-$api"
    # Thorough specs deploy fast emulators on loopback.
    if ! DGDR_NAME=ref "$bin" --config "$spec" --output-dir "$out" --dgd-api-version "$api" --quiet \
        --emulator-speedup 1000 --decode-interpolation-granularity 3 --deploy-command \
        "{self} emulate --model {model} --system {system} --backend {backend} --tp {tp} --dp {dp} --moe-tp {moe_tp} --moe-ep {moe_ep} --port {port} --speedup {speedup} --http-threads 64 --kv-tokens 20000" \
        2>"$out.err"; then
      echo "FAIL: profiling $spec ($api)"; cat "$out.err"; status=1; continue
    fi
    for f in "$out/final_config.yaml" "$out/picked_dgd_config.yaml"; do
      [ -f "$f" ] || continue
      count=$((count + 1))
      if ! res=$("$validator" "$f" 2>&1); then
        echo "FAIL: $f ($spec, $api)"; echo "$res"; status=1
      fi
    done
  done
done
echo "validated $count documents from $(ls "$src"/tests/specs/reference/*.yaml | wc -l) reference specs"
exit $status
