// Google Benchmark microbenchmarks of qsdk's runtime convolution kernel (README.md next to
// this file): the convolution layers of ResNet-50 and MobileNetV2 at batch 1, in FP32,
// BF16 and INT8, each run as one Conv node through the runtime's Kernel / KernelInstance
// (bench_fixtures.h). Every benchmark reports
//   GOPS         2 * MACs / time, in 1e9 operations per second (mean time);
//   pct_of_peak  GOPS as a percentage of this machine's matmul peak in the same precision,
//                measured with oneDNN at startup (the peak/... benchmarks time the same
//                matmuls like the convolutions);
// and the same two from the median iteration (GOPS_p50, pct_of_peak_p50; see TimeKernel).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "kernels/bench_fixtures.h"

namespace qsdk::bench {
namespace {

// Square matmul sizes whose best throughput is a precision's peak. The largest alone is not
// enough: with 2 MB of L2 per core, oneDNN 2.6 runs a 2048^3 matmul (12 to 24 MB of operands
// and result) well below the rate of one whose operands stay in cache (measured on the
// AMX machine of README.md: int8 about 1.9 vs 3.1 TOPS per core for 512^3), so the peak is
// the best of a few sizes; which one wins depends on the machine and the thread count.
constexpr int64_t kPeakSizes[] = {512, 1024, 2048};
constexpr Precision kPrecisions[] = {Precision::kFp32, Precision::kBf16, Precision::kInt8};

using A = ActivationType;

// ResNet-50 (torchvision, v1.5: the stride of a downsampling bottleneck is on its 3x3),
// batch norm folded into a bias and ReLU fused. The 1x1 expansions carry the residual add
// in a built engine (a fused sum); these benchmarks time the convolution alone.
const std::vector<ConvShape> kResNet50 = {
    // net, C, OC, size, kernel, stride, pad, group, activation
    {"resnet50", 3, 64, 224, 7, 2, 3, 1, A::kRelu},  // conv1
    // layer1 (56x56)
    {"resnet50", 64, 64, 56, 1, 1, 0, 1, A::kRelu},
    {"resnet50", 64, 64, 56, 3, 1, 1, 1, A::kRelu},
    {"resnet50", 64, 256, 56, 1, 1, 0, 1, A::kRelu},
    {"resnet50", 256, 64, 56, 1, 1, 0, 1, A::kRelu},
    // layer2 (28x28)
    {"resnet50", 256, 128, 56, 1, 1, 0, 1, A::kRelu},
    {"resnet50", 128, 128, 56, 3, 2, 1, 1, A::kRelu},
    {"resnet50", 128, 128, 28, 3, 1, 1, 1, A::kRelu},
    {"resnet50", 128, 512, 28, 1, 1, 0, 1, A::kRelu},
    {"resnet50", 512, 128, 28, 1, 1, 0, 1, A::kRelu},
    // layer3 (14x14)
    {"resnet50", 256, 256, 14, 3, 1, 1, 1, A::kRelu},
    {"resnet50", 256, 1024, 14, 1, 1, 0, 1, A::kRelu},
    {"resnet50", 1024, 256, 14, 1, 1, 0, 1, A::kRelu},
    // layer4 (7x7)
    {"resnet50", 512, 512, 7, 3, 1, 1, 1, A::kRelu},
    {"resnet50", 512, 2048, 7, 1, 1, 0, 1, A::kRelu},
    {"resnet50", 2048, 512, 7, 1, 1, 0, 1, A::kRelu},
};

// MobileNetV2 (torchvision, width 1.0): the stem, then inverted residual blocks
// (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2)
// (6,320,1,1): a 1x1 expansion (ReLU6), a 3x3 depthwise (ReLU6, stride s in a block's first
// layer), a linear 1x1 projection; then the 1x1 320 -> 1280 head. One of each distinct
// shape class per resolution.
const std::vector<ConvShape> kMobileNetV2 = {
    {"mobilenetv2", 3, 32, 224, 3, 2, 1, 1, A::kRelu6},  // stem
    // 112x112
    {"mobilenetv2", 32, 32, 112, 3, 1, 1, 32, A::kRelu6},
    {"mobilenetv2", 32, 16, 112, 1, 1, 0, 1, A::kNone},
    {"mobilenetv2", 16, 96, 112, 1, 1, 0, 1, A::kRelu6},
    {"mobilenetv2", 96, 96, 112, 3, 2, 1, 96, A::kRelu6},
    // 56x56
    {"mobilenetv2", 96, 24, 56, 1, 1, 0, 1, A::kNone},
    {"mobilenetv2", 24, 144, 56, 1, 1, 0, 1, A::kRelu6},
    {"mobilenetv2", 144, 144, 56, 3, 1, 1, 144, A::kRelu6},
    {"mobilenetv2", 144, 24, 56, 1, 1, 0, 1, A::kNone},
    {"mobilenetv2", 144, 144, 56, 3, 2, 1, 144, A::kRelu6},
    // 28x28
    {"mobilenetv2", 144, 32, 28, 1, 1, 0, 1, A::kNone},
    {"mobilenetv2", 32, 192, 28, 1, 1, 0, 1, A::kRelu6},
    {"mobilenetv2", 192, 192, 28, 3, 1, 1, 192, A::kRelu6},
    {"mobilenetv2", 192, 32, 28, 1, 1, 0, 1, A::kNone},
    // 14x14
    {"mobilenetv2", 64, 384, 14, 1, 1, 0, 1, A::kRelu6},
    {"mobilenetv2", 384, 384, 14, 3, 1, 1, 384, A::kRelu6},
    {"mobilenetv2", 384, 64, 14, 1, 1, 0, 1, A::kNone},
    {"mobilenetv2", 96, 576, 14, 1, 1, 0, 1, A::kRelu6},
    {"mobilenetv2", 576, 96, 14, 1, 1, 0, 1, A::kNone},
    // 7x7
    {"mobilenetv2", 160, 960, 7, 1, 1, 0, 1, A::kRelu6},
    {"mobilenetv2", 960, 960, 7, 3, 1, 1, 960, A::kRelu6},
    {"mobilenetv2", 960, 160, 7, 1, 1, 0, 1, A::kNone},
    {"mobilenetv2", 320, 1280, 7, 1, 1, 0, 1, A::kRelu6},
};

const dnnl::engine& Engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Matmul peak of each precision in GOPS, measured once in main before any benchmark runs;
// 0 when it could not be measured (then no pct_of_peak is reported).
std::map<Precision, double>& PeakGops() {
  static std::map<Precision, double> peaks;
  return peaks;
}

// The fixture of the benchmark being run (keyed by the benchmark's name). Google Benchmark
// calls a benchmark function several times in a row (growing iteration counts,
// repetitions): keep the fixture of the last key instead of packing the weights again each
// time, and free it when the next benchmark starts.
struct FixtureCache {
  std::string key;
  std::unique_ptr<ConvFixture> conv;
  std::unique_ptr<MatmulFixture> matmul;
};

FixtureCache& Cache(const std::string& key) {
  static FixtureCache cache;
  if (cache.key != key) {
    cache.conv.reset();
    cache.matmul.reset();
    cache.key = key;
  }
  return cache;
}

// Times `run` (one kernel execution enqueued on `stream`) per iteration with the manual
// timer, so each iteration measures exactly one execution to completion, and reports the
// counters for `macs` multiply-accumulates per execution against the peak of `precision`:
//   GOPS, pct_of_peak          from the mean time (Google Benchmark's own "Time");
//   GOPS_p50, pct_of_peak_p50  from the median iteration. On a machine shared with other
//                              jobs an iteration during which one of oneDNN's threads was
//                              descheduled lasts a scheduler time slice (milliseconds), so
//                              a few of them can dominate the mean of a short kernel; the
//                              median is what the kernel does when it has the cores.
template <typename RunFn>
void TimeKernel(benchmark::State& state, dnnl::stream& stream, RunFn&& run, double macs,
                Precision precision) {
  using clock = std::chrono::steady_clock;
  std::vector<double> times;
  times.reserve(static_cast<size_t>(std::min<benchmark::IterationCount>(state.max_iterations,
                                                                        1 << 22)));
  try {
    for (auto _ : state) {
      const clock::time_point start = clock::now();
      run();
      stream.wait();
      const double seconds = std::chrono::duration<double>(clock::now() - start).count();
      state.SetIterationTime(seconds);
      times.push_back(seconds);
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  if (times.empty()) return;
  const double gops_per_run = 2.0 * macs * 1e-9;
  state.counters["GOPS"] =
      benchmark::Counter(gops_per_run, benchmark::Counter::kIsIterationInvariantRate);
  double total = 0.0;
  for (double t : times) total += t;
  const auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
  std::nth_element(times.begin(), middle, times.end());
  const double gops_mean = gops_per_run * static_cast<double>(times.size()) / total;
  const double gops_median = gops_per_run / *middle;
  state.counters["GOPS_p50"] = benchmark::Counter(gops_median);
  const double peak = PeakGops()[precision];
  if (peak > 0.0) {
    state.counters["pct_of_peak"] = benchmark::Counter(100.0 * gops_mean / peak);
    state.counters["pct_of_peak_p50"] = benchmark::Counter(100.0 * gops_median / peak);
  }
}

void BM_Conv(benchmark::State& state, const std::string& name, ConvShape shape,
             Precision precision) {
  FixtureCache& cache = Cache(name);
  if (!cache.conv) {
    const Status status = ConvFixture::Create(shape, precision, Engine(), &cache.conv);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
  }
  const ConvFixture& fixture = *cache.conv;
  state.SetLabel(fixture.kernel_name() + " " + fixture.layouts());
  dnnl::stream stream(Engine());
  TimeKernel(state, stream, [&] { fixture.Run(stream); }, shape.Macs(), precision);
}

void BM_MatmulPeak(benchmark::State& state, const std::string& name, int64_t size,
                   Precision precision) {
  FixtureCache& cache = Cache(name);
  if (!cache.matmul) {
    const Status status = MatmulFixture::Create(precision, size, Engine(), &cache.matmul);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
  }
  const MatmulFixture& fixture = *cache.matmul;
  state.SetLabel(fixture.impl());
  dnnl::stream stream(Engine());
  TimeKernel(state, stream, [&] { fixture.Run(stream); }, fixture.Macs(), precision);
}

// The peaks first (they are registered, and so run, before the convolutions).
void RegisterBenchmarks() {
  for (Precision p : kPrecisions) {
    for (int64_t size : kPeakSizes) {
      const std::string name = "peak/matmul_" + std::to_string(size) + "/" + PrecisionName(p);
      benchmark::RegisterBenchmark(name.c_str(), BM_MatmulPeak, name, size, p)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (const std::vector<ConvShape>* list : {&kResNet50, &kMobileNetV2}) {
    for (const ConvShape& shape : *list) {
      for (Precision p : kPrecisions) {
        const std::string name =
            std::string("conv/") + shape.net + "/" + shape.Label() + "/" + PrecisionName(p);
        benchmark::RegisterBenchmark(name.c_str(), BM_Conv, name, shape, p)
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

const char* IsaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

// Measures the matmul peak of every precision (the best time of each size over `seconds`,
// the best throughput over the sizes), records it in PeakGops() and in the benchmark
// context, e.g. "peak_gops_int8: 3031.7 (matmul 512^3, brg:avx512_core_amx_int8)".
void MeasurePeaks(double seconds) {
  benchmark::AddCustomContext("onednn_isa", IsaName(dnnl::get_effective_cpu_isa()));
  dnnl::stream stream(Engine());
  for (Precision p : kPrecisions) {
    double peak = 0.0;
    std::string source;
    for (int64_t size : kPeakSizes) {
      std::unique_ptr<MatmulFixture> fixture;
      Status status = MatmulFixture::Create(p, size, Engine(), &fixture);
      double gops = 0.0;
      if (status.ok()) {
        try {
          gops = 2.0 * fixture->Macs() * 1e-9 /
                 BestSeconds([&] { fixture->Run(stream); }, stream, seconds);
        } catch (const std::exception& e) {
          status = InternalError("matmul ", size, "^3 ", PrecisionName(p), ": ", e.what());
        }
      }
      if (!status.ok()) {
        std::fprintf(stderr, "qsdk_kernels_bench: %s\n", status.ToString().c_str());
        continue;
      }
      if (gops > peak) {
        peak = gops;
        source = StrCat("matmul ", size, "^3, ", fixture->impl());
      }
    }
    PeakGops()[p] = peak;
    const std::string key = std::string("peak_gops_") + PrecisionName(p);
    if (peak <= 0.0) {
      std::fprintf(stderr, "qsdk_kernels_bench: no %s peak; pct_of_peak is not reported\n",
                   PrecisionName(p));
      benchmark::AddCustomContext(key, "unavailable");
      continue;
    }
    char value[32];
    std::snprintf(value, sizeof(value), "%.1f", peak);
    benchmark::AddCustomContext(key, StrCat(value, " (", source, ")"));
  }
}

}  // namespace
}  // namespace qsdk::bench

// BENCHMARK_MAIN, plus the peak measurement before the benchmarks run and one flag of our
// own, --qsdk_peak_min_time=<seconds> (default 0.3): how long each peak matmul is timed.
int main(int argc, char** argv) {
  double peak_seconds = 0.3;
  bool list_only = false;
  int kept = 1;
  const char kPeakFlag[] = "--qsdk_peak_min_time=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], kPeakFlag, sizeof(kPeakFlag) - 1) == 0) {
      char* end = nullptr;
      peak_seconds = std::strtod(argv[i] + sizeof(kPeakFlag) - 1, &end);
      if (end == argv[i] + sizeof(kPeakFlag) - 1 || *end != '\0' || !(peak_seconds >= 0.0)) {
        std::fprintf(stderr, "qsdk_kernels_bench: %s: expected a number of seconds >= 0\n",
                     argv[i]);
        return 1;
      }
      continue;
    }
    // Listing the benchmarks needs no peak (Google Benchmark parses the flag itself).
    if (std::strcmp(argv[i], "--benchmark_list_tests") == 0 ||
        std::strcmp(argv[i], "--benchmark_list_tests=true") == 0 ||
        std::strcmp(argv[i], "--benchmark_list_tests=1") == 0) {
      list_only = true;
    }
    argv[kept++] = argv[i];
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  qsdk::bench::RegisterBenchmarks();
  if (!list_only) qsdk::bench::MeasurePeaks(peak_seconds);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
