#include "thorough/emulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <iostream>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <httplib.h>

#include "catalog/memory.h"
#include "catalog/model_catalog.h"
#include "catalog/system_catalog.h"
#include "common/document.h"
#include "perf/engine.h"
#include "thorough/http.h"
#include "thorough/interrupt.h"
#include "thorough/kv_log.h"

namespace dyprof {

namespace {

using SteadyClock = std::chrono::steady_clock;

// One request in the scheduler. Guarded by its own mutex for the token stream; scheduler fields by
// the scheduler mutex.
struct Seq {
  int prompt_len = 0;
  int max_tokens = 16;
  size_t prompt_hash = 0;
  // Scheduler state.
  int prefilled = 0;
  int generated = 0;
  bool admitted = false;
  SteadyClock::time_point arrival, first_token;
  // Stream state.
  std::mutex mu;
  std::condition_variable cv;
  int emitted = 0;          // tokens available to the stream
  bool finished = false;
  bool cancelled = false;   // client went away
  bool failed = false;
  std::string error;
};

}  // namespace

Json EmulatorStats::ToJson() const {
  return Json{{"finished", finished},   {"rejected", rejected},       {"cancelled", cancelled},
              {"steps", steps},         {"avg_ttft_ms", avg_ttft_ms}, {"avg_itl_ms", avg_itl_ms}};
}

struct Emulator::Impl {
  EmulatorOptions opt;
  std::optional<PerfEngine> engine;
  MemoryBreakdown memory;
  int64_t kv_per_rank = 0;
  int64_t kv_total = 0;
  int token_budget = 8192;
  int max_model_len = 0;

  httplib::Server server;
  std::thread scheduler;
  std::mutex mu;  // scheduler state
  std::condition_variable cv;
  std::deque<std::shared_ptr<Seq>> waiting;
  std::vector<std::shared_ptr<Seq>> running;
  int64_t kv_used = 0;
  bool stopping = false;
  std::unordered_set<size_t> prefix_cache;
  std::unordered_map<uint64_t, double> step_cache;

  // Stats.
  mutable std::mutex stats_mu;
  long long finished = 0, rejected = 0, cancelled = 0, steps = 0;
  double sum_ttft_ms = 0, sum_itl_ms = 0;
  long long itl_count = 0;

  double StepMs(const StepBatch& b) {
    uint64_t ctx_bucket = static_cast<uint64_t>(b.decode_ctx / 32);
    uint64_t key = (static_cast<uint64_t>(b.prefill_tokens) << 40) ^ (static_cast<uint64_t>(b.prefill_seqs) << 32) ^
                   (static_cast<uint64_t>(b.decode_seqs) << 16) ^ ctx_bucket ^
                   (static_cast<uint64_t>(b.prefill_past / 64) << 52);
    if (auto it = step_cache.find(key); it != step_cache.end()) return it->second;
    double ms = 1.0;
    if (auto r = engine->StepLatencyMs(opt.split, b); r.ok()) ms = *r;
    if (step_cache.size() > 200000) step_cache.clear();
    step_cache[key] = ms;
    return ms;
  }

  void Finish(const std::shared_ptr<Seq>& s, bool ok) {
    {
      std::lock_guard<std::mutex> l(s->mu);
      s->finished = true;
      if (!ok) s->failed = true;
    }
    s->cv.notify_all();
  }

  void Loop() {
    SteadyClock::time_point next_start = SteadyClock::now();
    for (;;) {
      std::vector<std::shared_ptr<Seq>> emit_first, emit_token, done;
      double step_ms = 0;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return stopping || !waiting.empty() || !running.empty(); });
        if (stopping) break;
        // Drop cancelled requests.
        auto drop = [&](std::shared_ptr<Seq>& s) {
          std::lock_guard<std::mutex> sl(s->mu);
          return s->cancelled;
        };
        for (auto it = running.begin(); it != running.end();) {
          if (drop(*it)) {
            kv_used -= (*it)->prompt_len + (*it)->max_tokens;
            it = running.erase(it);
            std::lock_guard<std::mutex> sl(stats_mu);
            ++cancelled;
          } else {
            ++it;
          }
        }
        for (auto it = waiting.begin(); it != waiting.end();) {
          if (drop(*it)) it = waiting.erase(it);
          else ++it;
        }
        // Admit FIFO while there is a sequence slot and KV for the whole request.
        while (!waiting.empty() && static_cast<int>(running.size()) < opt.max_num_seqs * opt.split.dp) {
          auto& s = waiting.front();
          int64_t need = s->prompt_len + s->max_tokens;
          if (kv_used + need > kv_total) break;
          kv_used += need;
          s->admitted = true;
          if (opt.prefix_caching && prefix_cache.count(s->prompt_hash)) s->prefilled = std::max(0, s->prompt_len - 1);
          running.push_back(s);
          waiting.pop_front();
        }
        if (running.empty()) continue;
        // Build the iteration: decodes first, then prefill chunks in arrival order.
        int budget = token_budget * opt.split.dp;
        StepBatch b;
        double ctx_sum = 0;
        std::vector<std::pair<std::shared_ptr<Seq>, int>> chunks;
        for (auto& s : running) {
          if (s->prefilled >= s->prompt_len) {
            ++b.decode_seqs;
            ctx_sum += s->prompt_len + s->generated;
            emit_token.push_back(s);
            --budget;
          }
        }
        long long past_sum = 0;
        for (auto& s : running) {
          if (s->prefilled < s->prompt_len && budget > 0) {
            int chunk = std::min(budget, s->prompt_len - s->prefilled);
            chunks.emplace_back(s, chunk);
            budget -= chunk;
            ++b.prefill_seqs;
            b.prefill_tokens += chunk;
            past_sum += s->prefilled;
          }
        }
        int dp = std::max(1, opt.split.dp);
        StepBatch per_rank;
        per_rank.decode_seqs = (b.decode_seqs + dp - 1) / dp;
        per_rank.decode_ctx = b.decode_seqs ? ctx_sum / b.decode_seqs : 0;
        per_rank.prefill_seqs = (b.prefill_seqs + dp - 1) / dp;
        per_rank.prefill_tokens = (b.prefill_tokens + dp - 1) / dp;
        per_rank.prefill_past = b.prefill_seqs ? static_cast<int>(past_sum / b.prefill_seqs) : 0;
        per_rank.logits_for_prefill = true;
        step_ms = StepMs(per_rank);
        for (auto& [s, chunk] : chunks) {
          s->prefilled += chunk;
          if (s->prefilled >= s->prompt_len) emit_first.push_back(s);
        }
      }
      // Sleep out the iteration (deadline-based so rounding does not accumulate).
      auto now = SteadyClock::now();
      if (next_start < now - std::chrono::milliseconds(2)) next_start = now;
      next_start += std::chrono::duration_cast<SteadyClock::duration>(
          std::chrono::duration<double, std::milli>(step_ms / std::max(opt.speedup, 1e-9)));
      std::this_thread::sleep_until(next_start);
      auto t = SteadyClock::now();
      {
        std::lock_guard<std::mutex> l(mu);
        ++steps;
        auto produce = [&](const std::shared_ptr<Seq>& s) {
          ++s->generated;
          if (s->generated == 1) s->first_token = t;
          {
            std::lock_guard<std::mutex> sl(s->mu);
            s->emitted = s->generated;
          }
          s->cv.notify_all();
          if (s->generated >= s->max_tokens) done.push_back(s);
        };
        for (auto& s : emit_first) {
          if (opt.prefix_caching) {
            if (prefix_cache.size() > 100000) prefix_cache.clear();
            prefix_cache.insert(s->prompt_hash);
          }
          produce(s);
        }
        for (auto& s : emit_token) produce(s);
        for (auto& s : done) {
          kv_used -= s->prompt_len + s->max_tokens;
          running.erase(std::remove(running.begin(), running.end(), s), running.end());
          std::lock_guard<std::mutex> sl(stats_mu);
          ++finished;
          double ttft = std::chrono::duration<double, std::milli>(s->first_token - s->arrival).count() * opt.speedup;
          sum_ttft_ms += ttft;
          if (s->max_tokens > 1) {
            sum_itl_ms += std::chrono::duration<double, std::milli>(t - s->first_token).count() * opt.speedup /
                          (s->max_tokens - 1);
            ++itl_count;
          }
        }
      }
      for (auto& s : done) Finish(s, true);
    }
    // Shutting down: release every stream.
    std::lock_guard<std::mutex> l(mu);
    for (auto& s : running) Finish(s, false);
    for (auto& s : waiting) Finish(s, false);
  }

  // Counts prompt "tokens" as whitespace-separated words.
  static int CountWords(const std::string& text) {
    int n = 0;
    bool in = false;
    for (char c : text) {
      bool ws = c == ' ' || c == '\n' || c == '\t' || c == '\r';
      if (!ws && !in) ++n;
      in = !ws;
    }
    return n;
  }

  void Handle(const httplib::Request& req, httplib::Response& res, bool chat) {
    auto parsed = ParseJson(req.body);
    auto error = [&](int code, const std::string& msg) {
      res.status = code;
      res.set_content(Json{{"error", {{"message", msg}, {"type", "invalid_request_error"}, {"code", code}}}}.dump(),
                      "application/json");
    };
    if (!parsed.ok() || !parsed->is_object()) return error(400, "body is not a JSON object");
    const Json& body = *parsed;
    // Streaming flags are type-checked as the OpenAI-compatible servers do: a 400 naming the field.
    if (body.contains("stream") && !body["stream"].is_boolean() && !body["stream"].is_null())
      return error(400, "stream: expected a boolean, found " + DescribeJsonType(body["stream"]));
    if (body.contains("stream_options") && !body["stream_options"].is_null() && !body["stream_options"].is_object())
      return error(400, "stream_options: expected an object, found " + DescribeJsonType(body["stream_options"]));
    std::string prompt;
    if (chat) {
      if (!body.contains("messages") || !body["messages"].is_array()) return error(400, "messages is required");
      for (const auto& m : body["messages"])
        if (m.contains("content") && m["content"].is_string()) prompt += m["content"].get<std::string>() + "\n";
    } else {
      if (!body.contains("prompt") || !body["prompt"].is_string()) return error(400, "prompt is required");
      prompt = body["prompt"].get<std::string>();
    }
    auto s = std::make_shared<Seq>();
    s->arrival = SteadyClock::now();
    s->prompt_len = std::max(1, CountWords(prompt));
    s->prompt_hash = std::hash<std::string>{}(prompt);
    s->max_tokens = 16;
    for (const char* k : {"max_tokens", "max_completion_tokens"})
      if (body.contains(k) && body[k].is_number_integer()) s->max_tokens = std::max(1, body[k].get<int>());
    if (s->prompt_len + s->max_tokens > max_model_len)
      return error(400, fmt::format("This model's maximum context length is {} tokens. However, you requested {} tokens.",
                                    max_model_len, s->prompt_len + s->max_tokens));
    if (s->prompt_len + s->max_tokens > kv_total) {
      std::lock_guard<std::mutex> sl(stats_mu);
      ++rejected;
      return error(400, "request does not fit in the KV cache");
    }
    const bool stream = IsTrueField(body, "stream");
    const bool include_usage = body.contains("stream_options") && IsTrueField(body["stream_options"], "include_usage");
    std::string model = opt.served_model_name.empty() ? opt.model : opt.served_model_name;
    {
      std::lock_guard<std::mutex> l(mu);
      waiting.push_back(s);
    }
    cv.notify_one();
    std::string id = fmt::format("{}-{:x}", chat ? "chatcmpl" : "cmpl", reinterpret_cast<uintptr_t>(s.get()));
    long created = static_cast<long>(std::time(nullptr));
    const char* object = chat ? "chat.completion.chunk" : "text_completion";
    auto chunk = [=](const char* finish, bool with_text) {
      Json c = {{"id", id}, {"object", object}, {"created", created}, {"model", model}};
      Json choice = {{"index", 0}};
      if (chat) choice["delta"] = with_text ? Json{{"content", "tok "}} : Json::object();
      else choice["text"] = with_text ? "tok " : "";
      choice["finish_reason"] = finish ? Json(finish) : Json(nullptr);
      c["choices"] = Json::array({choice});
      return "data: " + c.dump() + "\n\n";
    };
    if (!stream) {
      std::unique_lock<std::mutex> l(s->mu);
      s->cv.wait(l, [&] { return s->finished; });
      if (s->failed) return error(503, "server shutting down");
      std::string text;
      for (int i = 0; i < s->max_tokens; ++i) text += "tok ";
      Json choice = {{"index", 0}, {"finish_reason", "length"}};
      if (chat) choice["message"] = {{"role", "assistant"}, {"content", text}};
      else choice["text"] = text;
      Json out = {{"id", id}, {"object", chat ? "chat.completion" : "text_completion"}, {"created", created},
                  {"model", model}, {"choices", Json::array({choice})},
                  {"usage", {{"prompt_tokens", s->prompt_len}, {"completion_tokens", s->max_tokens},
                             {"total_tokens", s->prompt_len + s->max_tokens}}}};
      res.set_content(out.dump(), "application/json");
      return;
    }
    auto sent = std::make_shared<int>(0);
    res.set_chunked_content_provider(
        "text/event-stream",
        [s, sent, chunk, include_usage, id, created, model, chat](size_t, httplib::DataSink& sink) {
          int available;
          bool finished, failed;
          {
            std::unique_lock<std::mutex> l(s->mu);
            s->cv.wait(l, [&] { return s->emitted > *sent || s->finished; });
            available = s->emitted;
            finished = s->finished;
            failed = s->failed;
          }
          std::string out;
          for (; *sent < available; ++*sent) out += chunk(nullptr, true);
          if (finished) {
            if (failed) {
              out += "data: " + Json{{"error", {{"message", "server shutting down"}}}}.dump() + "\n\n";
            } else {
              out += chunk("length", false);
              if (include_usage) {
                Json u = {{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"},
                          {"created", created}, {"model", model}, {"choices", Json::array()},
                          {"usage", {{"prompt_tokens", s->prompt_len}, {"completion_tokens", s->max_tokens},
                                     {"total_tokens", s->prompt_len + s->max_tokens}}}};
                out += "data: " + u.dump() + "\n\n";
              }
            }
            out += "data: [DONE]\n\n";
          }
          if (!out.empty() && !sink.write(out.data(), out.size())) {
            std::lock_guard<std::mutex> l(s->mu);
            s->cancelled = true;
            return false;
          }
          if (finished) sink.done();
          return true;
        },
        [this, s](bool success) {
          if (!success) {
            {
              std::lock_guard<std::mutex> l(s->mu);
              s->cancelled = !s->finished;
            }
            cv.notify_one();
          }
        });
  }
};

Emulator::Emulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Emulator::~Emulator() { Stop(); }

Result<std::unique_ptr<Emulator>> Emulator::Create(const EmulatorOptions& options, const FileSystem& fs) {
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  if (impl->opt.speedup <= 0) return Status::InvalidArgument("--speedup must be positive");
  DYPROF_ASSIGN_OR_RETURN(ModelArch model, FindModel(options.model, fs));
  DYPROF_ASSIGN_OR_RETURN(SystemSpec system, FindSystem(options.system));
  Backend backend = options.backend == Backend::kAuto ? Backend::kVllm : options.backend;
  impl->opt.backend = backend;
  DYPROF_ASSIGN_OR_RETURN(PerfEngine engine, PerfEngine::Create(model, system, backend));
  DYPROF_RETURN_IF_ERROR(engine.CheckSplit(options.split));
  impl->token_budget = options.max_num_tokens > 0 ? options.max_num_tokens : engine.tuning().default_max_num_tokens;
  EngineLimits limits;
  limits.max_batch_size = options.max_num_seqs;
  limits.max_num_tokens = impl->token_budget;
  limits.max_model_len = options.max_model_len;
  DYPROF_ASSIGN_OR_RETURN(impl->memory, EngineMemory(model, system, backend, options.split, limits));
  if (!impl->memory.fits && options.kv_tokens <= 0)
    return Status::Infeasible("the model does not fit this engine: " + impl->memory.overflow);
  impl->max_model_len = impl->memory.max_model_len > 0 ? impl->memory.max_model_len : model.max_position_embeddings;
  impl->kv_per_rank = options.kv_tokens > 0 ? options.kv_tokens : impl->memory.max_kv_tokens;
  impl->kv_total = impl->kv_per_rank * std::max(1, options.split.dp);
  impl->engine.emplace(std::move(engine));
  return std::unique_ptr<Emulator>(new Emulator(std::move(impl)));
}

std::string Emulator::KvLogLine() const {
  double gib = impl_->memory.kv_pool_bytes / (1024.0 * 1024 * 1024);
  if (impl_->opt.kv_tokens > 0 && impl_->memory.max_kv_tokens > 0)
    gib *= static_cast<double>(impl_->opt.kv_tokens) / impl_->memory.max_kv_tokens;
  return KvCapacityLogLine(impl_->opt.backend, impl_->kv_per_rank, impl_->max_model_len, std::max(gib, 0.0));
}

int64_t Emulator::KvTokensTotal() const { return impl_->kv_total; }

Result<int> Emulator::Bind() {
  Impl* d = impl_.get();
  int threads = std::max(8, d->opt.http_threads);
  d->server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  d->server.set_keep_alive_max_count(1000);
  d->server.set_read_timeout(30, 0);
  d->server.set_write_timeout(30, 0);
  std::string model = d->opt.served_model_name.empty() ? d->opt.model : d->opt.served_model_name;
  d->server.Get("/v1/models", [model](const httplib::Request&, httplib::Response& res) {
    Json j = {{"object", "list"},
              {"data", Json::array({Json{{"id", model}, {"object", "model"}, {"owned_by", "dynamo-profiler-emulator"}}})}};
    res.set_content(j.dump(), "application/json");
  });
  d->server.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("OK", "text/plain"); });
  d->server.Get("/emulator/stats", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(Stats().ToJson().dump(), "application/json");
  });
  d->server.Post("/v1/chat/completions",
                 [d](const httplib::Request& req, httplib::Response& res) { d->Handle(req, res, true); });
  d->server.Post("/v1/completions",
                 [d](const httplib::Request& req, httplib::Response& res) { d->Handle(req, res, false); });
  int port = d->opt.port;
  if (port == 0) {
    port = d->server.bind_to_any_port(d->opt.host);
    if (port <= 0) return Status::IoError("cannot bind " + d->opt.host);
  } else if (!d->server.bind_to_port(d->opt.host, port)) {
    return Status::IoError(fmt::format("cannot bind {}:{}", d->opt.host, port));
  }
  RaiseListenBacklog(port);
  d->opt.port = port;
  d->scheduler = std::thread([d] { d->Loop(); });
  return port;
}

void Emulator::Serve() { impl_->server.listen_after_bind(); }

void Emulator::Stop() {
  Impl* d = impl_.get();
  {
    std::lock_guard<std::mutex> l(d->mu);
    if (d->stopping) return;
    d->stopping = true;
  }
  d->cv.notify_all();
  if (d->scheduler.joinable()) d->scheduler.join();
  d->server.stop();
}

EmulatorStats Emulator::Stats() const {
  std::lock_guard<std::mutex> l(impl_->stats_mu);
  EmulatorStats s;
  s.finished = impl_->finished;
  s.rejected = impl_->rejected;
  s.cancelled = impl_->cancelled;
  s.steps = impl_->steps;
  s.avg_ttft_ms = impl_->finished ? impl_->sum_ttft_ms / impl_->finished : 0;
  s.avg_itl_ms = impl_->itl_count ? impl_->sum_itl_ms / impl_->itl_count : 0;
  return s;
}

int RunEmulatorMain(const EmulatorOptions& options) {
  std::atomic<bool>* stop = InstallInterruptHandler();
  PosixFileSystem fs;
  auto emu = Emulator::Create(options, fs);
  if (!emu.ok()) {
    std::cerr << "error: " << emu.status().message() << "\n";
    return 2;
  }
  auto port = (*emu)->Bind();
  if (!port.ok()) {
    std::cerr << "error: " << port.status().message() << "\n";
    return 1;
  }
  std::cout << fmt::format("INFO dynamo-profiler emulator: model {} backend {} {} on {} GPUs, speedup {}\n",
                           options.model, BackendName(options.backend), options.split.ToString(),
                           options.split.NumGpus(), options.speedup)
            << (*emu)->KvLogLine() << "\n"
            << fmt::format("INFO Serving on http://{}:{}\n", options.host, *port) << std::flush;
  std::thread server([&] { (*emu)->Serve(); });
  while (!stop->load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::cout << "INFO shutting down\n" << std::flush;
  (*emu)->Stop();
  server.join();
  return 0;
}

}  // namespace dyprof
