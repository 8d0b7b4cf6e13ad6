#!/usr/bin/python3
"""Fit compact achieved-efficiency models from the measured perfdb kernel tables.

Reads  <perfdb>/<system>/<backend>/*.csv.gz  (+ <systems>/<system>.yaml for peak figures)
Writes data/perf/<system>.json  and prints a fit-quality table (|pred/meas-1| in %).

    /usr/bin/python3 tools/fit_perf/fit_perf.py            # refit all systems
    /usr/bin/python3 tools/fit_perf/fit_perf.py --check    # only re-evaluate the JSON files

Dependencies: Python 3 stdlib + numpy.  See data/perf/README.md for the format and the
evaluation contract; the reference evaluator is tools/fit_perf/check_fit.py.
"""
import argparse
import csv
import gzip
import json
import math
import os
import re
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import check_fit as M  # noqa: E402  (roofline formulas + evaluator: single source of truth)

SYSTEMS = ["h100_sxm", "h200_sxm", "b200_sxm", "a100_sxm", "l40s"]
BACKENDS = ["vllm", "sglang", "trtllm"]
SCHEMA = "dynamo-profiler/perf-fit/1"


# ----------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------

def read_table(path):
    """gzip CSV -> (header list, list of row lists)."""
    with gzip.open(path, "rt", newline="") as f:
        r = csv.reader(f)
        header = next(r)
        rows = list(r)
    return header, rows


def best_rows(path, key_cols, extra=None):
    """Rows reduced to one latency per shape key.

    Repeated measurements of the same (kernel_source, key) are averaged; then, over
    kernel_source values, the fastest is kept (the engine picks the best kernel).
    Returns list of (key tuple, latency_ms).  `extra(rowdict)` may return a string that is
    appended to the key (e.g. gated / non-gated MoE) or None to drop the row."""
    header, rows = read_table(path)
    col = {c: i for i, c in enumerate(header)}
    ks = col.get("kernel_source")
    defaults = {"window_size": "0", "attn_dtype": "bfloat16"}
    for c in key_cols:          # columns absent from older files take their implied value
        if c not in col:
            col[c] = len(header)
            header.append(c)
            for r in rows:
                r.append(defaults.get(c, "0"))
    idx = [col[c] for c in key_cols]
    li = col["latency"]
    acc = {}
    for r in rows:
        key = tuple(r[i] for i in idx)
        if extra is not None:
            e = extra(r, col)
            if e is None:
                continue
            key = key + (e,)
        src = r[ks] if ks is not None else ""
        lat = float(r[li])
        if not (lat > 0):
            continue
        a = acc.setdefault((src, key), [0.0, 0])
        a[0] += lat
        a[1] += 1
    best = {}
    for (src, key), (s, n) in acc.items():
        v = s / n
        if key not in best or v < best[key]:
            best[key] = v
    return list(best.items())


def read_peaks(systems_dir, system):
    """Peak figures from the system YAML (flat regex parse; the files are simple)."""
    txt = open(os.path.join(systems_dir, system + ".yaml")).read()

    def get(name):
        m = re.search(r"^\s*" + name + r":\s*([0-9.eE+]+)", txt, re.M)
        return float(m.group(1)) if m else None
    p = {"mem_bw": get("mem_bw"), "bf16_flops": get("bfloat16_tc_flops"),
         "fp8_flops": get("fp8_tc_flops"), "fp4_flops": get("fp4_tc_flops"),
         "int8_flops": get("int8_tc_flops")}
    return {k: v for k, v in p.items() if v}


# ----------------------------------------------------------------------------------------
# Grid regression: ln(eff) multilinear on log2 axes, least squares + smoothness penalty
# ----------------------------------------------------------------------------------------

def hat(X, nodes):
    """Corner indices / weights of multilinear interpolation (same clamping as check_fit)."""
    n, d = X.shape
    segs = []
    for a in range(d):
        nd = np.asarray(nodes[a], float)
        x = np.clip(np.log2(np.maximum(X[:, a], 1e-30)), nd[0], nd[-1])
        i = np.clip(np.searchsorted(nd, x, side="right") - 1, 0, len(nd) - 2)
        t = np.clip((x - nd[i]) / (nd[i + 1] - nd[i]), 0.0, 1.0)
        segs.append((i, t))
    sizes = [len(v) for v in nodes]
    strides = [int(np.prod(sizes[a + 1:])) for a in range(d)]
    C = 1 << d
    idx = np.zeros((n, C), np.int64)
    w = np.ones((n, C))
    for c in range(C):
        for a in range(d):
            bit = (c >> (d - 1 - a)) & 1
            i, t = segs[a]
            idx[:, c] += (i + bit) * strides[a]
            w[:, c] *= t if bit else (1.0 - t)
    return idx, w, sizes


def fit_grid(X, y, nodes, lam=0.05):
    """Least squares for node values v (ln eff) with second-difference smoothing."""
    idx, w, sizes = hat(X, nodes)
    P = int(np.prod(sizes))
    n, C = idx.shape
    ii = (idx[:, :, None] * P + idx[:, None, :]).ravel()
    ww = (w[:, :, None] * w[:, None, :]).ravel()
    ata = np.bincount(ii, weights=ww, minlength=P * P).reshape(P, P)
    aty = np.bincount(idx.ravel(), weights=(w * y[:, None]).ravel(), minlength=P)
    # smoothness: second differences along every axis (stencil rows of D, R = D^T D)
    grid = np.arange(P).reshape(sizes)
    drows = []
    for ax in range(len(sizes)):
        if sizes[ax] < 3:
            continue
        g = np.moveaxis(grid, ax, -1).reshape(-1, sizes[ax])
        drows.append(np.stack([g[:, :-2].ravel(), g[:, 1:-1].ravel(), g[:, 2:].ravel()], 1))
    R = np.zeros((P, P))
    if drows:
        st = np.concatenate(drows)
        D = np.zeros((len(st), P))
        r = np.arange(len(st))
        D[r, st[:, 0]] += 1.0
        D[r, st[:, 1]] -= 2.0
        D[r, st[:, 2]] += 1.0
        R = D.T @ D
    scale = max(n / P, 1.0)
    A = ata + lam * scale * R + 1e-6 * scale * np.eye(P)
    aty = aty + 1e-6 * scale * np.full(P, np.median(y))
    v = np.linalg.solve(A, aty)
    return v


def axis_nodes(vals, step, lo=None, hi=None):
    lv = np.log2(np.asarray(vals, float))
    a = math.floor(lv.min() / step) * step if lo is None else lo
    b = math.ceil(lv.max() / step) * step if hi is None else hi
    nd = list(np.arange(a, b + step * 0.5, step))
    if len(nd) < 2:
        nd = [a, a + step]
    return [float(round(x, 4)) for x in nd]


def sig(x, n=4):
    if x == 0 or not math.isfinite(x):
        return 0.0
    return float(f"{x:.{n}g}")


def make_table(name_axes, X, t_roof, meas, steps, lam=0.05, fixed_nodes=None):
    """Fit one grid table.  Returns (json dict, predictions ms)."""
    X = np.asarray(X, float)
    t_roof = np.asarray(t_roof, float)
    meas = np.asarray(meas, float)
    nodes = []
    for a in range(X.shape[1]):
        if fixed_nodes and fixed_nodes[a] is not None:
            nodes.append(fixed_nodes[a])
        else:
            nodes.append(axis_nodes(X[:, a], steps[a]))
    y = np.log(t_roof) - np.log(meas)
    v = fit_grid(X, y, nodes, lam)
    eff = [sig(math.exp(min(val, 5.0)), 3) for val in v]
    floor_us = math.floor(float(meas.min()) * 1e3 * 100) / 100.0
    tab = {"axes": name_axes, "nodes": nodes, "eff": eff, "floor_us": floor_us,
           "rows": int(len(meas))}
    return tab


def grid_predict(tab, X, t_roof):
    """Vectorised version of check_fit.eval_grid (same formula)."""
    idx, w, _ = hat(np.asarray(X, float), tab["nodes"])
    le = np.log(np.asarray(tab["eff"], float))
    eff = np.exp((le[idx] * w).sum(axis=1))
    return np.maximum(np.asarray(t_roof) / eff, tab["floor_us"] * 1e-3)


# ----------------------------------------------------------------------------------------
# Per-family row builders: -> dict table_key -> (X, t_roof, meas, shape descriptors)
# ----------------------------------------------------------------------------------------

def _collect(groups, key, feats, t, lat):
    g = groups.setdefault(key, ([], [], []))
    g[0].append(feats)
    g[1].append(t)
    g[2].append(lat)


def rows_gemm(path, peaks):
    groups = {}
    for (dt, m, n, k), lat in best_rows(path, ["gemm_dtype", "m", "n", "k"]):
        t, f = M.gemm_features(peaks, dt, int(m), int(n), int(k))
        _collect(groups, dt, f, t, lat)
    return groups


def rows_ctx_attn(path, peaks):
    groups = {}
    keys = ["attn_dtype", "kv_cache_dtype", "head_dim", "batch_size", "isl", "num_heads",
            "num_key_value_heads", "window_size"]
    for (ad, kd, d, b, s, h, hkv, w), lat in best_rows(path, keys):
        t, f = M.ctx_attn_features(peaks, ad, kd, int(b), int(s), int(h), int(hkv), int(d), int(w))
        _collect(groups, f"{ad}|{kd}|{d}", f, t, lat)
    return groups


def rows_gen_attn(path, peaks):
    groups = {}
    keys = ["attn_dtype", "kv_cache_dtype", "head_dim", "batch_size", "isl", "step", "num_heads",
            "num_key_value_heads", "window_size"]
    for (ad, kd, d, b, isl, step, h, hkv, w), lat in best_rows(path, keys):
        L = int(isl) + int(step)
        t, f = M.gen_attn_features(peaks, ad, kd, int(b), L, int(h), int(hkv), int(d), int(w))
        _collect(groups, f"{ad}|{kd}|{d}", f, t, lat)
    return groups


def rows_ctx_mla(path, peaks):
    groups = {}
    for (md, kd, h, b, s), lat in best_rows(path, ["mla_dtype", "kv_cache_dtype", "num_heads",
                                                   "batch_size", "isl"]):
        t, f = M.ctx_mla_features(peaks, md, kd, int(b), int(s), int(h))
        _collect(groups, f"{md}|{kd}", f, t, lat)
    return groups


def rows_gen_mla(path, peaks):
    groups = {}
    for (md, kd, h, b, isl, step), lat in best_rows(path, ["mla_dtype", "kv_cache_dtype", "num_heads",
                                                           "batch_size", "isl", "step"]):
        t, f = M.gen_mla_features(peaks, md, kd, int(b), int(isl) + int(step), int(h))
        _collect(groups, f"{md}|{kd}", f, t, lat)
    return groups


def rows_mla_ctx_module(path, peaks):
    groups = {}
    keys = ["mla_dtype", "kv_cache_dtype", "gemm_type", "num_heads", "batch_size", "isl"]
    for (md, kd, gt, h, b, s), lat in best_rows(path, keys):
        t, f = M.mla_ctx_module_features(peaks, md, kd, gt, int(b), int(s), int(h))
        _collect(groups, f"{md}|{kd}|{gt}", f, t, lat)
    return groups


def rows_mla_gen_module(path, peaks):
    groups = {}
    keys = ["mla_dtype", "kv_cache_dtype", "gemm_type", "num_heads", "batch_size", "isl", "step"]
    for (md, kd, gt, h, b, isl, step), lat in best_rows(path, keys):
        t, f = M.mla_gen_module_features(peaks, md, kd, gt, int(b), int(isl) + int(step), int(h))
        _collect(groups, f"{md}|{kd}|{gt}", f, t, lat)
    return groups


def _moe_gated(r, col):
    ks = col.get("kernel_source")
    return "nongated" if ks is not None and "nongated" in r[ks] else "gated"


def moe_kernel_sources(path):
    """{"<moe_dtype>|<gated|nongated>": sorted kernel_source values} of a moe_perf table: which
    kernels a fitted MoE grid describes (the engine prices SGLang's DeepEP experts by the grid
    measured on DeepGEMM)."""
    header, rows = read_table(path)
    col = {c: i for i, c in enumerate(header)}
    ks = col.get("kernel_source")
    if ks is None:
        return {}
    out = {}
    for r in rows:
        out.setdefault(f"{r[col['moe_dtype']]}|{_moe_gated(r, col)}", set()).add(r[ks])
    return {k: sorted(v) for k, v in out.items()}


def rows_moe(path, peaks):
    groups = {}
    keys = ["moe_dtype", "distribution", "num_tokens", "hidden_size", "inter_size", "topk",
            "num_experts", "moe_tp_size", "moe_ep_size"]
    for (dt, dist, T, hd, it, topk, E, tp, ep, gated), lat in best_rows(path, keys, extra=_moe_gated):
        t, f = M.moe_features(peaks, dt, gated == "gated", int(T), int(hd), int(it), int(topk),
                              int(E), int(tp), int(ep))
        _collect(groups, f"{dt}|{gated}|{dist}", f, t, lat)
    return groups


GEMM_NK_NODES = [5.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 16.0]

# Grid resolution per family: log2 step per axis, and smoothing weight.
FAMILIES = {
    # name: (file, row builder, axis names, log2 node step per axis, smoothing weight)
    "gemm": ("gemm_perf", rows_gemm, ["m", "n", "k"], [1.0, 1.0, 1.0], 0.02),  # n,k nodes: GEMM_NK_NODES
    "context_attention": ("context_attention_perf", rows_ctx_attn,
                          ["b_x_h_x_s", "kv_span", "h_over_hkv"], [2.0, 2.0, 2.0], 0.05),
    "generation_attention": ("generation_attention_perf", rows_gen_attn,
                             ["b_x_hkv", "kv_len", "h_over_hkv"], [2.0, 2.0, 2.0], 0.05),
    "context_mla": ("context_mla_perf", rows_ctx_mla, ["s", "b_x_h"], [1.0, 1.0], 0.05),
    "generation_mla": ("generation_mla_perf", rows_gen_mla, ["b", "kv_len", "h"], [1.0, 2.0, 1.0], 0.05),
    "mla_context_module": ("mla_context_module_perf", rows_mla_ctx_module, ["s", "b", "h"],
                           [1.0, 1.0, 2.0], 0.05),
    "mla_generation_module": ("mla_generation_module_perf", rows_mla_gen_module, ["b", "kv_len", "h"],
                              [1.0, 2.0, 2.0], 0.05),
    "moe": ("moe_perf", rows_moe, ["tokens_per_expert", "local_experts", "expert_weight_elems"],
            [2.0, 2.0, 2.0], 0.05),
}


# Tables measured in a way that does not describe served decode. They are not fitted, so the engine
# takes the op from another backend's table of the same GPU (FitTables::Family: TRT-LLM's, then
# SGLang's; the same class of FlashMLA-style decode kernels).
# (backend, family) -> reason.
EXCLUDED_TABLES = {
    ("vllm", "generation_mla"):
        "timed outside CUDA graphs: on h100/h200 every shape, down to 1 request x 1 head x 1 key, "
        "takes >= 0.10 ms (median 0.21 ms), 8-12x the TRT-LLM and SGLang MLA decode tables of the same "
        "GPU (floors 0.011-0.013 ms); vLLM replays decode steps as CUDA graphs, where that host time "
        "is not paid",
}

# One dtype key of a table that is host-bound in the same way. The key is not fitted from this
# backend's rows; the fitted grid of the named backend (same GPU, same dtype key) is written in its
# place with "borrowed_from", so the engine needs no special case.
# (backend, family, key) -> (backend to borrow from, reason).
BORROWED_KEYS = {
    ("vllm", "gemm", "fp8_block"): (
        "sglang",
        "host-bound: on h100/h200/b200 every shape down to m=1 x 4096 x 4096 takes 0.06-0.19 ms "
        "(Cutlass/FlashInfer/DeepGemm block-scaled kernels alike), 4-16x vLLM's own per-tensor fp8 "
        "table and SGLang's DeepGEMM block-fp8 table of the same GPU (0.010-0.019 ms); served vLLM "
        "replays decode as CUDA graphs"),
}


# ----------------------------------------------------------------------------------------
# Collectives: log-log piecewise-linear latency curves over message bytes
# ----------------------------------------------------------------------------------------

def fit_curve(nbytes, lat_ms, step=2.0):
    x = np.log2(np.asarray(nbytes, float))
    y = np.log(np.asarray(lat_ms, float) * 1e3)
    knots = axis_nodes(np.asarray(nbytes, float), step)
    knots[0] = float(x.min())
    knots[-1] = float(x.max())
    v = fit_grid(np.asarray(nbytes, float)[:, None], y, [knots], lam=0.002)
    return {"log2_bytes": [round(k, 3) for k in knots], "us": [sig(math.exp(a), 4) for a in v]}


def fit_custom_ar(path):
    header, rows = read_table(path)
    col = {c: i for i, c in enumerate(header)}
    out = {}
    recs = []
    for r in rows:
        mode = "graph"
        if "backend" in col:
            mode = "eager" if r[col["backend"]].endswith("_eager") else "graph"
        recs.append((mode, int(r[col["num_gpus"]]), int(r[col["message_size"]]) * 2, float(r[col["latency"]])))
    for mode in sorted({r[0] for r in recs}):
        out[mode] = {}
        for g in sorted({r[1] for r in recs if r[0] == mode}):
            sel = sorted((r[2], r[3]) for r in recs if r[0] == mode and r[1] == g)
            nb = np.array([s[0] for s in sel], float)
            lat = np.array([s[1] for s in sel], float)
            nb, inv = np.unique(nb, return_inverse=True)
            lat = np.bincount(inv, weights=lat) / np.bincount(inv)
            out[mode][str(g)] = fit_curve(nb, lat)
    return out, recs


def fit_nccl(path):
    header, rows = read_table(path)
    col = {c: i for i, c in enumerate(header)}
    recs = []
    for r in rows:
        eb = 2 if r[col["nccl_dtype"]] in ("half", "bfloat16", "float16") else 1
        recs.append((f'{r[col["op_name"]]}|{r[col["nccl_dtype"]]}', int(r[col["num_gpus"]]),
                     int(r[col["message_size"]]) * eb, float(r[col["latency"]])))
    out = {}
    for key in sorted({r[0] for r in recs}):
        out[key] = {}
        for g in sorted({r[1] for r in recs if r[0] == key}):
            sel = sorted((r[2], r[3]) for r in recs if r[0] == key and r[1] == g)
            nb = np.array([s[0] for s in sel], float)
            lat = np.array([s[1] for s in sel], float)
            nb, inv = np.unique(nb, return_inverse=True)
            lat = np.bincount(inv, weights=lat) / np.bincount(inv)
            out[key][str(g)] = fit_curve(nb, lat)
    return out, recs


# ----------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------

def errs_pct(pred, meas):
    return np.abs(np.asarray(pred) / np.asarray(meas) - 1.0) * 100.0


def fit_system(args, system):
    peaks = read_peaks(args.systems, system)
    sysdir = os.path.join(args.perfdb, system)
    out = {"schema": SCHEMA, "system": system,
           "source": "perfdb (NVIDIA aiconfigurator 095f58a51 measurements), fitted by tools/fit_perf/fit_perf.py",
           "peaks": peaks, "backends": {}, "nccl": {}}
    report = {}   # (family) -> list of error arrays
    for be in BACKENDS:
        bdir = os.path.join(sysdir, be)
        if not os.path.isdir(bdir):
            continue
        bout = {}
        for fam, (fname, builder, axes, steps, lam) in FAMILIES.items():
            path = os.path.join(bdir, fname + ".csv.gz")
            if not os.path.exists(path) or (be, fam) in EXCLUDED_TABLES:
                continue
            groups = builder(path, peaks)
            sources = moe_kernel_sources(path) if fam == "moe" else {}
            ftabs = {}
            for key in sorted(groups):
                if (be, fam, key) in BORROWED_KEYS:
                    continue
                X, t, lat = (np.asarray(a, float) for a in groups[key])
                if len(lat) < 8:
                    continue
                fixed = [None, GEMM_NK_NODES, GEMM_NK_NODES] if fam == "gemm" else None
                tab = make_table(axes, X, t, lat, steps, lam, fixed_nodes=fixed)
                pred = grid_predict(tab, X, t)
                e = errs_pct(pred, lat)
                tab["err_pct_p50"] = sig(float(np.median(e)), 3)
                tab["err_pct_p90"] = sig(float(np.percentile(e, 90)), 3)
                if key.rsplit("|", 1)[0] in sources:
                    tab["kernel_sources"] = sources[key.rsplit("|", 1)[0]]
                ftabs[key] = tab
                report.setdefault(fam, []).append(e)
            if ftabs:
                bout[fam] = ftabs
        path = os.path.join(bdir, "custom_allreduce_perf.csv.gz")
        if os.path.exists(path):
            curves, recs = fit_custom_ar(path)
            bout["custom_allreduce"] = curves
            e = errs_pct([M.eval_curve(curves[r[0]][str(r[1])], r[2]) for r in recs], [r[3] for r in recs])
            report.setdefault("custom_allreduce", []).append(e)
        out["backends"][be] = bout
    for (be, fam, key), (src, _reason) in BORROWED_KEYS.items():
        table = out["backends"].get(src, {}).get(fam, {}).get(key)
        if be in out["backends"] and table is not None:
            out["backends"][be].setdefault(fam, {})[key] = dict(table, borrowed_from=src)
    path = os.path.join(sysdir, "nccl", "nccl_perf.csv.gz")
    if os.path.exists(path):
        curves, recs = fit_nccl(path)
        out["nccl"] = curves
        e = errs_pct([M.eval_curve(curves[r[0]][str(r[1])], r[2]) for r in recs], [r[3] for r in recs])
        report.setdefault("nccl", []).append(e)
    return out, {k: np.concatenate(v) for k, v in report.items()}


def parse_args(argv, check_only=False):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--perfdb", default=os.path.join(REPO, "..", "shared", "data", "perfdb"))
    ap.add_argument("--systems", default=None, help="system YAML dir (default: <perfdb>/../systems)")
    ap.add_argument("--out", default=os.path.join(REPO, "data", "perf"))
    ap.add_argument("--check", action="store_true", help="only evaluate existing JSON against the rows")
    ap.add_argument("system", nargs="*", default=SYSTEMS)
    a = ap.parse_args(argv)
    if a.systems is None:
        a.systems = os.path.join(a.perfdb, "..", "systems")
    if check_only:
        a.check = True
    return a


def print_report(reports):
    fams = ["gemm", "context_attention", "generation_attention", "context_mla", "generation_mla",
            "mla_context_module", "mla_generation_module", "moe", "custom_allreduce", "nccl"]
    print("\n| family | system | rows | median abs err % | p90 abs err % |")
    print("|---|---|---:|---:|---:|")
    for fam in fams:
        for system, rep in reports.items():
            if fam in rep:
                e = rep[fam]
                print(f"| {fam} | {system} | {len(e)} | {np.median(e):.1f} | {np.percentile(e, 90):.1f} |")


def main(argv):
    args = parse_args(argv)
    if args.check:
        return check(args)
    os.makedirs(args.out, exist_ok=True)
    reports = {}
    t0 = time.time()
    for system in args.system:
        ts = time.time()
        data, rep = fit_system(args, system)
        path = os.path.join(args.out, system + ".json")
        with open(path, "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
        reports[system] = rep
        print(f"{system}: wrote {path} ({os.path.getsize(path) / 1024:.1f} KiB) in {time.time() - ts:.1f}s",
              flush=True)
    print_report(reports)
    print(f"\ntotal {time.time() - t0:.1f}s")


def check(args):
    """Recompute errors from the JSON alone, row by row, with the scalar reference evaluator
    (check_fit.eval_grid / eval_curve: the same arithmetic the C++ engine implements)."""
    reports = {}
    for system in args.system:
        path = os.path.join(args.out, system + ".json")
        if not os.path.exists(path):
            continue
        data = json.load(open(path))
        peaks = data["peaks"]
        rep = {}
        sysdir = os.path.join(args.perfdb, system)
        for be, bdata in data["backends"].items():
            for fam, (fname, builder, _axes, _steps, _lam) in FAMILIES.items():
                if fam not in bdata:
                    continue
                groups = builder(os.path.join(sysdir, be, fname + ".csv.gz"), peaks)
                for key, tab in bdata[fam].items():
                    if "borrowed_from" in tab:  # fitted on another backend's rows (BORROWED_KEYS)
                        continue
                    feats, troof, lat = groups[key]
                    pred = [M.eval_grid(tab, t, fv) for t, fv in zip(troof, feats)]
                    rep.setdefault(fam, []).append(errs_pct(pred, lat))
            if "custom_allreduce" in bdata:
                curves = bdata["custom_allreduce"]
                _, recs = fit_custom_ar(os.path.join(sysdir, be, "custom_allreduce_perf.csv.gz"))
                rep.setdefault("custom_allreduce", []).append(errs_pct(
                    [M.eval_curve(curves[r[0]][str(r[1])], r[2]) for r in recs], [r[3] for r in recs]))
        if data.get("nccl"):
            _, recs = fit_nccl(os.path.join(sysdir, "nccl", "nccl_perf.csv.gz"))
            rep.setdefault("nccl", []).append(errs_pct(
                [M.eval_curve(data["nccl"][r[0]][str(r[1])], r[2]) for r in recs], [r[3] for r in recs]))
        reports[system] = {k: np.concatenate(v) for k, v in rep.items()}
        print(f"{system}: checked {path}", flush=True)
    print_report(reports)


if __name__ == "__main__":
    main(sys.argv[1:])
