#!/usr/bin/python3
"""Fit how the benchmarked disaggregated deployments were sized, for rows that do not record it.

Of the disagg rows of ../shared/data/silicon/train.csv only ~200 record decode worker counts and
batch sizes; the rest (~900) record the parallel layout and the benchmark concurrency only.  The
simulation needs a decode worker count for those.  On the rows that do record it, this fits

    total decode DP ranks (decode_num_workers x decode_attention_dp_size)
        = A * concurrency^B * dp^C          (dp = one decode worker's attention-DP size)

by least squares in log space and prints A, B, C and the residual (in sample and leaving out one
model x system group at a time); copy them into kCorpusDecodeRanks{Coef,ConcExp,DpExp} in
src/sim/sim.h.  The dp term matters: wide-EP (attention-DP) workers were deployed one or two at a
time whatever the load, tensor-parallel ones several at a time.  The rows without counts are
never used here, so the accuracy on them (dynamo-profiler accuracy) is a held-out check.

    /usr/bin/python3 tools/fit_serving/fit_workers.py [--silicon ../shared/data/silicon/train.csv]
"""
import argparse
import csv
import math
import os
import re

import numpy as np


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--silicon", default=os.path.join(here, "..", "..", "..", "shared", "data", "silicon", "train.csv"))
    a = ap.parse_args()
    feats, y, groups = [], [], []
    for r in csv.DictReader(open(a.silicon)):
        if r["mode"] != "disagg" or not r["decode_num_workers"]:
            continue
        m = re.search(r"silicon_concurrency=(\d+)", r["silicon_data_source"])
        if not m:
            continue
        dp = int(r["decode_attention_dp_size"] or 1) or 1
        feats.append([1.0, math.log(int(m.group(1))), math.log(dp)])
        y.append(math.log(int(r["decode_num_workers"]) * dp))
        groups.append(r["model_path"] + "|" + r["system"])
    x, y = np.array(feats), np.array(y)
    w = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = np.median(np.abs(y - x @ w))
    held = []
    for g in sorted(set(groups)):
        te = np.array([h == g for h in groups])
        wg = np.linalg.lstsq(x[~te], y[~te], rcond=None)[0]
        held += list(np.abs(y[te] - x[te] @ wg))
    print(f"{len(x)} rows with decode worker counts")
    print(f"total decode ranks = {math.exp(w[0]):.3f} * concurrency^{w[1]:.3f} * dp^{w[2]:.3f}")
    print(f"median abs log residual {resid:.2f} (x{math.exp(resid):.2f}); leaving one model x system "
          f"out: {np.median(held):.2f} (x{math.exp(np.median(held)):.2f})")


if __name__ == "__main__":
    main()
