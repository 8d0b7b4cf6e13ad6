#!/bin/sh
# Runs validate-crd over every golden expected.yaml / picked.yaml. Exit 77 (CTest: skipped) when the
# validator is absent. Usage: validate_all.sh VALIDATOR GOLDEN_DIR
validator="$1"
dir="$2"
if [ ! -x "$validator" ]; then
  echo "SKIP: $validator not found; the golden CRD validation needs ../shared/tools/validate-crd (python3-yaml, python3-jsonschema)"
  exit 77
fi
status=0
count=0
for f in "$dir"/*/expected.yaml "$dir"/*/picked.yaml; do
  [ -f "$f" ] || continue
  count=$((count + 1))
  if ! out=$("$validator" "$f" 2>/dev/null); then
    echo "FAIL: $f"
    echo "$out"
    status=1
  fi
done
echo "validated $count golden files"
exit $status
