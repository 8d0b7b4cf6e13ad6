#!/usr/bin/env bash
# Opens a report.html in headless Chromium, saves a PNG screenshot and checks it is not blank
# (more than a handful of distinct sampled pixel values). Exit 77 (skip) when Chromium is not installed.
# Usage: scripts/screenshot_report.sh REPORT.html OUT.png
set -euo pipefail
report=$(realpath "$1")
out=$2
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium)"
  exit 77
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
  --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$profile" --window-size=1280,2400 \
  --screenshot="$out" "file://$report" >/dev/null 2>&1
[ -s "$out" ] || { echo "FAIL: no screenshot written"; exit 1; }
/usr/bin/python3 - "$out" <<'PY'
import sys, zlib, struct
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat, w, h, ctype = 8, b'', 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
bpp = {2: 3, 6: 4}.get(ctype, 3)
stride = w * bpp + 1
colours = set()
for y in range(0, h, 7):
    row = raw[y * stride + 1:(y + 1) * stride]
    for x in range(0, w * bpp, bpp * 5):
        colours.add(row[x:x + 3])
print(f'{w}x{h}, {len(colours)} distinct sampled (filtered) pixel values')
if len(colours) < 8:
    print('FAIL: the screenshot is blank'); sys.exit(1)
PY
echo "PASS: $out"
