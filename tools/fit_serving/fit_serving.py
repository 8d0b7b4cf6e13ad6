#!/usr/bin/python3
"""Refit the serving-composition constants of src/perf/engine.cc (BackendTuning::For) on silicon rows.

The engine's aggregated (in-flight batching) composition is
    TPOT = tpot_scale[be] * (decode_step(b) + prefill_interference * b * prefill(1) / OSL)
    TTFT = ttft_overhead[be] + ttft_scale[be] * (prefill(1) + wave_fraction * (prefill(b) - prefill(1)))
           + admission hold (rows whose recipe records scheduler settings; not fitted)
The op-level parts (decode_step, prefill(1), prefill(b)) come from the binary itself: every agg row is
re-run as `static` at its batch (decode step, prefill(b)) and at batch 1 (prefill(1)).  The constants
are then chosen by grid search minimising the median absolute % error over ALL agg rows of a backend
(hundreds of rows per backend; never a single row).  prefill_interference is chosen per backend
(with tpot_scale; a 2-fold check on even/odd rows is printed), wave_fraction is shared by all
backends (a per-backend wave fraction scored worse in the 2-fold check).

    /usr/bin/python3 tools/fit_serving/fit_serving.py [--binary build-perf/dynamo-profiler]
                     [--silicon ../shared/data/silicon/train.csv]
                     [--recipes tools/silicon_recipes/inferencex_recipes.csv]

--recipes lays the keyed recipe fields over the rows first (as `accuracy --recipes` does); the
admission hold of each row is the binary's own: its agg TTFT with the scheduler-setting columns
minus its agg TTFT without them.

Prints the best constants; copy them into BackendTuning::For.  The static runs include the current
ttft_overhead, which is subtracted here (OV below must match the values in the binary).
"""
import argparse
import csv
import math
import os
import statistics as st
import subprocess
import tempfile

import numpy as np

OV = {"vllm": 80.0, "sglang": 160.0, "trtllm": 160.0}  # ttft_overhead_ms in the binary


ADMISSION_COLUMNS = ("sched_recv_interval", "adp_balance_timeout_iters")


def benchmark_length(row, col):
    """The row's ISL or OSL as the binary predicts it: the mean request, (1 + r) / 2 of the recorded
    length, when the row's benchmark drew lengths from [r x L, L] (column random_range_ratio;
    BenchmarkMeanLength in src/perf/batch.cc)."""
    length = int(row[col])
    ratio = row.get("random_range_ratio", "")
    if ratio == "":
        return length
    return max(1, math.floor(length * (1.0 + float(ratio)) / 2.0 + 0.5))


def load_rows(silicon, recipes):
    """The silicon rows, with the non-empty fields of the recipes CSV (keyed by id) laid over them."""
    rows = list(csv.DictReader(open(silicon)))
    cols = list(rows[0].keys())
    if recipes:
        over = {r["id"]: r for r in csv.DictReader(open(recipes))}
        for r in rows:
            for k, v in over.get(r["id"], {}).items():
                if v != "" and k != "id":
                    r[k] = v
                    if k not in cols:
                        cols.append(k)
    return rows, cols


def run_agg_rows(binary, rows, cols, tmp, mode, batch1=False, admission=True):
    """Predictions for the agg rows re-run in `mode` (static: at their batch, or at batch 1)."""
    path = os.path.join(tmp, "in.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, restval="")
        w.writeheader()
        for r in rows:
            if r["mode"] == "agg":
                r = dict(r, mode=mode)
                if batch1:
                    r["batch_size"] = "1"
                if not admission:
                    r.update({c: "" for c in ADMISSION_COLUMNS if c in r})
                w.writerow(r)
    out = os.path.join(tmp, "out.csv")
    subprocess.run([binary, "accuracy", "--silicon", path, "--rows-out", out], check=True, stdout=subprocess.DEVNULL)
    return {r["id"]: r for r in csv.DictReader(open(out)) if r["status"] == "ok"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", ".."))
    ap.add_argument("--binary", default=os.path.join(repo, "build-perf", "dynamo-profiler"))
    ap.add_argument("--silicon", default=os.path.join(repo, "..", "shared", "data", "silicon", "train.csv"))
    ap.add_argument("--recipes", default="", help="keyed CSV laid over the rows (accuracy --recipes)")
    a = ap.parse_args()
    rows, cols = load_rows(a.silicon, a.recipes)
    src = {r["id"]: r for r in rows}
    with tempfile.TemporaryDirectory() as tmp:
        sb = run_agg_rows(a.binary, rows, cols, tmp, "static")
        s1 = run_agg_rows(a.binary, rows, cols, tmp, "static", batch1=True)
        held = run_agg_rows(a.binary, rows, cols, tmp, "agg")
        free = run_agg_rows(a.binary, rows, cols, tmp, "agg", admission=False)
    data = []
    for i, r in sb.items():
        if i not in s1 or i not in held or i not in free:
            continue
        s = src[i]
        be = s["backend"]
        data.append((be, int(s["batch_size"] or 1), benchmark_length(s, "isl"), benchmark_length(s, "osl"),
                     float(r["meas_ttft_ms"]),
                     float(s1[i]["pred_ttft_ms"]) - OV[be], float(r["pred_ttft_ms"]) - OV[be],
                     float(r["pred_tpot_ms"]), float(r["meas_tpot_ms"]),
                     float(held[i]["pred_ttft_ms"]) - float(free[i]["pred_ttft_ms"])))
    print(f"{len(data)} agg rows")
    bes = ["vllm", "sglang", "trtllm"]
    alphas = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2]

    def held_out(sub, fit, errs):  # fit on even rows, score odd ones, and vice versa
        out = []
        for fit_on, score in [(sub[0::2], sub[1::2]), (sub[1::2], sub[0::2])]:
            out += errs(score, *fit(fit_on)[1:])
        return out

    def tpot_errs(sub, k, alpha):
        return [abs(k * (d[7] + alpha * d[1] * d[5] / d[3]) / d[8] - 1) for d in sub]

    def fit_tpot(sub, alpha_grid):  # -> (mdape, tpot_scale, prefill_interference)
        return min((st.median(tpot_errs(sub, k, a)), k, a) for a in alpha_grid for k in np.arange(0.5, 1.6, 0.02))

    for alpha in alphas:
        tot, ks = [], {}
        for be in bes:
            sub = [d for d in data if d[0] == be]
            best = fit_tpot(sub, [alpha])
            ks[be] = round(best[1], 2)
            tot += tpot_errs(sub, best[1], alpha)
        print(f"prefill_interference {alpha} (shared): tpot_scale {ks}  TPOT mdape {100 * st.median(tot):.1f}%")
    tot, cv, prm = [], [], {}
    for be in bes:
        sub = [d for d in data if d[0] == be]
        best = fit_tpot(sub, alphas)
        prm[be] = (round(best[1], 2), best[2])
        tot += tpot_errs(sub, best[1], best[2])
        cv += held_out(sub, lambda s: fit_tpot(s, alphas), tpot_errs)
    print(f"per backend (tpot_scale, prefill_interference) {prm}  TPOT mdape {100 * st.median(tot):.1f}% "
          f"(2-fold {100 * st.median(cv):.1f}%)")

    print(f"{sum(d[9] > 0 for d in data)} rows with an admission hold (median "
          f"{st.median([d[9] for d in data if d[9] > 0] or [0]):.0f} ms)")

    def ttft_errs(sub, o, k, g):
        return [abs((o + k * (d[5] + g * (d[6] - d[5])) + d[9]) / d[4] - 1) for d in sub]

    def fit_ttft(sub, g):  # -> (mdape, ttft_overhead, ttft_scale)
        return min((st.median(ttft_errs(sub, o, k, g)), o, k)
                   for o in [0, 20, 40, 60, 80, 100, 130, 160, 200, 250, 300, 350, 400] for k in np.arange(0.1, 2.0, 0.05))

    for g in [0.05, 0.1, 0.15, 0.2, 0.25]:
        tot, cv, prm = [], [], {}
        for be in bes:
            sub = [d for d in data if d[0] == be]
            best = fit_ttft(sub, g)
            prm[be] = (best[1], round(best[2], 2))
            tot += ttft_errs(sub, best[1], best[2], g)
            cv += held_out(sub, lambda s: fit_ttft(s, g), lambda s, o, k: ttft_errs(s, o, k, g))
        print(f"wave_fraction {g}: (ttft_overhead, ttft_scale) {prm}  TTFT mdape {100 * st.median(tot):.1f}% "
              f"(2-fold {100 * st.median(cv):.1f}%)")


if __name__ == "__main__":
    main()
