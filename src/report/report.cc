#include "report/report.h"

#include <fmt/format.h>

#include "curves/svg_plot.h"

namespace dyprof {

namespace {

std::string Esc(const std::string& s) { return XmlEscape(s); }

void AddFrontier(PlotSpec& plot, const std::string& label, const std::vector<ConfigRow>& rows) {
  if (rows.empty()) return;
  PlotSeries s;
  s.label = label;
  for (const auto& r : rows) {
    s.x.push_back(r.tokens_per_s_per_user);
    s.y.push_back(r.tokens_per_s_per_gpu);
  }
  plot.series.push_back(std::move(s));
}

std::string SplitText(const ParallelSplit& s) {
  std::string t = fmt::format("tp{}", s.tp);
  if (s.pp > 1) t += fmt::format(" pp{}", s.pp);
  if (s.dp > 1) t += fmt::format(" dp{}", s.dp);
  if (s.moe_ep > 1) t += fmt::format(" ep{}", s.moe_ep);
  if (s.moe_tp > 1 && s.moe_tp != s.tp) t += fmt::format(" etp{}", s.moe_tp);
  return t;
}

std::string DecisionText(const Decision& d) {
  if (!d.produced) return "no configuration";
  if (!d.disagg)
    return fmt::format("{} aggregated: {} x{} replicas ({} GPUs), max batch {}", BackendName(d.backend),
                       SplitText(d.agg.split), d.agg.replicas, d.agg.NumGpus() * d.agg.replicas,
                       d.agg.max_batch_size);
  return fmt::format("{} disaggregated: {} prefill worker(s) {} + {} decode worker(s) {} ({} GPUs)",
                     BackendName(d.backend), d.prefill.replicas, SplitText(d.prefill.split), d.decode.replicas,
                     SplitText(d.decode.split),
                     d.prefill.NumGpus() * d.prefill.replicas + d.decode.NumGpus() * d.decode.replicas);
}

std::string Row(const std::vector<std::string>& cells, bool header = false) {
  std::string o = "<tr>";
  for (const auto& c : cells) o += header ? "<th>" + c + "</th>" : "<td>" + c + "</td>";
  return o + "</tr>\n";
}

const char* kStyle = R"(body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#1d2330;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #dde;padding-bottom:.2em}
.sub{color:#667}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:.8em}
.card{background:#f5f7fb;border-radius:8px;padding:.8em 1em}.card b{display:block;font-size:.8em;color:#667;text-transform:uppercase;letter-spacing:.04em}
.pick{background:#e8f5ec;border-left:4px solid #2e8b57;padding:.8em 1em;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{padding:.35em .6em;border-bottom:1px solid #e4e7ef;text-align:right}
th{cursor:pointer;background:#f0f2f8;user-select:none}td:first-child,th:first-child,td:nth-child(2),th:nth-child(2),td:nth-child(3),th:nth-child(3){text-align:left}
tr.chosen td{background:#e8f5ec;font-weight:600}.warn{background:#fff6e0;border-left:4px solid #e0a100;padding:.5em 1em;margin:.4em 0;border-radius:4px}
svg{max-width:100%;height:auto}code{background:#f0f2f8;padding:0 .3em;border-radius:3px})";

const char* kSortScript = R"(<script>
document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){
var t=th.closest('table'),b=t.tBodies[0],rows=Array.from(b.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
rows.sort(function(x,y){var a=x.cells[i].innerText,c=y.cells[i].innerText,na=parseFloat(a),nc=parseFloat(c);
var r=(!isNaN(na)&&!isNaN(nc))?na-nc:a.localeCompare(c);return asc?r:-r;});rows.forEach(function(r){b.appendChild(r);});});});
</script>)";

}  // namespace

std::string RenderParetoSvg(const StrategyOutcome& outcome, std::optional<double> itl_target_ms) {
  PlotSpec plot;
  plot.title = "Pareto frontier: throughput per GPU vs per user";
  plot.x_label = "tokens/s/user (1000 / ITL)";
  plot.y_label = "tokens/s/gpu";
  AddFrontier(plot, "agg", outcome.agg_pareto);
  AddFrontier(plot, "disagg", outcome.disagg_pareto);
  if (plot.series.empty()) return "";
  double y_max = 0;
  for (const auto& s : plot.series)
    for (double y : s.y) y_max = std::max(y_max, y);
  if (itl_target_ms && *itl_target_ms > 0) {
    PlotSeries sla;
    sla.label = fmt::format("SLA: ITL {} ms", *itl_target_ms);
    sla.x = {1000.0 / *itl_target_ms, 1000.0 / *itl_target_ms};
    sla.y = {0.0, y_max};
    plot.series.push_back(sla);
  }
  if (outcome.chosen) {
    PlotSeries pick;
    pick.label = "picked: " + outcome.chosen->Describe();
    pick.x = {outcome.chosen->tokens_per_s_per_user};
    pick.y = {outcome.chosen->tokens_per_s_per_gpu};
    plot.series.push_back(pick);
  }
  return RenderSvgPlot(plot);
}

std::string RenderReportHtml(const ReportInput& in) {
  const DgdrSpec& spec = *in.spec;
  const Decision& d = *in.decision;
  const WorkloadSpec w = spec.WorkloadOrDefault();
  const SlaSpec sla = spec.SlaOrDefault();
  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  o += "<title>dynamo-profiler report: " + Esc(spec.model) + "</title>\n<style>" + kStyle + "</style></head><body>\n";
  o += "<h1>Deployment profile: " + Esc(spec.model) + "</h1>\n";
  o += "<p class=\"sub\">dynamo-profiler report, generated " + Esc(in.generated_at) +
       fmt::format(" in {:.2f} s", in.elapsed_s) + "</p>\n";

  // The request.
  o += "<h2>Request</h2>\n<div class=\"grid\">\n";
  auto card = [&](const std::string& k, const std::string& v) {
    o += "<div class=\"card\"><b>" + Esc(k) + "</b>" + Esc(v) + "</div>\n";
  };
  const HardwareSpec hw = spec.hardware.value_or(HardwareSpec{});
  card("Model", spec.model);
  card("GPUs", fmt::format("{} x {} ({} per node)", hw.total_gpus.value_or(hw.num_gpus_per_node.value_or(0)),
                           hw.gpu_sku.value_or("?"), hw.num_gpus_per_node.value_or(0)));
  card("Backend", std::string(BackendName(spec.backend)));
  card("Workload", fmt::format("ISL {} / OSL {} tokens", w.isl, w.osl) +
                       (w.request_rate ? fmt::format(", {} req/s", *w.request_rate) : "") +
                       (w.concurrency ? fmt::format(", concurrency {}", *w.concurrency) : ""));
  std::string sla_text;
  if (sla.e2e_latency_ms) sla_text = fmt::format("end-to-end {} ms", *sla.e2e_latency_ms);
  else sla_text = fmt::format("TTFT {} ms, ITL {} ms", sla.ttft_ms.value_or(0), sla.itl_ms.value_or(0));
  card("SLA", sla_text);
  card("Search", std::string(SearchStrategyName(spec.search_strategy)) +
                     (in.outcome ? ", picking mode " + std::string(PickingModeName(in.outcome->mode)) : ""));
  o += "</div>\n";

  // The decision.
  o += "<h2>Decision</h2>\n<div class=\"pick\">\n<p><strong>" + Esc(DecisionText(d)) + "</strong></p>\n";
  if (d.naive) {
    o += "<p>The performance engine cannot model this request, so the configuration is the naive memory fit "
         "(smallest power-of-two tensor parallelism that holds 1.5 x the weights). <strong>The SLA is "
         "unverified.</strong></p>\n";
  } else if (in.outcome && in.outcome->chosen) {
    const StrategyOutcome& oc = *in.outcome;
    const ConfigRow& c = *oc.chosen;
    std::string why;
    switch (oc.mode) {
      case PickingMode::kDefault:
        why = fmt::format("Highest cluster throughput per GPU ({:.1f} tokens/s/gpu) among configurations meeting the "
                          "SLA within the GPU budget.",
                          c.tokens_per_s_per_gpu_cluster);
        break;
      case PickingMode::kLoadMatch:
        why = fmt::format("Fewest GPUs ({}) that serve the target load under the SLA ({:.1f}% of the load served).",
                          c.total_gpus_needed, c.load_served_pct);
        break;
      case PickingMode::kAutoscale:
        why = "Best prefill engine and best decode engine (one worker each) for the planner to scale; prefill TTFT "
              "includes the x1.8 queueing correction.";
        break;
    }
    o += "<p>" + Esc(why) + "</p>\n";
    if (oc.agg_best_throughput > 0 && oc.disagg_best_throughput > 0 && oc.mode == PickingMode::kDefault) {
      double ratio = oc.agg_best_throughput / oc.disagg_best_throughput;
      o += fmt::format("<p>Aggregated best {:.1f} vs disaggregated best {:.1f} tokens/s/gpu: {} {:.2f}x better.</p>\n",
                       oc.agg_best_throughput, oc.disagg_best_throughput, ratio >= 1 ? "agg" : "disagg",
                       ratio >= 1 ? ratio : 1 / ratio);
    }
    o += fmt::format(
        "<p>Predicted: TTFT <strong>{:.1f} ms</strong>, ITL <strong>{:.2f} ms</strong>, {:.1f} tokens/s/gpu, {:.1f} "
        "tokens/s/user, {:.2f} req/s per replica, {} replica(s). Efficiency source: {}.</p>\n",
        c.ttft_ms, c.tpot_ms, c.tokens_per_s_per_gpu, c.tokens_per_s_per_user, c.seq_per_s, c.replicas,
        Esc(oc.efficiency_source));
    if (c.ttft_factor != 1 || c.tpot_factor != 1)
      o += fmt::format("<p>Corrected by the silicon calibration of its measured family: TTFT x{:.3f}, ITL x{:.3f} "
                       "(the model alone: {:.1f} ms, {:.2f} ms).</p>\n",
                       c.ttft_factor, c.tpot_factor, c.ttft_ms / c.ttft_factor, c.tpot_ms / c.tpot_factor);
  }
  o += "</div>\n";

  if (!in.warnings.empty()) {
    o += "<h2>Warnings</h2>\n";
    for (const auto& wn : in.warnings) o += "<div class=\"warn\">" + Esc(wn) + "</div>\n";
  }

  if (in.outcome) {
    std::string svg = RenderParetoSvg(*in.outcome, sla.itl_ms);
    if (!svg.empty()) o += "<h2>Pareto frontier</h2>\n<div id=\"pareto\">" + svg + "</div>\n";

    std::vector<ConfigRow> rows = in.outcome->agg_top;
    rows.insert(rows.end(), in.outcome->disagg_top.begin(), in.outcome->disagg_top.end());
    if (!rows.empty()) {
      o += "<h2>Top candidates</h2>\n<p class=\"sub\">Best per parallel layout for each serving mode; click a "
           "header to sort.</p>\n<table class=\"sortable\" id=\"candidates\"><thead>\n";
      o += Row({"mode", "backend", "configuration", "tokens/s/gpu", "tokens/s/user", "TTFT (ms)", "ITL (ms)",
                "request latency (ms)", "req/s", "replicas", "GPUs"},
               true);
      o += "</thead><tbody>\n";
      for (const auto& r : rows) {
        bool chosen = in.outcome->chosen && r.Describe() == in.outcome->chosen->Describe() &&
                      r.backend == in.outcome->chosen->backend;
        o += chosen ? "<tr class=\"chosen\">" : "<tr>";
        for (const auto& cell :
             {std::string(r.disagg ? "disagg" : "agg"), std::string(BackendName(r.backend)), Esc(r.Describe()),
              fmt::format("{:.1f}", r.tokens_per_s_per_gpu_cluster), fmt::format("{:.1f}", r.tokens_per_s_per_user),
              fmt::format("{:.1f}", r.ttft_ms), fmt::format("{:.2f}", r.tpot_ms),
              fmt::format("{:.0f}", r.request_latency_ms), fmt::format("{:.2f}", r.seq_per_s * r.replicas),
              std::to_string(r.replicas), std::to_string(r.replicas * r.num_total_gpus)})
          o += "<td>" + cell + "</td>";
        o += "</tr>\n";
      }
      o += "</tbody></table>\n";
    }
  }

  if (!in.curve_svgs.empty()) {
    o += "<h2>Planner curves</h2>\n<div class=\"grid\">\n";
    for (const auto& [title, svg] : in.curve_svgs) o += "<div><p>" + Esc(title) + "</p>" + svg + "</div>\n";
    o += "</div>\n";
  }

  o += "<h2>Files written</h2>\n<ul>\n";
  for (const auto& f : in.files_written) o += "<li><code>" + Esc(f) + "</code></li>\n";
  o += "</ul>\n";
  o += "<p class=\"sub\">Metrics: TTFT = time to first token; ITL = TPOT = (E2E - TTFT)/(OSL - 1); tokens/s/gpu = "
       "output tokens per second per GPU; tokens/s/user = 1000/ITL.</p>\n";
  o += kSortScript;
  o += "</body></html>\n";
  return o;
}

}  // namespace dyprof
