#!/usr/bin/env python3
"""Recover what the InferenceX-exported silicon rows leave unrecorded, from InferenceX's own configs.

The 1,733 rows of ../shared/data/silicon/train.csv whose provenance reads
`source_file=2026-03-25.csv` / `2026-04-06.csv` (with `wip=` and an `image=` tag) are SemiAnalysis
InferenceX benchmark points, and so are the 628 rows of its database dump (`db-dump/...; <image>`),
which record their own worker counts and disaggregated layouts (MTP, the scheduler settings and the
aggregated layouts it writes multiplied, like the April export, are added to them). 358 rows are one
run recorded twice (an export and the dump, TTFT and TPOT equal to the nanosecond): each such row is
completed with what its twin's record knows (complete_twins). The exports' columns omit three things
the latency depends on:

* speculative decoding: InferenceX runs DeepSeek-R1 with and without MTP (`spec-decoding: mtp`),
  and the row does not say which;
* disaggregated worker counts (empty in those rows);
* the disaggregated parallel layout: the rows record e.g. decode tp 32 with moe 8 x 4 where the
  recipe ran "tp 32, ep 32, dp-attn" (DEP32: 32 attention-DP ranks, experts spread over 32 GPUs);
* and some aggregated layouts are written in other encodings (agg_layout_consistent below).

InferenceX keeps every benchmark it runs in `.github/configs/nvidia-master.yaml` (image, model,
precision, ISL/OSL, concurrencies, layouts, spec-decoding, and for multi-node runs the recipe file,
whose name ends in `_mtpN`). This script walks that file's git history, matches each row to the
search-space entries with the same system, model family, framework, serving mode, precision, ISL,
OSL, concurrency and container image and a compatible layout, committed no more than a week after
the row was measured, and writes what all matching entries agree on (nothing where they disagree,
e.g. a concurrency run both with and without MTP).

The output is a CSV keyed by silicon row id, in the silicon columns plus mtp_draft_tokens and
mtp_acceptance, for `dynamo-profiler accuracy --recipes` / `estimate --from-csv --recipes`.
MTP acceptance is recorded nowhere. The rows get one conditional acceptance per draft token,
fitted on the even-numbered MTP rows of train.csv and checked on the odd ones (README.md here):
0.70. The DeepSeek-V3 report's 85-90 % for the MTP token, used for every draft, predicts those
rows 21 % too fast (signed median).

Usage:
  git clone https://github.com/SemiAnalysisAI/InferenceX   # any checkout with the 2025-11..2026-04 history
  tools/silicon_recipes/inferencex_recipes.py --inferencex InferenceX \
      --silicon ../shared/data/silicon/train.csv --out tools/silicon_recipes/inferencex_recipes.csv
Needs python3 with PyYAML.
"""
import argparse
import csv
import re
from datetime import datetime, timedelta
import subprocess
import sys

import yaml

CONFIG_PATHS = (".github/configs/nvidia-master.yaml", "configs/nvidia-master.yaml")
SYSTEMS = ("gb300", "gb200", "b300", "b200", "h200", "h100")  # longest names first
FRAMEWORK = {"trtllm": "trt", "sglang": "sglang", "vllm": "vllm"}
# Single-node MTP runs set the draft count in their launch scripts, not in the config:
# benchmarks/dsr1_fp{4,8}_{b200,h200}_trt_mtp.sh: MTP=3, or 1 with attention DP;
# SGLang EAGLE --speculative-num-steps: 2 in dsr1_fp8_b{2,3}00_mtp.sh, 3 in the glm5_* and
# qwen3.5_* scripts.
SGLANG_EAGLE_STEPS = {"dsr1": 2, "glm5": 3, "qwen3.5": 3}
MTP_ACCEPTANCE = 0.70  # per draft token, fitted on the even MTP rows (README.md)
# Single-node launch scripts (runners/launch_*.sh): benchmarks/single_node/ since 2026-02-19,
# benchmarks/ before; name = <model prefix>_<precision>_<runner>[_trt][_mtp].sh. Until 2026-01-22 the
# scripts were split by how the runner starts the container: <name>_docker.sh / <name>_slurm.sh.
SCRIPT_DIRS = ("benchmarks/single_node", "benchmarks")
# InferenceX's benchmark draws each request's input and output lengths uniformly from
# [int(0.8 x L), L] (utils/bench_serving/benchmark_serving.py, --random-range-ratio): its workflows pass
# 0.8 and no other value in every version from 2025-10 to 2026-04 (benchmark-tmpl.yml's
# RANDOM_RANGE_RATIO, set by full-sweep-tmpl.yml and the other callers before 2026-01), and the
# multi-node runs' srt-slurm sa-bench passes --random-range-ratio 0.8 too. Written for every row.
BENCHMARK_RANGE_RATIO = 0.8
# The provenances whose aggregated layouts may be written multiplied by the EP size (encodings below).
MULTIPLIED_SOURCES = ("source_file=2026-04-06", "db-dump/")
# An entry first committed this many days after a run was measured did not produce it (could_have_run).
# Of the 1,930 rows that match an entry by everything else, 1,905 match one committed before their
# measurement or at most 3 days after it (branch runs before the merge); 21 are work-in-progress runs of
# a branch merged 14-30 days later; 4 dump rows measured on 2025-11-02 matched only MTP entries first
# committed in January 2026. 233 rows also match entries committed later, which the rule drops.
LATE_ENTRY_DAYS = 7
LEGACY_SUFFIXES = ("_docker", "_slurm")
# SGLang's old --enable-ep-moe flag: expert parallelism over the whole TP group (ep size = tp size).
SGLANG_EP_MOE = re.compile(r"--enable-ep-moe\b")  # searched in code_lines (comments removed)
# The scheduler settings read from those scripts, only in these exact shapes (anything else: unset).
RECV_LITERAL = re.compile(r"--scheduler-recv-interval[ =](\d+)")
RECV_BY_CONC = re.compile(r"if \[\[ \$CONC -ge (\d+) \]\]; then\s+SCHEDULER_RECV_INTERVAL=(\d+)\s+"
                          r"else\s+SCHEDULER_RECV_INTERVAL=(\d+)\s+fi")
RECV_BY_TP = re.compile(r"if \[\[ \$TP -eq (\d+) \]\]; then\n(.*?)\n(?=elif|else|fi)", re.S)
ADP_BALANCE = re.compile(r'if \[\[ "\$DP_ATTENTION" == "true" \]\]; then\s+cat << EOF >> \$EXTRA_CONFIG_FILE\s+'
                         r"attention_dp_config:(.*?)\nEOF", re.S)


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def config_versions(repo, since, until):
    """Every commit of the master config between the dates, newest first, and the one live at `since`:
    (commit, committer date, parsed yaml). A text committed again (a revert) is parsed once."""
    parsed = {}
    for path in CONFIG_PATHS:
        lines = git(repo, "log", "--format=%h %cI", f"--since={since}", f"--until={until}", "--", path).splitlines()
        lines += git(repo, "log", "-1", "--format=%h %cI", f"--until={since}", "--", path).splitlines()  # live at --since
        for line in lines:
            c, date = line.split()
            try:
                text = git(repo, "show", f"{c}:{path}")
            except subprocess.CalledProcessError:
                continue
            if text not in parsed:
                try:
                    parsed[text] = yaml.safe_load(text)
                except yaml.YAMLError:
                    parsed[text] = None
            if parsed[text] is not None:
                yield c, datetime.fromisoformat(date), parsed[text]


def entries(repo, since, until):
    """Flattened search-space entries, deduplicated across config versions: each names the newest commit
    holding it (`commit`) and the committer date of the oldest (`first`)."""
    out = {}
    for commit, date, doc in config_versions(repo, since, until):
        if not isinstance(doc, dict):
            continue
        for name, cfg in doc.items():
            if not isinstance(cfg, dict) or "seq-len-configs" not in cfg:
                continue
            for slc in cfg["seq-len-configs"] or []:
                for sp in slc.get("search-space") or []:
                    pre, dec = sp.get("prefill") or {}, sp.get("decode") or {}
                    recipe = ""
                    for item in (pre.get("additional-settings") or []) + (dec.get("additional-settings") or []):
                        if "CONFIG_FILE=" in str(item):
                            recipe = str(item).split("=", 1)[1]
                    if "conc-list" in sp:
                        concs = frozenset(sp["conc-list"])
                    elif "conc-start" in sp:
                        concs = frozenset(sweep(sp["conc-start"], sp["conc-end"]))
                    else:
                        continue
                    e = dict(name=name, image=str(cfg.get("image") or "").replace("#", "/"),
                             precision=cfg.get("precision"), isl=slc.get("isl"), osl=slc.get("osl"),
                             spec=sp.get("spec-decoding", "none"), concs=concs, recipe=recipe,
                             tp=sp.get("tp"), ep=sp.get("ep"), dp=bool(sp.get("dp-attn")),
                             pw=pre.get("num-worker"), ptp=pre.get("tp"), pep=pre.get("ep"), pdp=bool(pre.get("dp-attn")),
                             dw=dec.get("num-worker"), dtp=dec.get("tp"), dep=dec.get("ep"), ddp=bool(dec.get("dp-attn")))
                    kept = out.setdefault(tuple(sorted(e.items())), dict(e, commit=commit, first=date))
                    kept["first"] = min(kept["first"], date)
    return list(out.values())


def sweep(start, end, step=2):
    """The concurrencies InferenceX runs for conc-start..conc-end (utils/matrix_logic/
    generate_sweep_configs.py: start, x step each time, the last one capped at end)."""
    out, conc = [], start
    while conc <= end:
        out.append(conc)
        if conc == end:
            break
        conc = min(conc * step, end)
    return out


def system_of(name):
    for s in SYSTEMS:
        if f"-{s}-" in name:
            return s
    return None


def family_of(model_path):
    p = model_path.lower()
    for needle, prefix in (("deepseek-r1", "dsr1"), ("deepseek-v3", "dsr1"), ("kimi-k2.5", "kimik2.5"),
                           ("minimax-m2.5", "minimaxm2.5"), ("glm-5", "glm5"), ("qwen3.5", "qwen3.5")):
        if needle in p:
            return prefix
    return None


def field(source, key):
    m = re.search(rf"{key}=([^;]*)", source)
    if m:
        return m.group(1).strip()
    if key == "image" and source.startswith("db-dump/"):
        # The database dump ends its provenance with the bare container image.
        last = source.rsplit(";", 1)[-1].strip()
        return last if "/" in last and ":" in last and "=" not in last else ""
    return ""


def matches(row, e):
    fam = family_of(row["model_path"])
    if not fam or not e["name"].startswith(fam + "-"):
        return False
    if system_of(e["name"]) != row["system"].replace("_sxm", ""):
        return False
    parts = e["name"].split("-")
    if FRAMEWORK[row["backend"]] not in parts[-2:]:
        return False
    if ("dynamo" in parts) != (row["mode"] == "disagg"):
        return False
    if e["precision"] != row["precision"] or e["isl"] != int(row["isl"]) or e["osl"] != int(row["osl"]):
        return False
    conc = field(row["silicon_data_source"], "silicon_concurrency")
    if not conc or int(conc) not in e["concs"]:
        return False
    if not could_have_run(row, e):
        return False
    image = field(row["silicon_data_source"], "image").replace("#", "/")
    if image and e["image"] != image:
        return False
    if row["mode"] == "disagg":
        return str(e["ptp"]) == row["prefill_tp_size"] and str(e["dtp"]) == row["decode_tp_size"]
    return agg_layout_consistent(row, e)


def measured_at(source):
    """When the row's run was measured, at the latest: the timestamp the provenance gives, or the end
    of its day where it gives a day (midnight: the dump and the 2026-04-06 export), None where it has
    no date."""
    try:
        when = datetime.fromisoformat(field(source, "measured").replace("Z", "+00:00"))
    except ValueError:
        return None
    return when + timedelta(days=1) if when.time() == datetime.min.time() else when


def could_have_run(row, e):
    """False for an entry first committed more than LATE_ENTRY_DAYS after the row was measured: a
    benchmark runs the config of the commit it checks out, and a branch is run days, not weeks, before
    its merge. Work-in-progress runs (`wip=True`, long-lived branches) are not judged."""
    source = row["silicon_data_source"]
    when = measured_at(source)
    if when is None or "first" not in e or field(source, "wip") == "True":
        return True
    return e["first"] <= when + timedelta(days=LATE_ENTRY_DAYS)


def agg_layout_consistent(row, e):
    """Whether an agg row's recorded layout can be the entry's, as the exports write layouts."""
    if not e["tp"]:
        return False
    return recorded_agg_layout(row) in encodings(e["tp"], e["ep"] or 1, e["dp"], row)


def recorded_agg_layout(row):
    return int(row["tp_size"] or 1), int(row["attention_dp_size"] or 1), int(row["moe_ep_size"] or 1)


def encodings(t, ep, dp, row):
    """(tp, attention dp, moe_ep) the exports record for a layout of T GPUs, EP E; faithful first.

    Faithful: tp T (attention DP: tp 1, dp T), moe_ep E. The 2026-04-06 export multiplies by E:
    tp T x E or dp T x E (its "tp 16, ep 4" row at c = 16 is the 2026-03-25 export's "tp 4, ep 4"
    row, same TPOT), and it writes vLLM's expert parallelism over the TP group (tp T, ep E, no
    attention DP) as attention DP: tp T, dp E, moe_ep T x E. The database dump writes both the same
    way: its rows measured identically to an export row (twins below) record "tp 64, ep 8" where
    the export records "tp 8, ep 8", and "tp 4, dp 4, moe_ep 16" for vLLM's "tp 4, ep 4".
    """
    out = [(1, t, ep)] if dp else [(t, 1, ep)]
    if ep > 1 and row["silicon_data_source"].startswith(MULTIPLIED_SOURCES):
        out.append((1, t * ep, ep) if dp else (t * ep, 1, ep))
        if not dp and row["backend"] == "vllm":
            out.append((t, ep, t * ep))
    return out


# srt-slurm TensorRT-LLM recipe names: ctx<P>[<layout>]_gen<D>[_]<layout>_batch<B>_..., e.g.
# ctx1_gen5_tep8_batch1_eplb0_mtp3.yaml or ctx1dep4_gen4tep8_batch1_allconc_eplb0_mtp0.yaml, B being the
# decode workers' max_batch_size (per attention-DP rank; the recipe's trtllm_config.decode.max_batch_size).
RECIPE_DECODE_BATCH = re.compile(r"^ctx\d+(?:[a-z]+\d+)?_gen\d+_?[a-z]+\d+_batch(\d+)_")


# InferenceX keeps copies of the srt-slurm recipes (from April 2026); a few names there disagree with
# their own trtllm_config.decode.max_batch_size (e.g. ctx1_gen5_tep8_batch8_eplb0_mtp0: 16).
RECIPE_COPIES = "benchmarks/multi_node/srt-slurm-recipes"


def recipe_copy_batches(repo):
    """{recipe file name: the decode max_batch_size values of every copy in InferenceX's history}."""
    raw = git(repo, "log", "--all", "--format=", "--raw", "--no-abbrev", "--", RECIPE_COPIES)
    blobs = {}
    for line in raw.splitlines():
        meta, _, path = line.partition("\t")
        fields = meta.split()
        name = path.rsplit("/", 1)[-1]
        if len(fields) >= 4 and set(fields[3]) != {"0"} and RECIPE_DECODE_BATCH.match(name):
            blobs.setdefault(fields[3], name)
    out = {}
    if not blobs:
        return out
    data = subprocess.run(["git", "-C", repo, "cat-file", "--batch"], input="\n".join(blobs).encode() + b"\n",
                          capture_output=True, check=True).stdout
    pos = 0
    while pos < len(data):
        header_end = data.index(b"\n", pos)
        sha, _, size = data[pos:header_end].decode().split()
        body = data[header_end + 1:header_end + 1 + int(size)]
        pos = header_end + 1 + int(size) + 1
        try:
            doc = yaml.safe_load(body)
        except yaml.YAMLError:
            continue
        for cfg in ((doc or {}).get("backend") or {}).get("trtllm_config"), (doc or {}).get("trtllm_config"):
            decode = (cfg or {}).get("decode") if isinstance(cfg, dict) else None
            if isinstance(decode, dict) and isinstance(decode.get("max_batch_size"), int):
                out.setdefault(blobs[sha], set()).add(decode["max_batch_size"])
    return out


# The SGLang multi-node runs name their recipe in NVIDIA srt-slurm (`CONFIG_FILE=recipes/...`; the
# configs link the branch they ran from). Its backend.sglang_config.{prefill,decode} sections give each
# worker's MoE all-to-all: `moe-a2a-backend: deepep` (before: `enable-deepep-moe: true`), else SGLang's
# default, which gathers every rank's tokens.
SRT_SLURM_REF = "sa-submission-q2-2026"


def recipe_a2a_backend(doc):
    """The MoE all-to-all ("deepep" or "none") of a srt-slurm SGLang recipe's workers whose attention is
    data-parallel and whose experts are expert-parallel over more GPUs than a node holds (the only
    workers the profiler's model prices an all-to-all for, perf/engine.h UsesExpertAllToAll), or None:
    no such worker, or such workers that disagree."""
    if not isinstance(doc, dict):
        return None
    backend, resources = doc.get("backend"), doc.get("resources")
    cfg = backend.get("sglang_config") if isinstance(backend, dict) else None
    node_gpus = resources.get("gpus_per_node") if isinstance(resources, dict) else None
    if not isinstance(cfg, dict) or not isinstance(node_gpus, int) or node_gpus < 1:
        return None
    found = set()
    for worker in cfg.values():
        if not isinstance(worker, dict) or worker.get("enable-dp-attention") is not True:
            continue
        ep = worker.get("ep-size")
        if not isinstance(ep, int) or ep <= node_gpus:
            continue
        if worker.get("moe-a2a-backend") is not None:
            found.add(str(worker["moe-a2a-backend"]).lower())
        else:
            found.add("deepep" if worker.get("enable-deepep-moe") is True else "none")
    return found.pop() if len(found) == 1 else None


def srt_slurm_ref(srt_slurm, branch=SRT_SLURM_REF):
    """The name under which a srt-slurm checkout holds `branch` (a local branch, or origin's in a fresh
    clone); exits naming the branch when the checkout has neither."""
    for ref in (branch, f"origin/{branch}"):
        if subprocess.run(["git", "-C", srt_slurm, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                          capture_output=True).returncode == 0:
            return ref
    sys.exit(f"--srt-slurm {srt_slurm}: no branch {branch} (nor origin/{branch}); the SGLang recipes are read from it")


def srt_slurm_a2a_backend(srt_slurm, e, cache, ref=SRT_SLURM_REF):
    """recipe_a2a_backend of an SGLang entry's srt-slurm recipe, where every version of the file on
    `ref` agrees (None otherwise, for entries of other frameworks, or without a recipe or checkout)."""
    if not srt_slurm or "sglang" not in e["name"].split("-") or not e["recipe"].startswith("recipes/"):
        return None
    if e["recipe"] not in cache:
        try:
            commits = git(srt_slurm, "log", "--format=%H", ref, "--", e["recipe"]).split()
        except subprocess.CalledProcessError:
            commits = []
        values = set()
        for c in commits:
            try:
                values.add(recipe_a2a_backend(yaml.safe_load(git(srt_slurm, "show", f"{c}:{e['recipe']}"))))
            except (subprocess.CalledProcessError, yaml.YAMLError):
                values.add(None)
        cache[e["recipe"]] = values.pop() if len(values) == 1 else None
    return cache[e["recipe"]]


def decode_max_batch(e, copies=None):
    """The decode max batch size per DP rank a TensorRT-LLM multi-node entry's recipe name gives, or
    None: no such name, or a copy of the recipe in InferenceX (`copies`, recipe_copy_batches) that
    says otherwise."""
    if "trt" not in e["name"].split("-"):
        return None
    name = e["recipe"].rsplit("/", 1)[-1]
    m = RECIPE_DECODE_BATCH.match(name)
    if not m or int(m.group(1)) < 1:
        return None
    if copies and name in copies and copies[name] != {int(m.group(1))}:
        return None
    return int(m.group(1))


def draft_tokens(e):
    """MTP draft tokens of an entry: 0 without MTP, None when the count is not knowable."""
    if e["spec"] != "mtp":
        return 0
    m = re.search(r"mtp(\d)", e["recipe"].rsplit("/", 1)[-1])
    if m:
        return int(m.group(1))
    if "dynamo" not in e["name"] and e["name"].endswith("-trt-mtp"):
        return 1 if e["dp"] else 3
    if "dynamo" not in e["name"] and e["name"].endswith("-sglang-mtp"):
        return SGLANG_EAGLE_STEPS.get(e["name"].split("-", 1)[0])
    return None


def launch_scripts(repo, e, cache):
    """Texts of the single-node launch scripts an agg entry may have run, at the entry's config commit:
    the one script of its name, or (before 2026-01-22) its _docker and _slurm variants, whichever
    exist (which one ran depends on the runner; callers use only what all of them agree on).
    Empty when there is none."""
    if "dynamo" in e["name"] or not e["precision"]:
        return []
    parts = e["name"].split("-")
    runner = system_of(e["name"])
    stem = f"{parts[0]}_{e['precision']}_{runner}{'_trt' if 'trt' in parts else ''}{'_mtp' if e['spec'] == 'mtp' else ''}"

    def show(path):
        key = (e["commit"], path)
        if key not in cache:
            try:
                cache[key] = git(repo, "show", f"{e['commit']}:{path}")
            except subprocess.CalledProcessError:
                cache[key] = ""
        return cache[key]

    for d in SCRIPT_DIRS:
        text = show(f"{d}/{stem}.sh")
        if text:
            return [text]
    return [t for t in (show(f"benchmarks/{stem}{suffix}.sh") for suffix in LEGACY_SUFFIXES) if t]


def sglang_ep_over_tp(scripts, e):
    """Whether an SGLang agg entry's launch scripts all run expert parallelism over the TP group
    (`--enable-ep-moe`, SGLang's flag before --ep-size: ep size = tp size) where the config gives no ep."""
    framework = e["name"].split("-")
    return ("sglang" in framework and not e["dp"] and (e["ep"] or 1) == 1 and bool(scripts)
            and all(SGLANG_EP_MOE.search(launch_command(s, "sglang") or "") for s in scripts))


def recv_interval(script, e, conc):
    """SGLang --scheduler-recv-interval of a launch script for this entry and concurrency, or None
    when the script passes it in a shape not recognised here. Shapes: a literal value on the launch
    line; SCHEDULER_RECV_INTERVAL chosen by `if [[ $CONC -ge T ]]`; or assigned inside
    `if/elif [[ $TP -eq N ]]` branches (a CONC choice inside the entry's branch, or a value)."""
    lit = RECV_LITERAL.search(script)
    if lit:
        return int(lit.group(1))
    branches = [(int(tp), body) for tp, body in RECV_BY_TP.findall(script) if "SCHEDULER_RECV_INTERVAL=" in body]
    if branches:
        bodies = [body for tp, body in branches if tp == e["tp"]]
        if len(bodies) != 1:
            return None
        scope = bodies[0]
    else:
        scope = script
    rule = RECV_BY_CONC.search(scope)
    if rule:
        threshold, high, low = map(int, rule.groups())
        return high if conc >= threshold else low
    values = set(re.findall(r"SCHEDULER_RECV_INTERVAL=(\d+)", scope))
    return int(values.pop()) if branches and len(values) == 1 else None


def adp_balance_timeout(script):
    """timeout_iters of the attention_dp_config block a TensorRT-LLM launch script appends when
    DP_ATTENTION is true, when it balances (enable_balance: true) without batching waits
    (batching_wait_iters: 0; TensorRT-LLM's default is 10, another hold); else None. A missing
    timeout_iters is TensorRT-LLM's default, 50."""
    m = ADP_BALANCE.search(script)
    if not m or not re.search(r"enable_balance:\s*true", m.group(1)):
        return None
    wait = re.search(r"batching_wait_iters:\s*(\d+)", m.group(1))
    if not wait or int(wait.group(1)) != 0:
        return None
    timeout = re.search(r"timeout_iters:\s*(\d+)", m.group(1))
    return int(timeout.group(1)) if timeout else 50


# The per-iteration token budget each framework's launch command passes (the engine's max_num_tokens:
# TensorRT-LLM max_num_tokens, vLLM max_num_batched_tokens, SGLang chunked_prefill_size).
BUDGET_FLAG = {"trt": r"--max_num_tokens[ =]", "vllm": r"--max-num-batched-tokens[ =]",
               "sglang": r"--chunked-prefill-size[ =]"}
LAUNCH = {"trt": r"trtllm-serve ", "vllm": r"vllm serve |vllm\.entrypoints\.openai\.api_server",
          "sglang": r"sglang\.launch_server"}
BUDGET_ARG = r'(\d+|"?\$[A-Z_][A-Z0-9_]*"?|"?\$\(\([^`"]*?\)\)"?)(?=[\s\\]|$)'
# Lines the budget evaluation keeps: shell tests and plain assignments, none with `$(` (but `$((`),
# a backtick, `<(` or `>(`. Values may hold `$VAR`, `${VAR:-x}` and `$(( ... ))`, never brackets or
# parentheses otherwise: with no `[` in any value no arithmetic can reach an array subscript (which
# would run a `$(...)` inside it).
KEEP_TEST = re.compile(r"^\s*(if|elif) (\[\[? [^`;<>]*?\]\]?)( (\|\||&&) \[\[? [^`;<>]*?\]\]?)*; then\s*$")
KEEP_ASSIGN = re.compile(r"""^\s*[A-Z_][A-Z0-9_]*=("[^"`()\[\]]*"|'[^'`()\[\]]*'|\$\(\([^`;\[\]]*\)\)"""
                         r"""|\$[A-Z_][A-Z0-9_]*|\$\{[A-Z_][A-Z0-9_]*(:-[^}`$()\[\]]*)?\}|[A-Za-z0-9_./:+-]*)\s*(#.*)?$""")
# A variable assigned on a line the evaluation drops (`export B=`, `[[ ... ]] && B=`, a one-line if).
DROPPED_ASSIGN = re.compile(r"(?:^|[\s;&|(])(?:export\s+|declare\s+(?:-\w+\s+)*|local\s+)?([A-Za-z_]\w*)\+?=(?!=)")
HEREDOC = re.compile(r"<<-?\s*['\"]?([A-Za-z_]\w*)['\"]?")
UNSUPPORTED_SHELL = re.compile(r"^\s*(case|for|while|until|select|function)\b|^\s*[A-Za-z_]\w*\s*\(\)\s*\{|^\s*\(", re.M)
MAX_BUDGET = 1 << 20
MAX_MODEL_LEN_EXTRA = (200, 256)  # generate_sweep_configs.py: max-model-len = isl + osl + 200 (later 256)


def code_lines(script):
    """The script's lines with comments removed (a `#` at the start of a word, outside quotes)."""
    out = []
    for line in script.splitlines():
        quote, cut = None, len(line)
        for k, ch in enumerate(line):
            if quote:
                quote = None if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch == "#" and (k == 0 or line[k - 1].isspace()) and not line[:k].endswith("$"):
                cut = k
                break
        out.append(line[:cut].rstrip())
    return out


def launch_command(script, framework):
    """The one server launch command of a script (continuation lines joined, comments removed), or
    None when there is not exactly one."""
    logical, cur = [], ""
    for line in code_lines(script):
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        logical.append(cur + line)
        cur = ""
    if cur:
        logical.append(cur)
    found = [line for line in logical if re.search(LAUNCH[framework], line)]
    return found[0] if len(found) == 1 else None


def script_budget(script, e, conc):
    """The token budget (max_num_tokens) a launch script passes for this entry and concurrency, or
    None when it is not knowable here: not exactly one server launch, the flag absent from it or
    passed more than one way, computed from anything but the benchmark's own variables, or assigned
    where the evaluation cannot follow. The script's tests (`if/elif ...; then`, `else`, `fi`) and
    plain assignments are run in restricted bash (`bash -r`, `set -u`, no PATH: no command but
    builtins can run, and no kept line calls one), heredoc bodies dropped, with the variables
    InferenceX's workflow sets for the entry; scripts with case, loops, functions or subshells are
    not evaluated, nor those that assign a variable the evaluation uses on a line it drops."""
    framework = [f for f in ("trt", "vllm", "sglang") if f in e["name"].split("-")]
    if len(framework) != 1:
        return None
    command = launch_command(script, framework[0])
    if command is None:
        return None
    args = set(re.findall(f"(?:{BUDGET_FLAG[framework[0]]}){BUDGET_ARG}", command))
    if len(args) != 1:
        return None
    arg = args.pop()
    lines = code_lines(script)
    if UNSUPPORTED_SHELL.search("\n".join(lines)):
        return None
    if arg.isdigit():
        return int(arg) if 0 < int(arg) <= MAX_BUDGET else None
    kept, dropped_vars, end = [], set(), None
    for line in lines:
        if end is not None:
            end = None if line.strip() == end else end
            continue
        doc = HEREDOC.search(line.replace("$((", "").replace("))", ""))
        if doc:
            end = doc.group(1)
            continue
        if not line.strip():
            continue
        safe = "$(" not in line.replace("$((", "") and "`" not in line and "<(" not in line and ">(" not in line
        if safe and (KEEP_TEST.match(line) or re.match(r"^\s*else\s*$", line)):
            kept += [line, ":"]
        elif safe and (re.match(r"^\s*fi\s*$", line) or KEEP_ASSIGN.match(line)):
            kept.append(line)
        else:
            dropped_vars.update(DROPPED_ASSIGN.findall(re.sub(r'"[^"]*"|\'[^\']*\'', '""', line)))
    program = "set -u\n" + "\n".join(kept) + f"\nprintf '%s' {arg}\n"
    if any(re.search(rf"\b{re.escape(v)}\b", program) for v in dropped_vars):
        return None
    env = {"PATH": "/nonexistent", "CONC": str(conc), "ISL": str(e["isl"]), "OSL": str(e["osl"]),
           "TP": str(e["tp"]), "EP_SIZE": str(e["ep"] or 1), "DP_ATTENTION": "true" if e["dp"] else "false",
           "EVAL_ONLY": "false", "RUN_EVAL": "false", "SLURM_JOB_ID": "", "PORT": "8888",
           "RANDOM_RANGE_RATIO": "0.8", "MODEL": "model", "RESULT_FILENAME": "result"}
    values = set()
    # The workflow's MAX_MODEL_LEN was ISL + OSL + 200, later + 256: a budget that depends on it is unknown.
    for extra in MAX_MODEL_LEN_EXTRA:
        env["MAX_MODEL_LEN"] = str(e["isl"] + e["osl"] + extra)
        run = subprocess.run(["/bin/bash", "--noprofile", "--norc", "--restricted", "-c", program], env=env,
                             capture_output=True, text=True, cwd="/")
        out = run.stdout.strip()
        if run.returncode != 0 or not out.isdigit() or not 0 < int(out) <= MAX_BUDGET:
            return None
        values.add(int(out))
    return values.pop() if len(values) == 1 else None


def scheduler_settings(script, e, conc):
    """{column: value} of the scheduler settings a launch script sets for this entry and concurrency:
    SGLang's receive interval (SGLang entries whose script launches sglang with the flag),
    TensorRT-LLM's attention-DP balance timeout (TensorRT-LLM entries that run attention DP) and the
    token budget (script_budget). None marks a setting the script passes in a shape not recognised
    (unknown)."""
    out = {}
    framework = e["name"].split("-")
    if "sglang" in framework and "sglang.launch_server" in script and "--scheduler-recv-interval" in script:
        out["sched_recv_interval"] = recv_interval(script, e, conc)
    if "trt" in framework and "trtllm-serve" in script and e["dp"]:
        out["adp_balance_timeout_iters"] = adp_balance_timeout(script)
    if script:
        out["max_num_tokens"] = script_budget(script, e, conc)
    return out


SCHEDULER_COLUMNS = ("sched_recv_interval", "adp_balance_timeout_iters", "max_num_tokens")


def agreed_scheduler_settings(entry_scripts, conc):
    """{column: value} of the scheduler settings every script of every matching entry gives alike
    (`entry_scripts`: (entry, its launch_scripts) pairs; an entry without a script gives none)."""
    settings = [scheduler_settings(s, e, conc) for e, scripts in entry_scripts for s in (scripts or [""])]
    out = {}
    for col in SCHEDULER_COLUMNS:
        values = {st.get(col) for st in settings}
        if len(values) == 1 and None not in values:
            out[col] = values.pop()
    return out


def layout(prefix, tp, ep, dp):
    """Silicon columns of one disagg stage: GPUs = tp x attention_dp; experts over moe_tp x moe_ep."""
    ep = ep or 1
    if dp:
        return {prefix + "tp_size": 1, prefix + "attention_dp_size": tp, prefix + "moe_tp_size": max(1, tp // ep),
                prefix + "moe_ep_size": ep}
    return {prefix + "tp_size": tp, prefix + "attention_dp_size": 1, prefix + "moe_tp_size": max(1, tp // ep),
            prefix + "moe_ep_size": ep}


# What a dump row records of its disaggregated deployment and an export row leaves empty.
DEPLOYMENT = ("prefill_num_workers", "prefill_tp_size", "prefill_attention_dp_size", "prefill_moe_tp_size",
              "prefill_moe_ep_size", "decode_num_workers", "decode_tp_size", "decode_attention_dp_size",
              "decode_moe_tp_size", "decode_moe_ep_size")
# What the config entries a row matched tell about the run (mtp_acceptance goes with the draft count).
RUN_SETTINGS = ("mtp_draft_tokens", "sched_recv_interval", "adp_balance_timeout_iters", "max_num_tokens",
                "decode_max_batch_size", "moe_a2a_backend")


def twin_key(row):
    """What one benchmark run recorded twice (in an export and in the dump, or in both exports)
    shares besides its measurements (same_measurements). Not the model path: the records name the
    same DeepSeek run DeepSeek-R1 in one and DeepSeek-V3 in the other (one architecture)."""
    return (row["system"], row["backend"], row["mode"], row["precision"], row["isl"], row["osl"],
            field(row["silicon_data_source"], "silicon_concurrency"))


def measurements(row):
    """(TTFT, TPOT) in ms, or None where either is missing or not a number."""
    try:
        return float(row["silicon_ttft_ms"]), float(row["silicon_tpot_ms"])
    except ValueError:
        return None


def same_measurements(a, b, tol_ms=1e-6):
    """TTFT and TPOT equal to a nanosecond: the two exports and the dump print one run's figures to
    different last digits (496.10784111064277 and 496.1078411106428)."""
    return all(abs(x - y) <= tol_ms for x, y in zip(a, b))


def has_workers(row, rec):
    return bool((rec.get("decode_num_workers") or row["decode_num_workers"])
                and (rec.get("prefill_num_workers") or row["prefill_num_workers"]))


def share_no_mtp_by_config(rows, recs, counts):
    """InferenceX's database keys a config by model, hardware, framework, precision, speculative
    method, disaggregation and topology (its docs/results-and-ingestion.md), so the dump rows of one
    `config_id` ran all with MTP or all without. Where every row of a config whose MTP setting is
    known ran without it, the others did too (a draft count is not shared: recipes of one config may
    differ in it). recs maps row id to its record."""
    configs = {}
    for row in rows:
        config = field(row["silicon_data_source"], "config_id")
        if row["silicon_data_source"].startswith("db-dump/") and config:
            configs.setdefault(config, []).append(recs.setdefault(row["id"], {"id": row["id"]}))
    for members in configs.values():
        if {str(rec["mtp_draft_tokens"]) for rec in members if rec.get("mtp_draft_tokens", "") != ""} != {"0"}:
            continue
        for rec in members:
            if rec.get("mtp_draft_tokens", "") == "":
                rec.update(mtp_draft_tokens=0, mtp_acceptance="")
                counts["config no mtp"] += 1


def complete_twins(rows, recs, counts):
    """Completes each record of a run measured twice with what its twin's record knows.

    A disaggregated row that records no worker counts takes the deployment the dump row of the same
    run records, over what its config entries gave: the dump is the run's own record (they agree for
    all but 8 GB200 SGLang runs of December 2025 whose one entry left by could_have_run says TP 1,
    which cannot hold DeepSeek-R1, where the dump says 4 attention-DP ranks). A run setting known for one record and unknown for the other is given to both (the
    decode max batch only to a row whose worker counts are known); where the records disagree
    neither keeps it. recs maps row id to its record ({"id": ...} when nothing was found)."""
    by_key = {}
    for row in rows:
        m = measurements(row)
        if m is not None:
            by_key.setdefault(twin_key(row), []).append((m, row))
    groups = []
    for candidates in by_key.values():
        runs = []  # [(measurements of the run's first row, its rows)]
        for m, row in candidates:
            run = next((r for r in runs if same_measurements(r[0], m)), None)
            if run is None:
                runs.append((m, [row]))
            else:
                run[1].append(row)
        groups += [run_rows for _, run_rows in runs]
    for group in groups:
        if len(group) < 2:
            continue
        members = [(row, recs.setdefault(row["id"], {"id": row["id"]})) for row in group]
        dumps = [row for row in group if row["silicon_data_source"].startswith("db-dump/")]
        if len(dumps) == 1 and has_workers(dumps[0], {}):
            for row, rec in members:
                if row["mode"] == "disagg" and not has_workers(row, {}):
                    rec.update({c: dumps[0][c] for c in DEPLOYMENT})
                    rec["twin"] = dumps[0]["id"]
                    counts["twin deployment"] += 1
        for col in RUN_SETTINGS:
            known = {str(rec[col]) for _, rec in members if rec.get(col, "") != ""}
            if len(known) > 1:
                for _, rec in members:
                    rec.pop(col, None)
                    if col == "mtp_draft_tokens":
                        rec.pop("mtp_acceptance", None)
                counts["twin conflicts"] += 1
                continue
            if not known:
                continue
            source = next(rec for _, rec in members if rec.get(col, "") != "")
            for row, rec in members:
                if rec.get(col, "") != "" or (col == "decode_max_batch_size" and not has_workers(row, rec)):
                    continue
                rec[col] = source[col]
                if col == "mtp_draft_tokens":
                    rec["mtp_acceptance"] = source.get("mtp_acceptance", "")
                rec.setdefault("twin", next(r["id"] for r, o in members if o is source))
                counts["twin settings"] += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inferencex", required=True, help="git checkout of SemiAnalysisAI/InferenceX")
    ap.add_argument("--srt-slurm", help="git checkout of NVIDIA/srt-slurm (the SGLang recipes' MoE all-to-all)")
    ap.add_argument("--silicon", required=True, help="train.csv")
    ap.add_argument("--out", required=True)
    ap.add_argument("--since", default="2025-10-01")
    ap.add_argument("--until", default="2026-04-30")
    ap.add_argument("--mtp-acceptance", type=float, default=MTP_ACCEPTANCE,
                    help="conditional acceptance written for every MTP draft token")
    a = ap.parse_args()

    ents = entries(a.inferencex, a.since, a.until)
    copies = recipe_copy_batches(a.inferencex)
    cols = ["id", "mtp_draft_tokens", "mtp_acceptance", "batch_size", "tp_size", "attention_dp_size", "moe_tp_size",
            "moe_ep_size", "prefill_num_workers",
            "prefill_tp_size", "prefill_attention_dp_size", "prefill_moe_tp_size", "prefill_moe_ep_size",
            "decode_num_workers", "decode_tp_size", "decode_attention_dp_size",
            "decode_moe_tp_size", "decode_moe_ep_size", "sched_recv_interval", "adp_balance_timeout_iters",
            "max_num_tokens", "decode_max_batch_size", "moe_a2a_backend", "random_range_ratio", "inferencex_config"]
    recs, rows, counts = {}, [], {"rows": 0, "matched": 0, "mtp known": 0, "with mtp": 0, "layout": 0,
                                  "agg layout": 0, "recv interval": 0, "adp balance": 0, "ep over tp": 0,
                                  "budget": 0, "decode max batch": 0, "twin deployment": 0, "twin settings": 0,
                                  "twin conflicts": 0, "a2a": 0, "config no mtp": 0}
    scripts, a2a_recipes = {}, {}
    a2a_ref = srt_slurm_ref(a.srt_slurm) if a.srt_slurm else None
    for row in csv.DictReader(open(a.silicon, newline="")):
        src = row["silicon_data_source"]
        if not ((src.startswith("source_file=20") and "wip=" in src) or src.startswith("db-dump/")):
            continue
        counts["rows"] += 1
        rows.append(row)
        recs[row["id"]] = {"id": row["id"], "random_range_ratio": BENCHMARK_RANGE_RATIO}
        found = [e for e in ents if matches(row, e)]
        if not found:
            continue
        counts["matched"] += 1
        rec = recs[row["id"]]
        drafts = {draft_tokens(e) for e in found}
        if len(drafts) == 1 and None not in drafts:
            n = drafts.pop()
            rec["mtp_draft_tokens"] = n
            rec["mtp_acceptance"] = ",".join([f"{a.mtp_acceptance:g}"] * n)
            counts["mtp known"] += 1
            counts["with mtp"] += n > 0
        # The database dump records its worker counts and disaggregated layouts itself (kept); its
        # multiplied aggregated layouts are rewritten below like the exports', and the MTP and
        # scheduler settings it leaves out are added.
        dump = src.startswith("db-dump/")
        ran = {} if row["mode"] != "agg" else {id(e): launch_scripts(a.inferencex, e, scripts) for e in found}
        if row["mode"] == "agg":
            # Only rows recorded in one of the wrong encodings (exports and dump) are rewritten.
            lay = {(e["tp"], e["ep"] or 1, e["dp"]) for e in found}
            if len(lay) == 1:
                tp, ep, dp = lay.pop()
                if recorded_agg_layout(row) != encodings(tp, ep, dp, row)[0]:
                    conc = int(field(row["silicon_data_source"], "silicon_concurrency"))
                    rec.update(layout("", tp, ep, dp))
                    rec["batch_size"] = -(-conc // tp) if dp else conc
                    counts["agg layout"] += 1
        if row["mode"] == "agg" and all(sglang_ep_over_tp(ran[id(e)], e) for e in found):
            # The config gives no ep, the script ran the experts over the TP group: a layout the
            # row (export or dump) records as moe_ep 1.
            tp = int(rec.get("tp_size") or row["tp_size"] or 1)
            if int(rec.get("moe_ep_size") or row["moe_ep_size"] or 1) != tp:
                rec.update(moe_tp_size=1, moe_ep_size=tp)
                counts["ep over tp"] += 1
        if row["mode"] == "agg":
            # Scheduler settings from the launch scripts, where every matching entry's scripts agree.
            conc = int(field(row["silicon_data_source"], "silicon_concurrency"))
            agreed = agreed_scheduler_settings([(e, ran[id(e)]) for e in found], conc)
            for col, label in (("sched_recv_interval", "recv interval"), ("adp_balance_timeout_iters", "adp balance"),
                               ("max_num_tokens", "budget")):
                if col in agreed:
                    rec[col] = agreed[col]
                    counts[label] += 1
        if row["mode"] == "disagg" and not dump:
            lay = {(e["pw"], e["ptp"], e["pep"], e["pdp"], e["dw"], e["dtp"], e["dep"], e["ddp"]) for e in found}
            if len(lay) == 1:
                pw, ptp, pep, pdp, dw, dtp, dep, ddp = lay.pop()
                if pw and dw and ptp and dtp:
                    rec.update(prefill_num_workers=pw, decode_num_workers=dw)
                    rec.update(layout("prefill_", ptp, pep, pdp))
                    rec.update(layout("decode_", dtp, dep, ddp))
                    counts["layout"] += 1
        if (row["mode"] == "disagg" and (rec.get("decode_num_workers") or row["decode_num_workers"])
                and (rec.get("prefill_num_workers") or row["prefill_num_workers"])):
            # A scheduler setting the dump leaves out too, where every matching recipe names one. Only
            # with the deployment's worker counts: slots per rank without the number of ranks would
            # make a derived deployment queue.
            batches = {decode_max_batch(e, copies) for e in found}
            if len(batches) == 1 and None not in batches:
                rec["decode_max_batch_size"] = batches.pop()
                counts["decode max batch"] += 1
        if row["backend"] == "sglang":
            backends = {srt_slurm_a2a_backend(a.srt_slurm, e, a2a_recipes, a2a_ref) for e in found}
            if len(backends) == 1 and None not in backends:
                rec["moe_a2a_backend"] = backends.pop()
                counts["a2a"] += 1
        rec["inferencex_config"] = ";".join(sorted({f"{e['name']}@{e['commit']}" + (f":{e['recipe'].rsplit('/', 1)[-1]}"
                                                                                      if e["recipe"] else "")
                                                     for e in found}))
    share_no_mtp_by_config(rows, recs, counts)
    complete_twins(rows, recs, counts)
    written = 0
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for row in rows:  # in train.csv's order, rows that gained a field
            rec = dict(recs.get(row["id"], {}))
            if "twin" in rec:
                rec["inferencex_config"] = ";".join(filter(None, (rec.get("inferencex_config"), f"twin={rec['twin']}")))
            if any(rec.get(c, "") != "" for c in cols if c not in ("id", "inferencex_config")):
                w.writerow({c: rec.get(c, "") for c in cols})
                written += 1
    print(f"{counts['rows']} InferenceX rows, {counts['matched']} matched a config entry; MTP known for "
          f"{counts['mtp known']} ({counts['with mtp']} with MTP), no MTP by config id for {counts['config no mtp']}; agg layout corrected for {counts['agg layout']}; "
          f"disagg layout and workers for {counts['layout']}; SGLang --enable-ep-moe layout for "
          f"{counts['ep over tp']}; scheduler receive interval for "
          f"{counts['recv interval']}, attention-DP balance timeout for {counts['adp balance']}, token budget for "
          f"{counts['budget']}; decode max batch for {counts['decode max batch']}; MoE all-to-all for {counts['a2a']}; twins (one run recorded twice): "
          f"deployment for {counts['twin deployment']}, {counts['twin settings']} settings shared, "
          f"{counts['twin conflicts']} disagreements dropped; {written} rows written to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
