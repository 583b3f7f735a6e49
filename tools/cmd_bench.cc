// qsdk bench ENGINE: latency percentiles and throughput of an engine on random inputs,
// optionally from several threads (one execution context per thread), and with --profile
// the per-step times next to the execution plan and its fast paths (fast_paths.h).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include "command.h"
#include "fast_paths.h"
#include "latency_stats.h"
#include "qsdk/model.h"
#include "status_util.h"
#include "text_table.h"

namespace qsdk::tools {
namespace {

// Seed of the random inputs: the same inputs on every run.
constexpr uint32_t kInputSeed = 2024;

// Lets the timed phase of every thread start together, after all have warmed up.
class StartLine {
 public:
  explicit StartLine(int parties) : waiting_(parties) {}
  // Blocks until every party arrived; the last one records the start time.
  void ArriveAndWait() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (--waiting_ == 0) {
      start_ = std::chrono::steady_clock::now();
      released_.notify_all();
      return;
    }
    released_.wait(lock, [&] { return waiting_ == 0; });
  }
  std::chrono::steady_clock::time_point start() const { return start_; }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  int waiting_;
  std::chrono::steady_clock::time_point start_;
};

// Inputs for one run: each model input with its dynamic first extent set to `batch`.
Status MakeInputs(const std::vector<TensorDesc>& descs, int64_t batch, std::vector<Tensor>* out) {
  std::mt19937 rng(kInputSeed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (const TensorDesc& d : descs) {
    std::vector<int64_t> shape = d.dims.GetDims();
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] >= 0) continue;
      if (i != 0) {
        return InvalidArgumentStatus("input '" + d.name + "' is " + d.dims.ToString() +
                                     ": bench sets only a dynamic first (batch) extent; dim " +
                                     std::to_string(i) + " is dynamic too");
      }
      shape[i] = batch;
    }
    Tensor t = Tensor::Allocate(d.data_type, Dims(shape), d.name);
    if (t.empty()) {
      return InvalidArgumentStatus("input '" + d.name + "': cannot allocate " +
                                   DataTypeName(d.data_type) + " " + Dims(shape).ToString());
    }
    // Other types stay zero-filled (the runtime takes FLOAT32 inputs; see docs/runtime.md).
    if (d.data_type == DataType::FLOAT32) {
      float* v = t.Data<float>();
      for (int64_t i = 0; i < t.GetElementCount(); ++i) v[i] = value(rng);
    }
    out->push_back(t);
  }
  return Status::Ok();
}

// Sums the time of each step over profiled runs, in execution order.
class StepProfiler final : public IProfiler {
 public:
  struct Step {
    std::string node;
    std::string kernel;
    double total_ms = 0;
    size_t position = 0;  // in execution order
  };
  void ReportNodeTime(const std::string& node, const std::string& kernel,
                      double milliseconds) override {
    if (position_ == steps_.size()) steps_.push_back({node, kernel, 0.0, position_});
    steps_[position_++].total_ms += milliseconds;
  }
  // Called after each run: the next report is the first step again.
  void EndRun() {
    position_ = 0;
    ++runs_;
  }
  const std::vector<Step>& steps() const { return steps_; }
  int runs() const { return runs_; }

 private:
  std::vector<Step> steps_;
  size_t position_ = 0;
  int runs_ = 0;
};

// The process's peak resident memory (getrusage reports kilobytes on Linux).
int64_t PeakRssBytes() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

std::string Ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f", ms);
  return text;
}

class BenchCommand final : public Command {
 public:
  explicit BenchCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "bench",
        "Measure latency percentiles and throughput on random inputs (fixed seed). "
        "--threads N runs N execution contexts on N threads; --threads-per-context M gives "
        "each context M threads inside every step (default: the OpenMP default, "
        "OMP_NUM_THREADS or every hardware thread).");
    app_->add_option("ENGINE", engine_path_, "Engine file (.qsdk)")->required();
    app_->add_option("-b,--batch", batch_,
                     "Batch size: the value of a dynamic first input extent (default 1; a "
                     "fixed batch of the model is used as is)")
        ->check(CLI::Range(1, 1 << 20));
    app_->add_option("-t,--threads", threads_, "Threads, one context each")
        ->default_val(1)
        ->check(CLI::Range(1, 1024));
    app_->add_option("--threads-per-context", threads_per_context_,
                     "Threads each context uses inside a step (ContextOptions::num_threads); "
                     "0 = the OpenMP default: OMP_NUM_THREADS, else every hardware thread")
        ->default_val(0)
        ->check(CLI::Range(0, 1024));
    app_->add_option("-n,--iterations", iterations_, "Timed runs per thread")
        ->default_val(100)
        ->check(CLI::Range(1, 100000000));
    app_->add_option("-w,--warmup", warmup_, "Untimed runs per thread first")
        ->default_val(10)
        ->check(CLI::Range(0, 100000000));
    app_->add_flag("--json", json_, "Print the result as JSON on stdout");
    app_->add_flag("--profile", profile_,
                   "After the timed runs, run --iterations more with a per-node profile and "
                   "print each step's mean time, kernel, output layout, fusions, oneDNN "
                   "implementation and share, slowest first, then the fast-paths summary");
  }

  CLI::App* app() const override { return app_; }

  int Run() override {
    std::unique_ptr<IModel> model;
    std::unique_ptr<IEngine> engine;
    const auto load_start = std::chrono::steady_clock::now();
    Status s = LoadEngine(engine_path_, &model, &engine);
    const double load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start)
            .count();
    if (!s.ok()) return ReportFailure("bench", s);
    const std::vector<TensorDesc> descs = engine->GetInputs();

    // The batch: --batch sets dynamic first extents; a fixed one must agree with it.
    int64_t fixed = -1;
    for (const TensorDesc& d : descs) {
      if (d.dims.GetDimsNum() == 0 || d.dims.GetDimValue(0) < 0) continue;
      fixed = d.dims.GetDimValue(0);
      if (batch_ > 0 && fixed != batch_) {
        return ReportUsage("bench", "--batch " + std::to_string(batch_) + ": input '" + d.name +
                                        "' has a fixed batch of " + std::to_string(fixed) + " (" +
                                        d.dims.ToString() + ")");
      }
    }
    const int64_t batch = batch_ > 0 ? batch_ : (fixed > 0 ? fixed : 1);

    std::vector<Tensor> inputs;
    s = MakeInputs(descs, batch, &inputs);
    if (!s.ok()) return ReportFailure("bench", s);
    std::vector<std::unique_ptr<IContext>> contexts(static_cast<size_t>(threads_));
    ContextOptions options;
    options.num_threads = threads_per_context_;
    for (auto& context : contexts) {
      s = engine->CreateIContext(options, &context);
      if (!s.ok()) return ReportFailure("bench", s);
    }
    const int threads_each = contexts[0]->GetNumThreads();

    StartLine start_line(threads_);
    std::vector<std::vector<double>> latencies(contexts.size());
    std::vector<Status> errors(contexts.size());
    // Execute calls per context (warm-up, timed and profiled): the fast paths compare
    // them with the plans the context built.
    std::vector<int64_t> executes(contexts.size(), 0);
    auto worker = [&](size_t t) {
      std::vector<Tensor> outputs;
      IContext* context = contexts[t].get();
      for (int i = 0; i < warmup_ && errors[t].ok(); ++i) {
        ++executes[t];
        errors[t] = context->Execute(inputs, &outputs);
      }
      start_line.ArriveAndWait();
      latencies[t].reserve(static_cast<size_t>(iterations_));
      for (int i = 0; i < iterations_ && errors[t].ok(); ++i) {
        ++executes[t];
        const auto begin = std::chrono::steady_clock::now();
        errors[t] = context->Execute(inputs, &outputs);
        latencies[t].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
                .count());
      }
    };
    // Inputs are shared read-only between threads; each thread has its own context and
    // output tensors.
    std::vector<std::thread> pool;
    for (size_t t = 1; t < contexts.size(); ++t) pool.emplace_back(worker, t);
    worker(0);
    for (std::thread& thread : pool) thread.join();
    const double wall = SecondsSince(start_line.start());
    for (const Status& e : errors) {
      if (!e.ok()) return ReportFailure("bench", e);
    }

    // The profile: separate runs on context 0 (a profiled step waits for the previous
    // one, so the timed figures above stay unperturbed).
    StepProfiler profiler;
    ExecutionPlanInfo plan;
    const BuildReport& report = model->GetBuildReport();
    if (profile_) {
      std::vector<Tensor> outputs;
      contexts[0]->SetProfiler(&profiler);
      for (int i = 0; i < iterations_; ++i) {
        ++executes[0];
        s = contexts[0]->Execute(inputs, &outputs);
        if (!s.ok()) {
          contexts[0]->SetProfiler(nullptr);
          return ReportFailure("bench", s);
        }
        profiler.EndRun();
      }
      contexts[0]->SetProfiler(nullptr);
      s = contexts[0]->GetLastExecutionPlan(&plan);
      if (!s.ok()) return ReportFailure("bench", WithPrefix("execution plan: ", s));
    }
    // Each profiled step's plan step (index into plan.steps, -1 when not found).
    std::vector<std::string> profiled_nodes;
    for (const auto& step : profiler.steps()) profiled_nodes.push_back(step.node);
    const std::vector<int64_t> plan_index = MatchStepsToPlan(profiled_nodes, plan);
    auto plan_step = [&](const StepProfiler::Step& step) -> const PlanStepInfo* {
      const int64_t index = plan_index[step.position];
      return index < 0 ? nullptr : &plan.steps[static_cast<size_t>(index)];
    };
    const FastPaths fast_paths = ComputeFastPaths(plan, report, executes[0], load_ms);
    std::vector<StepProfiler::Step> ranked = profiler.steps();
    double profiled_total = 0;
    for (const auto& step : ranked) profiled_total += step.total_ms;
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.total_ms > b.total_ms; });
    const double profile_runs = std::max(1, profiler.runs());

    std::vector<double> all;
    for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    const LatencyStats stats = ComputeLatencyStats(all);
    const double runs = static_cast<double>(all.size());
    const double images_per_second = wall > 0 ? runs * static_cast<double>(batch) / wall : 0.0;
    const char* omp = std::getenv("OMP_NUM_THREADS");
    const std::string omp_text = omp != nullptr ? omp : "";
    const unsigned cores = std::thread::hardware_concurrency();

    nlohmann::json profile_json = nlohmann::json::array();
    for (const auto& step : ranked) {
      const PlanStepInfo* planned = plan_step(step);
      const NodeReport* node = FindReportNode(report, step.node);
      nlohmann::json inputs_json = nlohmann::json::array();
      nlohmann::json outputs_json = nlohmann::json::array();
      if (planned != nullptr) {
        for (const PlanTensorInfo& t : planned->inputs) inputs_json.push_back(PlanTensorJson(t));
        for (const PlanTensorInfo& t : planned->outputs) outputs_json.push_back(PlanTensorJson(t));
      }
      profile_json.push_back(
          {{"node", step.node},
           {"kernel", step.kernel},
           {"output", planned != nullptr && !planned->outputs.empty()
                          ? nlohmann::json(PlanTensorText(planned->outputs[0]))
                          : nlohmann::json()},
           {"fused", node != nullptr ? node->fused : std::vector<std::string>()},
           {"in_place", planned != nullptr && planned->in_place},
           {"implementation",
            planned != nullptr ? nlohmann::json(planned->implementation) : nlohmann::json()},
           {"inputs", inputs_json},
           {"outputs", outputs_json},
           {"mean_ms", step.total_ms / profile_runs},
           {"percent", profiled_total > 0 ? 100.0 * step.total_ms / profiled_total : 0.0}});
    }
    if (json_) {
      nlohmann::json result = {{"engine", engine_path_},
                 {"batch", batch},
                 {"threads", threads_},
                 {"threads_per_context", threads_each},
                 {"threads_per_context_option", threads_per_context_},
                 {"iterations", iterations_},
                 {"warmup", warmup_},
                 {"omp_num_threads", omp != nullptr ? nlohmann::json(omp_text) : nlohmann::json()},
                 {"hardware_threads", cores},
                 {"latency_ms",
                  {{"p50", stats.p50},
                   {"p90", stats.p90},
                   {"p99", stats.p99},
                   {"mean", stats.mean},
                   {"min", stats.min},
                   {"max", stats.max},
                   {"count", stats.count}}},
                 {"wall_seconds", wall},
                 {"throughput_images_per_second", images_per_second},
                 {"throughput_batches_per_second", wall > 0 ? runs / wall : 0.0},
                 {"activation_memory_bytes", contexts[0]->GetActivationMemoryBytes()},
                 {"peak_live_tensor_bytes", contexts[0]->GetPeakLiveTensorBytes()},
                 {"load_ms", load_ms},
                 {"peak_rss_bytes", PeakRssBytes()}};
      if (profile_) {
        result["profile"] = profile_json;
        result["fast_paths"] = FastPathsJson(fast_paths);
      }
      PrintJson(result);
      return kExitOk;
    }
    std::printf(
        "%s",
        RenderKeyValues(
            {
                {"engine", engine_path_ + " (" + model->GetName() + ")"},
                {"batch", std::to_string(batch)},
                {"threads", ThreadsText(threads_each, omp, cores)},
                {"runs", std::to_string(iterations_) + " timed + " + std::to_string(warmup_) +
                             " warm-up per thread"},
                {"activation memory",
                 std::to_string(contexts[0]->GetActivationMemoryBytes() / 1024) +
                     " kB per context (live tensors at most " +
                     std::to_string(contexts[0]->GetPeakLiveTensorBytes() / 1024) + " kB)"},
                {"load", Ms(load_ms) + " ms (file to engine)"},
                {"peak memory", std::to_string(PeakRssBytes() / (1024 * 1024)) +
                                    " MiB resident (process)"},
            },
            "")
            .c_str());
    TextTable table({"latency (ms)", "p50", "p90", "p99", "mean", "min", "max"});
    table.AddRow({"per batch", Ms(stats.p50), Ms(stats.p90), Ms(stats.p99), Ms(stats.mean),
                  Ms(stats.min), Ms(stats.max)});
    std::printf("\n");
    table.Print(stdout);
    char line[128];
    std::snprintf(line, sizeof(line), "\nthroughput: %.1f images/s (%.1f batches/s over %.3f s)\n",
                  images_per_second, wall > 0 ? runs / wall : 0.0, wall);
    std::printf("%s", line);
    if (profile_) {
      std::printf("\nprofile (%d runs, mean per run: %.3f ms; slowest first):\n",
                  profiler.runs(), profiled_total / profile_runs);
      TextTable steps({"#", "node", "kernel", "output", "fused", "implementation", "ms", "%"});
      int rank = 0;
      for (const auto& step : ranked) {
        char percent[16];
        std::snprintf(percent, sizeof(percent), "%.1f",
                      profiled_total > 0 ? 100.0 * step.total_ms / profiled_total : 0.0);
        const PlanStepInfo* planned = plan_step(step);
        std::string output = "-", fused = "-", implementation = "-";
        if (planned != nullptr) {
          if (!planned->outputs.empty()) output = PlanTensorText(planned->outputs[0]);
          std::string joined;
          for (const std::string& f :
               StepFusedShort(*planned, FindReportNode(report, step.node))) {
            joined += (joined.empty() ? "" : ",") + f;
          }
          if (!joined.empty()) fused = joined;
          // "" is a step that runs no code (a zero-copy view).
          implementation = planned->implementation.empty() ? "(none)"
                                                           : planned->implementation;
        }
        steps.AddRow({std::to_string(++rank), step.node, step.kernel, output, fused,
                      implementation, Ms(step.total_ms / profile_runs), percent});
      }
      steps.Print(stdout);
      std::printf("\nfast paths (plan of the profiled context, %zu steps):\n%s", plan.steps.size(),
                  RenderKeyValues(FastPathLines(fast_paths)).c_str());
    }
    return kExitOk;
  }

 private:
  CLI::App* app_ = nullptr;
  std::string engine_path_;
  int64_t batch_ = 0;  // 0: not given
  // "1 context x 2 threads each (--threads-per-context 2; 2 hardware threads)".
  std::string ThreadsText(int threads_each, const char* omp, unsigned cores) const {
    std::string text = std::to_string(threads_) + (threads_ == 1 ? " context x " : " contexts x ") +
                       std::to_string(threads_each) +
                       (threads_each == 1 ? " thread each (" : " threads each (");
    if (threads_per_context_ > 0) {
      text += "--threads-per-context " + std::to_string(threads_per_context_);
    } else {
      text += std::string("OpenMP default: OMP_NUM_THREADS ") +
              (omp != nullptr ? "= " + std::string(omp) : std::string("unset"));
    }
    return text + "; " + std::to_string(cores) + " hardware threads)";
  }

  int threads_ = 1;
  int threads_per_context_ = 0;  // 0: the OpenMP default
  int iterations_ = 100;
  int warmup_ = 10;
  bool json_ = false;
  bool profile_ = false;
};

}  // namespace

std::unique_ptr<Command> AddBenchCommand(CLI::App* parent) {
  return std::make_unique<BenchCommand>(parent);
}

}  // namespace qsdk::tools
