#!/usr/bin/python3
"""Reference evaluator for data/perf/<system>.json (the contract the C++ engine implements).

Everything here uses only the fitted JSON (never the raw perfdb tables) except `main`,
which re-reads the perfdb rows to recompute the fit error.  fit_perf.py imports the
roofline / evaluation functions from this file so that the errors it prints are the
errors of the JSON as the C++ engine will evaluate it.

Usage:  /usr/bin/python3 tools/fit_perf/check_fit.py [--perfdb DIR] [--out data/perf] [system ...]
"""
import json
import math
import os
import sys

# ----------------------------------------------------------------------------------------
# Constants shared by fitter and evaluator (also written into each JSON under "constants").
# ----------------------------------------------------------------------------------------

# Bytes per weight element (GEMM / MoE weights) by dtype.
WEIGHT_BYTES = {
    "bfloat16": 2.0, "float16": 2.0, "fp8": 1.0, "fp8_block": 1.0,
    "nvfp4": 0.5625,            # 4 bit + one fp8 scale per 16 elements
    "int4_wo": 0.5, "w4a16_mxfp4": 0.53125, "w4a8_mxfp4_mxfp8": 0.53125,  # 4 bit + e8m0 scale / 32
}
# Which tensor-core peak bounds the math of an op of this dtype.
COMPUTE_PEAK = {
    "bfloat16": "bf16", "float16": "bf16", "fp8": "fp8", "fp8_block": "fp8", "nvfp4": "fp4",
    "int4_wo": "bf16", "w4a16_mxfp4": "bf16", "w4a8_mxfp4_mxfp8": "fp8",
}
KV_BYTES = {"bfloat16": 2.0, "float16": 2.0, "fp8": 1.0}

# DeepSeek-V3 MLA geometry (also Kimi-K2.x).
MLA_KV_LORA = 512
MLA_ROPE = 64
MLA_NOPE = 128
MLA_V = 128
MLA_Q_LORA = 1536
MLA_HIDDEN = 7168


def peak_flops(peaks, dtype):
    """FLOP/s for dtype; falls back to bf16 when the system has no fp8/fp4 units."""
    key = COMPUTE_PEAK.get(dtype, "bf16")
    v = peaks.get(key + "_flops")
    if not v:
        v = peaks.get("fp8_flops") if key == "fp4" else None
    return v or peaks["bf16_flops"]


def roof_ms(flops, nbytes, pf, bw):
    return max(flops / pf, nbytes / bw) * 1e3


# ----------------------------------------------------------------------------------------
# Roofline + grid features per op family.  Each returns (t_roof_ms, [axis values]).
# ----------------------------------------------------------------------------------------

def gemm_features(peaks, dtype, m, n, k):
    wb = WEIGHT_BYTES.get(dtype, 2.0)
    flops = 2.0 * m * n * k
    nbytes = 2.0 * m * k + wb * n * k + 2.0 * m * n
    return roof_ms(flops, nbytes, peak_flops(peaks, dtype), peaks["mem_bw"]), [m, n, k]


def causal_pairs(s, window):
    """Number of (query, key) pairs of causal attention over s new tokens (window 0 = full)."""
    if window <= 0 or window >= s:
        return s * (s + 1) / 2.0
    return window * (window + 1) / 2.0 + (s - window) * window


def ctx_attn_features(peaks, attn_dtype, kv_dtype, b, s, h, hkv, d, window):
    kvb = KV_BYTES.get(kv_dtype, 2.0)
    flops = 4.0 * b * h * d * causal_pairs(s, window)
    nbytes = b * s * (4.0 * h * d + 2.0 * hkv * d * kvb)
    pf = peak_flops(peaks, "fp8" if attn_dtype == "fp8" else "bfloat16")
    span = s if (window <= 0 or window >= s) else window
    return roof_ms(flops, nbytes, pf, peaks["mem_bw"]), [b * h * s, span, h / hkv]


def gen_attn_features(peaks, attn_dtype, kv_dtype, b, kv_len, h, hkv, d, window):
    kvb = KV_BYTES.get(kv_dtype, 2.0)
    L = kv_len if window <= 0 else min(kv_len, window)
    flops = 4.0 * b * h * d * L
    nbytes = b * (2.0 * hkv * L * d * kvb + 4.0 * h * d)
    pf = peak_flops(peaks, "fp8" if attn_dtype == "fp8" else "bfloat16")
    return roof_ms(flops, nbytes, pf, peaks["mem_bw"]), [b * hkv, L, h / hkv]


def ctx_mla_features(peaks, mla_dtype, kv_dtype, b, s, h):
    qk = MLA_NOPE + MLA_ROPE
    flops = 2.0 * b * h * causal_pairs(s, 0) * (qk + MLA_V)
    nbytes = 2.0 * b * s * h * (qk + qk + MLA_V + MLA_V)
    pf = peak_flops(peaks, "fp8" if mla_dtype == "fp8" else "bfloat16")
    return roof_ms(flops, nbytes, pf, peaks["mem_bw"]), [s, b * h]


def gen_mla_features(peaks, mla_dtype, kv_dtype, b, kv_len, h):
    kvb = KV_BYTES.get(kv_dtype, 2.0)
    lat = MLA_KV_LORA + MLA_ROPE
    flops = 2.0 * b * h * kv_len * (lat + MLA_KV_LORA)
    nbytes = b * kv_len * lat * kvb + 2.0 * b * h * (lat + MLA_KV_LORA)
    pf = peak_flops(peaks, "fp8" if mla_dtype == "fp8" else "bfloat16")
    return roof_ms(flops, nbytes, pf, peaks["mem_bw"]), [b, kv_len, h]


def _mla_proj_roof(peaks, gemm_type, tokens, weights):
    pf = peak_flops(peaks, gemm_type)
    wb = WEIGHT_BYTES.get(gemm_type, 2.0)
    return roof_ms(2.0 * tokens * weights, wb * weights + 4.0 * tokens * MLA_HIDDEN, pf, peaks["mem_bw"])


def mla_ctx_module_features(peaks, mla_dtype, kv_dtype, gemm_type, b, s, h):
    w = (MLA_HIDDEN * (MLA_Q_LORA + MLA_KV_LORA + MLA_ROPE) + MLA_Q_LORA * h * (MLA_NOPE + MLA_ROPE)
         + MLA_KV_LORA * h * (MLA_NOPE + MLA_V) + h * MLA_V * MLA_HIDDEN)
    t_attn, _ = ctx_mla_features(peaks, mla_dtype, kv_dtype, b, s, h)
    return t_attn + _mla_proj_roof(peaks, gemm_type, b * s, w), [s, b, h]


def mla_gen_module_features(peaks, mla_dtype, kv_dtype, gemm_type, b, kv_len, h):
    w = (MLA_HIDDEN * (MLA_Q_LORA + MLA_KV_LORA + MLA_ROPE) + MLA_Q_LORA * h * (MLA_NOPE + MLA_ROPE)
         + h * MLA_V * MLA_HIDDEN)
    w_bmm = 2 * h * MLA_NOPE * MLA_KV_LORA          # absorbed W_UK and W_UV (bf16)
    t_bmm = roof_ms(2.0 * b * w_bmm, 2.0 * w_bmm, peaks["bf16_flops"], peaks["mem_bw"])
    t_attn, _ = gen_mla_features(peaks, mla_dtype, kv_dtype, b, kv_len, h)
    return t_attn + t_bmm + _mla_proj_roof(peaks, gemm_type, b, w), [b, kv_len, h]


def moe_features(peaks, dtype, gated, tokens, hidden, inter, topk, experts, tp, ep):
    g = 3.0 if gated else 2.0
    inter_l = inter / tp
    e_local = experts / ep
    assign = tokens * topk / ep                       # (token, expert) pairs computed on this rank
    active = e_local * (1.0 - (1.0 - 1.0 / experts) ** (tokens * topk))   # expected experts hit
    flops = 2.0 * assign * hidden * inter_l * g
    nbytes = active * hidden * inter_l * g * WEIGHT_BYTES.get(dtype, 2.0) + 4.0 * tokens * hidden
    t = roof_ms(flops, nbytes, peak_flops(peaks, dtype), peaks["mem_bw"])
    return t, [tokens * topk / experts, e_local, hidden * inter_l * g]


# ----------------------------------------------------------------------------------------
# Table evaluation
# ----------------------------------------------------------------------------------------

def _bracket(nodes, x):
    """Segment index i and fraction t of x (already log2) on ascending nodes, clamped."""
    if x <= nodes[0]:
        return 0, 0.0
    if x >= nodes[-1]:
        return len(nodes) - 2, 1.0
    i = 0
    while nodes[i + 1] < x:
        i += 1
    return i, (x - nodes[i]) / (nodes[i + 1] - nodes[i])


def grid_eff(table, feats):
    """Multilinear interpolation of ln(eff) over log2(feature) axes (clamped); returns eff."""
    nodes = table["nodes"]
    eff = table["eff"]
    d = len(nodes)
    seg = [_bracket(nodes[a], math.log2(max(feats[a], 1e-30))) for a in range(d)]
    strides = [1] * d
    for a in range(d - 2, -1, -1):
        strides[a] = strides[a + 1] * len(nodes[a + 1])
    acc = 0.0
    for corner in range(1 << d):
        w = 1.0
        idx = 0
        for a in range(d):
            bit = (corner >> (d - 1 - a)) & 1
            i, t = seg[a]
            w *= t if bit else (1.0 - t)
            idx += (i + bit) * strides[a]
        if w != 0.0:
            acc += w * math.log(eff[idx])
    return math.exp(acc)


def eval_grid(table, t_roof_ms, feats):
    """Latency (ms) = max(t_roof / eff(feats), floor)."""
    return max(t_roof_ms / grid_eff(table, feats), table["floor_us"] * 1e-3)


def eval_curve(curve, nbytes):
    """Collective latency (ms) from a log-log piecewise-linear curve over message bytes.

    Below the first knot: the first knot's latency (latency floor).  Above the last knot:
    linear in bytes from the last knot (bandwidth-bound scaling)."""
    x = curve["log2_bytes"]
    y = curve["us"]
    lb = math.log2(max(nbytes, 1.0))
    if lb <= x[0]:
        return y[0] * 1e-3
    if lb >= x[-1]:
        return y[-1] * (2.0 ** (lb - x[-1])) * 1e-3
    i = 0
    while x[i + 1] < lb:
        i += 1
    t = (lb - x[i]) / (x[i + 1] - x[i])
    return math.exp((1 - t) * math.log(y[i]) + t * math.log(y[i + 1])) * 1e-3


# ----------------------------------------------------------------------------------------
# Error check against the raw rows (fit_perf.py provides the row loaders).
# ----------------------------------------------------------------------------------------

def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import fit_perf  # noqa: E402
    args = fit_perf.parse_args(argv, check_only=True)
    fit_perf.check(args)


if __name__ == "__main__":
    main(sys.argv[1:])
