#!/usr/bin/python3
"""Unit tests of what inferencex_recipes.py reads from launch scripts (no InferenceX checkout needed:
the scripts are written here, in the shapes InferenceX uses, and the legacy-name lookup runs on a
throwaway git repository).

    /usr/bin/python3 tools/silicon_recipes/test_inferencex_recipes.py   # or ctest -R silicon_recipes_tool
(exits 77, skipped, without PyYAML)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    import yaml  # noqa: F401  (the tool needs PyYAML)
except ImportError:
    print("skipped: PyYAML is not installed (Debian: python3-yaml)")
    sys.exit(77)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inferencex_recipes as ir  # noqa: E402

TRT_MTP = """#!/usr/bin/env bash
source "$(dirname "$0")/../benchmark_lib.sh"
if [[ -n "$SLURM_JOB_ID" ]]; then
  echo "JOB $SLURM_JOB_ID running on $SLURMD_NODENAME"
fi
hf download "$MODEL"
PIECEWISE_CUDA_GRAPHS="false"
MAX_BATCH_SIZE=$CONC
MTP=3
if [[ "$DP_ATTENTION" == "true" ]]; then
    MAX_BATCH_SIZE=$(( CONC < 4 ? CONC : CONC / 4 ))
    MTP=1
fi
cat > $EXTRA_CONFIG_FILE << EOF
cuda_graph_config:
    max_batch_size: $MAX_BATCH_SIZE
EOF
MAX_NUM_TOKENS=$(( ((MTP+1)*MAX_BATCH_SIZE+ISL+64+63)/64*64 ))
if [[ "$PIECEWISE_CUDA_GRAPHS" == "true" ]]; then
    capture_tokens+=( $(seq 256 256 $MAX_NUM_TOKENS))
fi  # end of piecewise
if [ "${EVAL_ONLY}" = "true" ]; then
    MAX_NUM_TOKENS="$EVAL_MAX_MODEL_LEN"
fi
mpirun -n 1 trtllm-serve $MODEL --port=$PORT \\
    --max_batch_size=$MAX_BATCH_SIZE \\
    --max_num_tokens=$MAX_NUM_TOKENS \\
    --tp_size=$TP --ep_size=$EP_SIZE > $SERVER_LOG 2>&1 &
SERVER_PID=$!
"""

TRT_FLOORED = """MAX_NUM_TOKENS=$(( ($CONC+$ISL+64+63)/64*64 ))
MAX_MODEL_LEN=$(( MAX_MODEL_LEN > 8192 ? MAX_MODEL_LEN : 8192 ))
MAX_NUM_TOKENS=$(( MAX_NUM_TOKENS > 8192 ? MAX_NUM_TOKENS : 8192 ))
trtllm-serve $MODEL --max_num_tokens=$MAX_NUM_TOKENS --max_seq_len=$MAX_MODEL_LEN
"""

VLLM = """vllm serve $MODEL --port $PORT \\
--max-num-batched-tokens "$((ISL * 2 ))" \\
--stream-interval 20 > $SERVER_LOG 2>&1 &
"""

SGLANG_BY_TP = """if [[ $TP -eq 8 ]]; then
  if [[ $CONC -ge 16 ]]; then
    SCHEDULER_RECV_INTERVAL=30
  else
    SCHEDULER_RECV_INTERVAL=10
  fi
  CHUNKED_PREFILL_SIZE=32768
elif [[ $TP -eq 4 ]]; then
  if [[ $ISL -ne 8192 ]] || [[ $OSL -ne 1024 ]]; then
    echo "unsupported"
  fi
  CHUNKED_PREFILL_SIZE=8192
else
  echo "TP $TP not supported"; exit 1
fi
python3 -m sglang.launch_server --model-path $MODEL --chunked-prefill-size $CHUNKED_PREFILL_SIZE \\
  --scheduler-recv-interval $SCHEDULER_RECV_INTERVAL
"""


def entry(name, tp=8, ep=None, dp=False, isl=1024, osl=1024, spec="none", precision="fp4", commit="HEAD", recipe=""):
    return dict(name=name, tp=tp, ep=ep, dp=dp, isl=isl, osl=osl, spec=spec, precision=precision, commit=commit,
                recipe=recipe)


class ScriptBudgetTest(unittest.TestCase):
    def test_trt_mtp_budget_follows_the_scripts_formula_per_branch(self):
        # (MTP+1) * max batch + ISL + 127, rounded down to 64: 4*128 + 1024 + 127 = 1663 -> 1600.
        self.assertEqual(ir.script_budget(TRT_MTP, entry("dsr1-fp4-b200-trt-mtp"), 128), 1600)
        # Attention DP: max batch CONC/4 = 64, MTP 1: 2*64 + 1024 + 127 = 1279 -> 1216.
        self.assertEqual(ir.script_budget(TRT_MTP, entry("dsr1-fp4-b200-trt-mtp", dp=True), 256), 1216)
        self.assertEqual(ir.script_budget(TRT_MTP, entry("dsr1-fp4-b200-trt-mtp", isl=8192), 4), 8320)

    def test_floor_applies_and_an_unrelated_max_model_len_does_not_matter(self):
        self.assertEqual(ir.script_budget(TRT_FLOORED, entry("dsr1-fp4-b200-trt"), 64), 8192)
        self.assertEqual(ir.script_budget(TRT_FLOORED, entry("dsr1-fp4-b200-trt", isl=8192), 64), 8320)

    def test_a_variable_the_workflow_does_not_set_makes_it_unknown(self):
        script = TRT_MTP.replace('PIECEWISE_CUDA_GRAPHS="false"\n', "")
        self.assertIsNone(ir.script_budget(script, entry("dsr1-fp4-b200-trt-mtp"), 128))

    def test_a_budget_computed_from_max_model_len_is_unknown(self):
        # The workflow's MAX_MODEL_LEN changed between ISL+OSL+200 and +256.
        script = "MAX_NUM_TOKENS=$MAX_MODEL_LEN\ntrtllm-serve x --max_num_tokens=$MAX_NUM_TOKENS\n"
        self.assertIsNone(ir.script_budget(script, entry("dsr1-fp4-b200-trt"), 64))

    def test_vllm_inline_arithmetic_and_sglang_tp_branches(self):
        self.assertEqual(ir.script_budget(VLLM, entry("minimaxm2.5-fp8-b200-vllm", tp=2), 64), 2048)
        self.assertEqual(ir.script_budget(VLLM, entry("minimaxm2.5-fp8-b200-vllm", tp=2, isl=8192), 64), 16384)
        self.assertEqual(ir.script_budget(SGLANG_BY_TP, entry("dsr1-fp8-b200-sglang"), 64), 32768)
        self.assertEqual(ir.script_budget(SGLANG_BY_TP, entry("dsr1-fp8-b200-sglang", tp=4, isl=8192), 64), 8192)
        # The else branch exits: no budget for a TP the script does not support.
        self.assertIsNone(ir.script_budget(SGLANG_BY_TP, entry("dsr1-fp8-b200-sglang", tp=2), 64))

    def test_literal_absent_ambiguous_and_foreign_flags(self):
        lit = "python3 -m sglang.launch_server --chunked-prefill-size 16384 --tp $TP\n"
        self.assertEqual(ir.script_budget(lit, entry("dsr1-fp4-b200-sglang"), 4), 16384)
        self.assertIsNone(ir.script_budget("vllm serve $MODEL --port $PORT\n", entry("kimik2.5-fp4-b300-vllm"), 4))
        two = "vllm serve a --max-num-batched-tokens 4096\nvllm serve b --max-num-batched-tokens 8192\n"
        self.assertIsNone(ir.script_budget(two, entry("kimik2.5-fp4-b300-vllm"), 4))
        # A vLLM flag in an SGLang entry's script is not its budget.
        self.assertIsNone(ir.script_budget(VLLM, entry("dsr1-fp8-b200-sglang"), 4))

    def test_nothing_in_a_script_is_run_as_a_command(self):
        with tempfile.TemporaryDirectory() as tmp:
            marker = os.path.join(tmp, "ran")
            attacks = [
                # process substitution inside a kept test
                f"if [[ -n <(touch {marker}) ]]; then\n  B=1\nfi\nMAX_NUM_TOKENS=$B\n",
                # an array subscript assembled from two values, reached by arithmetic in a test
                f"X='CONC[$'\nY='(touch {marker})]'\nZ=\"$X$Y\"\nif [[ $Z -gt 0 ]]; then\n  B=1\nfi\n",
                # a command name on a kept-looking line
                f"B=touch\nif [[ 1 -eq 1 ]]; then\n  $B {marker}\nfi\n",
            ]
            for attack in attacks:
                script = attack + "MAX_NUM_TOKENS=8192\ntrtllm-serve x --max_num_tokens=$MAX_NUM_TOKENS\n"
                ir.script_budget(script, entry("dsr1-fp4-b200-trt"), 4)
                self.assertFalse(os.path.exists(marker), attack)

    def test_assignments_the_evaluation_cannot_follow_make_it_unknown(self):
        tail = "trtllm-serve x --max_num_tokens=$B\n"
        for script in ["B=4096\nif [[ $CONC -ge 2 ]]; then B=8192; fi\n",
                       "B=4096\n[[ $CONC -ge 2 ]] && B=8192\n",
                       "B=4096\nexport B=8192\n"]:
            self.assertIsNone(ir.script_budget(script + tail, entry("dsr1-fp4-b200-trt"), 4), script)
        # A shift is arithmetic, not a heredoc.
        self.assertEqual(ir.script_budget("B=$(( 1 << 13 ))\n" + tail, entry("dsr1-fp4-b200-trt"), 4), 8192)
        # A flag kept in a variable, or in a comment, is not the launch command's.
        hidden = ('if [[ $ISL -eq 8192 ]]; then\n  EXTRA="--chunked-prefill-size 16384"\nfi\n'
                  "python3 -m sglang.launch_server $EXTRA\n")
        self.assertIsNone(ir.script_budget(hidden, entry("dsr1-fp4-b200-sglang"), 4))
        commented = "python3 -m sglang.launch_server --tp 8  # --chunked-prefill-size 4096\n"
        self.assertIsNone(ir.script_budget(commented, entry("dsr1-fp4-b200-sglang"), 4))

    def test_values_from_commands_are_never_run(self):
        script = ("N=$(cat /etc/hostname)\nMAX_NUM_TOKENS=$(( N + 1 ))\n"
                  "trtllm-serve x --max_num_tokens=$MAX_NUM_TOKENS\n")
        self.assertIsNone(ir.script_budget(script, entry("dsr1-fp4-b200-trt"), 4))
        looped = "for x in 1 2; do\n  MAX_NUM_TOKENS=4096\ndone\ntrtllm-serve x --max_num_tokens=$MAX_NUM_TOKENS\n"
        self.assertIsNone(ir.script_budget(looped, entry("dsr1-fp4-b200-trt"), 4))


class RecipeNameTest(unittest.TestCase):
    def test_decode_max_batch_comes_from_srt_slurm_trtllm_recipe_names_only(self):
        def batch(name, copies=None, entry_name="dsr1-fp4-b200-dynamo-trt"):
            return ir.decode_max_batch(dict(name=entry_name, recipe="recipes/trtllm/b200-fp4/1k1k/mtp/" + name), copies)
        self.assertEqual(batch("ctx1_gen5_tep8_batch1_eplb0_mtp3.yaml"), 1)
        self.assertEqual(batch("ctx2_gen1_dep32_batch64_eplb0_mtp0.yaml"), 64)
        self.assertEqual(batch("ctx1dep4_gen4tep8_batch16_allconc_eplb0_mtp0.yaml"), 16)
        self.assertIsNone(batch("low-latency.yaml"))
        self.assertIsNone(batch("disagg-gb200-1p1d-dep4-dep16.yaml"))
        self.assertIsNone(batch("ctx1_gen1_dep8_batch0_eplb0_mtp0.yaml"))
        self.assertIsNone(ir.decode_max_batch(dict(name="dsr1-fp4-b200-dynamo-trt", recipe="")))
        # Only TensorRT-LLM entries; and a copy of the recipe that says otherwise makes it unknown.
        self.assertIsNone(batch("ctx1_gen5_tep8_batch1_eplb0_mtp3.yaml", entry_name="dsr1-fp4-b200-dynamo-sglang"))
        copies = {"ctx1_gen5_tep8_batch8_eplb0_mtp0.yaml": {16}, "ctx1_gen5_tep8_batch1_eplb0_mtp3.yaml": {1}}
        self.assertIsNone(batch("ctx1_gen5_tep8_batch8_eplb0_mtp0.yaml", copies))
        self.assertEqual(batch("ctx1_gen5_tep8_batch1_eplb0_mtp3.yaml", copies), 1)


def silicon_row(row_id, source, mode="disagg", ttft="1234.5678", tpot="12.345678", conc=64, **cols):
    row = {c: "" for c in ir.DEPLOYMENT + ("tp_size", "attention_dp_size", "moe_ep_size")}
    row.update(id=row_id, system="h200_sxm", backend="trtllm", mode=mode, precision="fp8", isl="1024",
               osl="1024", silicon_ttft_ms=ttft, silicon_tpot_ms=tpot,
               silicon_data_source=f"{source}; silicon_concurrency={conc}; measured=x")
    row.update({k: str(v) for k, v in cols.items()})
    return row


def counts():
    return {"twin deployment": 0, "twin settings": 0, "twin conflicts": 0}


class TwinsTest(unittest.TestCase):
    """Rows of the exports and of the dump that are one benchmark run (same measurements)."""
    DUMP_DEPLOYMENT = dict(prefill_num_workers=1, prefill_tp_size=8, prefill_attention_dp_size=1,
                           prefill_moe_tp_size=1, prefill_moe_ep_size=8, decode_num_workers=9, decode_tp_size=8,
                           decode_attention_dp_size=1, decode_moe_tp_size=1, decode_moe_ep_size=8)

    def test_an_export_row_takes_the_dump_twins_deployment_and_settings_flow_both_ways(self):
        export = silicon_row("e", "source_file=2026-03-25.csv", decode_tp_size=8)
        dump = silicon_row("d", "db-dump/2026-04-27; config_id=1", **self.DUMP_DEPLOYMENT)
        other = silicon_row("o", "db-dump/2026-04-27; config_id=2", tpot="12.34571", **self.DUMP_DEPLOYMENT)
        recs = {"e": {"id": "e", "mtp_draft_tokens": 3, "mtp_acceptance": "0.7,0.7,0.7"},
                "d": {"id": "d", "decode_max_batch_size": 8}}
        c = counts()
        ir.complete_twins([export, dump, other], recs, c)
        self.assertEqual(recs["e"]["decode_num_workers"], "9")
        self.assertEqual(recs["e"]["prefill_moe_ep_size"], "8")
        self.assertEqual(recs["e"]["twin"], "d")
        self.assertEqual(recs["e"]["decode_max_batch_size"], 8)  # its workers are now known
        self.assertEqual((recs["d"]["mtp_draft_tokens"], recs["d"]["mtp_acceptance"]), (3, "0.7,0.7,0.7"))
        self.assertNotIn("o", recs)  # TPOT 30 ns apart: another run
        self.assertEqual(c, {"twin deployment": 1, "twin settings": 2, "twin conflicts": 0})

    def test_the_dump_twins_deployment_wins_over_what_the_config_entries_gave(self):
        export = silicon_row("e", "source_file=2026-04-06.csv", prefill_tp_size=1, decode_tp_size=1)
        dump = silicon_row("d", "db-dump/2026-04-27; config_id=1", **self.DUMP_DEPLOYMENT)
        recs = {"e": dict({"id": "e"}, **{c: 1 for c in ir.DEPLOYMENT})}
        ir.complete_twins([export, dump], recs, counts())
        self.assertEqual(recs["e"]["decode_num_workers"], "9")
        self.assertEqual(recs["e"]["prefill_moe_ep_size"], "8")

    def test_figures_printed_to_different_last_digits_are_one_run(self):
        export = silicon_row("e", "source_file=2026-03-25.csv", ttft="496.10784111064277")
        dump = silicon_row("d", "db-dump/2026-04-27; config_id=1", ttft="496.1078411106428", **self.DUMP_DEPLOYMENT)
        empty = silicon_row("x", "db-dump/2026-04-27; config_id=2", ttft="", **self.DUMP_DEPLOYMENT)
        recs = {}
        ir.complete_twins([export, dump, empty], recs, counts())
        self.assertEqual(recs["e"]["decode_num_workers"], "9")
        self.assertNotIn("x", recs)  # a row without measurements is nobody's twin

    def test_disagreeing_twins_keep_neither_value_and_workers_gate_the_decode_batch(self):
        export = silicon_row("e", "source_file=2026-04-06.csv")
        export2 = silicon_row("e2", "source_file=2026-03-25.csv")
        recs = {"e": {"id": "e", "sched_recv_interval": 30, "decode_max_batch_size": 4},
                "e2": {"id": "e2", "sched_recv_interval": 10}}
        c = counts()
        ir.complete_twins([export, export2], recs, c)
        self.assertNotIn("sched_recv_interval", recs["e"])
        self.assertNotIn("sched_recv_interval", recs["e2"])
        # No dump row, so no deployment: the decode batch is not given to a row without workers.
        self.assertNotIn("decode_max_batch_size", recs["e2"])
        self.assertEqual(c["twin conflicts"], 1)
        # Two dump rows of one run: neither deployment is copied (which one would be the run's?).
        dumps = [silicon_row(i, "db-dump/x", **self.DUMP_DEPLOYMENT) for i in ("d1", "d2")]
        recs = {}
        ir.complete_twins([silicon_row("e", "source_file=2026-03-25.csv")] + dumps, recs, counts())
        self.assertNotIn("decode_num_workers", recs.get("e", {}))

    def test_the_dump_writes_aggregated_layouts_multiplied_like_the_april_export(self):
        dump = silicon_row("d", "db-dump/2026-04-27; config_id=3", mode="agg", tp_size=64, moe_ep_size=8)
        march = silicon_row("m", "source_file=2026-03-25.csv", mode="agg", tp_size=64, moe_ep_size=8)
        self.assertEqual(ir.encodings(8, 8, False, dump), [(8, 1, 8), (64, 1, 8)])
        self.assertEqual(ir.encodings(8, 8, True, dump), [(1, 8, 8), (1, 64, 8)])
        self.assertEqual(ir.encodings(8, 8, False, march), [(8, 1, 8)])
        vllm = dict(dump, backend="vllm")
        self.assertIn((4, 4, 16), ir.encodings(4, 4, False, vllm))


def commit_files(repo, files, date=None):
    """Writes {path: text} into the git repository `repo`, commits them (dated `date`, ISO 8601, if
    given), returns the short commit."""
    for path, text in files.items():
        os.makedirs(os.path.join(repo, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(repo, path), "w") as f:
            f.write(text)
    subprocess.run(["git", "-C", repo, "add", "-A"], check=True, capture_output=True)
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date) if date else None
    subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
                   check=True, capture_output=True, env=env)
    return ir.git(repo, "rev-parse", "--short", "HEAD").strip()


@unittest.skipUnless(shutil.which("git"), "git not installed")
class LegacyScriptsTest(unittest.TestCase):
    def test_docker_and_slurm_variants_are_read_and_must_agree(self):
        with tempfile.TemporaryDirectory() as repo:
            def commit(files):
                return commit_files(repo, files)

            subprocess.run(["git", "init", "-q", repo], check=True, capture_output=True)
            docker = ("python3 -m sglang.launch_server --enable-ep-moe --chunked-prefill-size 16384 "
                      "--scheduler-recv-interval 30\n")
            c1 = commit({"benchmarks/dsr1_fp4_b200_docker.sh": docker})
            e = entry("dsr1-fp4-b200-sglang", tp=4, commit=c1)
            scripts = ir.launch_scripts(repo, e, {})
            self.assertEqual(scripts, [docker])
            self.assertTrue(ir.sglang_ep_over_tp(scripts, e))
            self.assertEqual(ir.scheduler_settings(scripts[0], e, 64),
                             {"sched_recv_interval": 30, "max_num_tokens": 16384})
            # A commented-out flag is not one.
            self.assertFalse(ir.sglang_ep_over_tp(["python3 -m sglang.launch_server --tp 4  # --enable-ep-moe\n"], e))
            # A config that gives ep, or runs attention DP, is not rewritten.
            self.assertFalse(ir.sglang_ep_over_tp(scripts, entry("dsr1-fp4-b200-sglang", tp=4, ep=4)))
            self.assertFalse(ir.sglang_ep_over_tp(scripts, entry("dsr1-fp4-b200-sglang", tp=4, dp=True)))

            # Both variants present: both are returned (callers keep only what they agree on).
            slurm = docker.replace("--enable-ep-moe ", "")
            c2 = commit({"benchmarks/dsr1_fp4_b200_slurm.sh": slurm})
            e2 = entry("dsr1-fp4-b200-sglang", tp=4, commit=c2)
            scripts = ir.launch_scripts(repo, e2, {})
            self.assertEqual(sorted(scripts), sorted([docker, slurm]))
            self.assertFalse(ir.sglang_ep_over_tp(scripts, e2))

            # Where the variants disagree, neither value is used; where they agree, it is.
            e2.update(name="dsr1-fp4-b200-sglang")
            slurm_other = slurm.replace("--scheduler-recv-interval 30", "--scheduler-recv-interval 10")
            self.assertEqual(ir.agreed_scheduler_settings([(e2, [docker, slurm_other])], 64), {"max_num_tokens": 16384})
            self.assertEqual(ir.agreed_scheduler_settings([(e2, [docker, slurm])], 64),
                             {"sched_recv_interval": 30, "max_num_tokens": 16384})
            self.assertEqual(ir.agreed_scheduler_settings([(e2, [docker]), (e2, [])], 64), {})

            # The one-script name wins over the legacy variants once it exists.
            current = "python3 -m sglang.launch_server --scheduler-recv-interval 10\n"
            c3 = commit({"benchmarks/single_node/dsr1_fp4_b200.sh": current})
            self.assertEqual(ir.launch_scripts(repo, entry("dsr1-fp4-b200-sglang", commit=c3), {}), [current])
            # Multi-node (dynamo) entries have no single-node script.
            self.assertEqual(ir.launch_scripts(repo, entry("dsr1-fp4-b200-dynamo-sglang", commit=c3), {}), [])



SGLANG_RECIPE = """
resources:
  gpus_per_node: 4
backend:
  sglang_config:
    prefill:
      tp-size: 4
      dp-size: 4
      ep-size: 4
      enable-dp-attention: true
    decode:
      tp-size: 32
      dp-size: 32
      ep-size: 32
      enable-dp-attention: true
      moe-a2a-backend: "deepep"
      deepep-mode: "low_latency"
"""


class MoeAllToAllTest(unittest.TestCase):
    """The MoE all-to-all of srt-slurm SGLang recipes (only workers whose experts span nodes count)."""

    def test_the_workers_whose_experts_span_nodes_name_it(self):
        doc = yaml.safe_load(SGLANG_RECIPE)
        # The prefill's experts stay in one 4-GPU node: its default gather does not count.
        self.assertEqual(ir.recipe_a2a_backend(doc), "deepep")
        doc["backend"]["sglang_config"]["prefill"]["ep-size"] = 8
        self.assertIsNone(ir.recipe_a2a_backend(doc))  # the prefill now spans nodes and gathers: they disagree
        doc["backend"]["sglang_config"]["prefill"]["enable-deepep-moe"] = True  # the older flag
        self.assertEqual(ir.recipe_a2a_backend(doc), "deepep")
        doc["backend"]["sglang_config"]["decode"]["moe-a2a-backend"] = "none"
        self.assertIsNone(ir.recipe_a2a_backend(doc))
        del doc["backend"]["sglang_config"]["prefill"]
        self.assertEqual(ir.recipe_a2a_backend(doc), "none")
        # Tensor-parallel workers, or a recipe without the node size: nothing to say.
        doc["backend"]["sglang_config"]["decode"]["enable-dp-attention"] = False
        self.assertIsNone(ir.recipe_a2a_backend(doc))
        self.assertIsNone(ir.recipe_a2a_backend({"backend": yaml.safe_load(SGLANG_RECIPE)["backend"]}))
        self.assertIsNone(ir.recipe_a2a_backend(None))

    @unittest.skipUnless(shutil.which("git"), "git not installed")
    def test_every_version_of_the_recipe_must_agree(self):
        with tempfile.TemporaryDirectory() as repo:
            path = "recipes/gb200-fp8/1k1k/max-tpt.yaml"

            def commit(text):
                commit_files(repo, {path: text})

            subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True, capture_output=True)
            e = entry("dsr1-fp8-gb200-dynamo-sglang", recipe=path)
            commit(SGLANG_RECIPE)
            self.assertEqual(ir.srt_slurm_ref(repo, "main"), "main")
            with self.assertRaises(SystemExit):
                ir.srt_slurm_ref(repo, "sa-submission-q2-2026")
            # A fresh clone holds the branches other than the checked-out one under origin/.
            subprocess.run(["git", "-C", repo, "branch", "sa-submission-q2-2026"], check=True, capture_output=True)
            with tempfile.TemporaryDirectory() as clone:
                subprocess.run(["git", "clone", "-q", repo, clone], check=True, capture_output=True)
                self.assertEqual(ir.srt_slurm_ref(clone, "sa-submission-q2-2026"), "origin/sa-submission-q2-2026")
            self.assertEqual(ir.srt_slurm_a2a_backend(repo, e, {}, ref="main"), "deepep")
            commit(SGLANG_RECIPE.replace('"deepep"', '"none"'))
            self.assertIsNone(ir.srt_slurm_a2a_backend(repo, e, {}, ref="main"))
            # Only SGLang entries with a srt-slurm recipe, and only with a checkout.
            self.assertIsNone(ir.srt_slurm_a2a_backend(repo, entry("dsr1-fp8-gb200-dynamo-trt", recipe=path), {},
                                                       ref="main"))
            self.assertIsNone(ir.srt_slurm_a2a_backend(None, e, {}, ref="main"))
            self.assertIsNone(ir.srt_slurm_a2a_backend(repo, entry("dsr1-fp8-gb200-dynamo-sglang", recipe=""), {},
                                                       ref="main"))


def master_config(*entries_by_name):
    """A nvidia-master.yaml holding one aggregated 1k/1k TP8 search-space entry per (name, conc-list)."""
    return yaml.safe_dump({name: {"image": "img:1", "precision": "fp8", "seq-len-configs": [
        {"isl": 1024, "osl": 1024, "search-space": [{"tp": 8, "conc-list": concs}]}]}
        for name, concs in entries_by_name})


class RunDatesTest(unittest.TestCase):
    """Which config entries could have run a measured row, by when each was first committed."""

    @unittest.skipUnless(shutil.which("git"), "git not installed")
    def test_an_entry_is_dated_by_the_oldest_commit_holding_it_and_named_by_the_newest(self):
        with tempfile.TemporaryDirectory() as repo:
            subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True, capture_output=True)
            path = ir.CONFIG_PATHS[0]
            a = master_config(("dsr1-fp8-b200-trt", [4, 8]))
            first = commit_files(repo, {path: a}, "2026-01-05T10:00:00+00:00")
            commit_files(repo, {path: master_config(("dsr1-fp8-b200-trt", [4, 8]), ("dsr1-fp8-b200-trt-mtp", [4]))},
                         "2026-02-01T10:00:00+00:00")
            last = commit_files(repo, {path: a}, "2026-03-01T10:00:00+00:00")  # the MTP entry removed again
            found = {e["name"]: e for e in ir.entries(repo, "2025-12-01", "2026-04-30")}
            self.assertEqual(found["dsr1-fp8-b200-trt"]["first"], ir.datetime.fromisoformat("2026-01-05T10:00:00+00:00"))
            self.assertEqual(found["dsr1-fp8-b200-trt"]["commit"], last)  # the revert is parsed once, dated twice
            self.assertNotEqual(first, last)
            self.assertEqual(found["dsr1-fp8-b200-trt-mtp"]["first"],
                             ir.datetime.fromisoformat("2026-02-01T10:00:00+00:00"))

    def test_an_entry_committed_weeks_after_the_measurement_did_not_run_it(self):
        e = dict(entry("dsr1-fp8-b200-trt-mtp"), first=ir.datetime.fromisoformat("2026-01-14T09:00:00+00:00"))
        def row(source):
            return {"silicon_data_source": source}
        export = "source_file=2026-03-25.csv; model=DeepSeek-R1; silicon_concurrency=4; measured={}; wip={}"
        self.assertTrue(ir.could_have_run(row(export.format("2026-01-20T08:00:00Z", "False")), e))
        self.assertTrue(ir.could_have_run(row(export.format("2026-01-07T09:00:00Z", "False")), e))  # a branch run
        self.assertFalse(ir.could_have_run(row(export.format("2026-01-07T08:59:59Z", "False")), e))
        self.assertTrue(ir.could_have_run(row(export.format("2025-11-02T00:00:00Z", "True")), e))  # work in progress
        # The dump gives days (midnight): its run may have been at any hour of that day.
        dump = "db-dump/2026-04-27; config_id=75; silicon_concurrency=16; measured={}; workflow_run_id=101"
        self.assertTrue(ir.could_have_run(row(dump.format("2026-01-07T00:00:00.000Z")), e))
        self.assertFalse(ir.could_have_run(row(dump.format("2026-01-06T00:00:00.000Z")), e))
        april = "source_file=2026-04-06.csv; model=DeepSeek-R1; silicon_concurrency=4; measured={}; wip=False"
        self.assertTrue(ir.could_have_run(row(april.format("2026-01-07T00:00:00.000Z")), e))  # a day, as the dump
        self.assertTrue(ir.could_have_run(row(dump.format("x")), e))  # no date: nothing to judge
        self.assertTrue(ir.could_have_run(row(dump.format("2025-01-01T00:00:00.000Z")), entry("no-date")))


class ConfigIdTest(unittest.TestCase):
    def test_the_dump_rows_of_a_config_without_mtp_all_ran_without(self):
        rows = [silicon_row(i, f"db-dump/2026-04-27; config_id={c}") for i, c in
                (("a", 75), ("b", 75), ("c", 75), ("d", 91), ("e", 91), ("f", 92), ("g", 92))]
        rows.append(silicon_row("x", "source_file=2026-03-25.csv"))  # an export row has no config id
        recs = {"a": {"id": "a", "mtp_draft_tokens": 0, "mtp_acceptance": ""}, "b": {"id": "b"},
                "d": {"id": "d", "mtp_draft_tokens": 0}, "e": {"id": "e", "mtp_draft_tokens": 3},
                "f": {"id": "f", "mtp_draft_tokens": 3}, "x": {"id": "x"}}
        c = {"config no mtp": 0}
        ir.share_no_mtp_by_config(rows, recs, c)
        self.assertEqual((recs["b"]["mtp_draft_tokens"], recs["b"]["mtp_acceptance"]), (0, ""))
        self.assertEqual(recs["c"]["mtp_draft_tokens"], 0)  # a row no entry matched too
        self.assertEqual(recs["e"]["mtp_draft_tokens"], 3)  # a config whose rows disagree: left as it is
        self.assertNotIn("mtp_draft_tokens", recs["g"])  # a draft count is not shared
        self.assertNotIn("mtp_draft_tokens", recs["x"])
        self.assertEqual(c["config no mtp"], 2)


if __name__ == "__main__":
    unittest.main()
