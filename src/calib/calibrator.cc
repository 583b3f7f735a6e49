// ICalibrator: validates the user's data at entry, runs the calibration graph over every
// batch with the FP32 runtime, feeds the streaming statistics, turns them into ranges
// and writes them into the network (all-or-nothing).
#include <cmath>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "calib/algorithms.h"
#include "calib/calibration_graph.h"
#include "calib/calibration_table.h"
#include "calib/fingerprint.h"
#include "calib/statistics.h"
#include "common/status_macros.h"
#include "graph/network_impl.h"
#include "qsdk/calibration.h"
#include "qsdk/tensor.h"
#include "runtime/engine.h"

namespace qsdk {
namespace calib {
namespace {

constexpr int kMinHistogramBins = 128;   // the entropy search needs 128 quantized bins
constexpr int kMaxHistogramBins = 65536;  // 512 KiB per tensor; searches are strided

Status ValidateOptions(const CalibrationOptions& options) {
  const std::string name = CalibrationAlgorithmName(options.algorithm);
  if (name == "invalid") {
    return InvalidArgument("Calibrate: option algorithm = ", static_cast<int>(options.algorithm),
                           " is not a CalibrationAlgorithm");
  }
  if (!(options.percentile > 0.0 && options.percentile <= 100.0)) {
    return InvalidArgument("Calibrate: option percentile = ", options.percentile,
                           "; it must be in (0, 100]");
  }
  if (options.histogram_bins < kMinHistogramBins || options.histogram_bins > kMaxHistogramBins) {
    return InvalidArgument("Calibrate: option histogram_bins = ", options.histogram_bins,
                           "; it must be in [", kMinHistogramBins, ", ", kMaxHistogramBins, "]");
  }
  if (options.max_samples != -1 && options.max_samples < 1) {
    return InvalidArgument("Calibrate: option max_samples = ", options.max_samples,
                           "; it must be -1 (all samples) or >= 1");
  }
  if (options.per_channel && options.algorithm != CalibrationAlgorithm::kMinMax) {
    return InvalidArgument("Calibrate: option per_channel is set with algorithm ", name,
                           "; per-channel ranges are computed by minmax only (the histograms "
                           "are per tensor)");
  }
  return Status::Ok();
}

// One network input and the data object feeding it.
struct InputFeed {
  graph::TensorId id = graph::kNoTensor;
  std::string name;
  DataType dtype = DataType::INVALID;
  std::vector<int64_t> shape;  // the input's declared shape (-1 = dynamic)
  CalibDataInterface* data = nullptr;

  std::string What() const { return StrCat("Calibrate: calibration data for input '", name, "'"); }
};

// Checks the current batch of `feed` and wraps it as a tensor.
Status CurrentBatch(const InputFeed& feed, int64_t sample, Tensor* tensor) {
  const std::string what = StrCat(feed.What(), ", sample ", sample);
  const DataType dtype = feed.data->GetDataType();
  if (dtype != feed.dtype) {
    return InvalidArgument(what, ": GetDataType() = ", DataTypeName(dtype), "; the input is ",
                           DataTypeName(feed.dtype));
  }
  const Dims dims = feed.data->GetShape();
  const std::vector<int64_t>& shape = dims.GetDims();
  if (shape.size() != feed.shape.size()) {
    return InvalidArgument(what, ": GetShape() = ", dims.ToString(), " has ", shape.size(),
                           " dims; the input ", graph::ShapeToString(feed.shape), " has ",
                           feed.shape.size());
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    if (feed.shape[d] < 0) {
      if (shape[d] < 1) {
        return InvalidArgument(what, ": GetShape() = ", dims.ToString(), " has extent ",
                               shape[d], " at dim ", d,
                               "; a dynamic extent of the input takes a value >= 1");
      }
    } else if (shape[d] != feed.shape[d]) {
      return InvalidArgument(what, ": GetShape() = ", dims.ToString(), " has extent ", shape[d],
                             " at dim ", d, "; the input ", graph::ShapeToString(feed.shape),
                             " fixes it to ", feed.shape[d]);
    }
  }
  if (dims.GetElementCount() < 0) {
    return InvalidArgument(what, ": GetShape() = ", dims.ToString(),
                           " has more elements than int64 can count");
  }
  void* sample_data = feed.data->GetSample();
  if (sample_data == nullptr) return InvalidArgument(what, ": GetSample() returned null");
  *tensor = Tensor::Wrap(dtype, dims, sample_data, feed.name);
  return Status::Ok();
}

// `s` with "Calibrate: " in front of its message (errors of the layers calibration uses).
Status Prefixed(const Status& s) {
  return s.ok() ? s : Status(s.code(), StrCat("Calibrate: ", s.message()));
}

// A data object's own failure, with its code kept and the context added.
Status DataError(const InputFeed& feed, const char* call, int64_t sample, const Status& s) {
  const std::string where = sample >= 0 ? StrCat(" at sample ", sample) : std::string();
  return Status(s.code(), StrCat(feed.What(), ": ", call, " failed", where, ": ", s.message()));
}

class CalibratorImpl final : public ICalibrator {
 public:
  Status Calibrate(INetwork* network, const std::vector<CalibDataInterface*>& data,
                   const CalibrationOptions& options) override {
    return Guard("Calibrate", [&]() { return CalibrateImpl(network, data, options); });
  }

  Status SaveTable(const std::string& path) const override {
    return Guard("SaveTable", [&]() -> Status {
      if (!has_table_) {
        return Status(StatusCode::kFailedPrecondition,
                      "SaveTable: there is no calibration table yet (run Calibrate or LoadTable)");
      }
      return WriteTableFile(table_, path);
    });
  }

  Status LoadTable(const std::string& path) override {
    return Guard("LoadTable", [&]() -> Status {
      CalibrationTable table;
      QSDK_RETURN_IF_ERROR(ReadTableFile(path, &table));
      table_ = std::move(table);
      source_ = StrCat("calibration table '", path, "'");
      has_table_ = true;
      return Status::Ok();
    });
  }

  Status ApplyTable(INetwork* network) const override {
    return Guard("ApplyTable", [&]() -> Status {
      if (!has_table_) {
        return Status(StatusCode::kFailedPrecondition,
                      "ApplyTable: there is no calibration table yet (run Calibrate or LoadTable)");
      }
      auto* net = network == nullptr ? nullptr : dynamic_cast<graph::NetworkImpl*>(network);
      if (net == nullptr) {
        return InvalidArgument("ApplyTable: the network is null or was not created by "
                               "qsdk::CreateINetwork");
      }
      return ApplyTableToGraph(table_, source_, &net->mutable_graph());
    });
  }

  bool HasTable() const override { return has_table_; }

 private:
  // The API boundary: no exception escapes (the data object and the progress callback are
  // user code and may throw too).
  template <typename Fn>
  static Status Guard(const char* operation, Fn fn) {
    try {
      return fn();
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kResourceExhausted, StrCat(operation, ": out of memory"));
    } catch (const std::exception& e) {
      return InternalError(operation, ": exception (from qsdk, the calibration data or the "
                           "progress callback): ", e.what());
    } catch (...) {
      return InternalError(operation, ": a non-standard exception was thrown (from the "
                           "calibration data or the progress callback)");
    }
  }

  Status CalibrateImpl(INetwork* network, const std::vector<CalibDataInterface*>& data,
                       const CalibrationOptions& options) {
    auto* net = network == nullptr ? nullptr : dynamic_cast<graph::NetworkImpl*>(network);
    if (net == nullptr) {
      return InvalidArgument("Calibrate: the network is null or was not created by "
                             "qsdk::CreateINetwork");
    }
    QSDK_RETURN_IF_ERROR(ValidateOptions(options));
    const graph::Graph& network_graph = net->graph();
    std::vector<InputFeed> feeds;
    QSDK_RETURN_IF_ERROR(MatchInputs(network_graph, data, &feeds));

    CalibrationGraph cg;
    QSDK_RETURN_IF_ERROR(Prefixed(BuildCalibrationGraph(network_graph, &cg)));
    std::unique_ptr<IEngine> engine;
    QSDK_RETURN_IF_ERROR(Prefixed(runtime::CreateEngine(cg.graph, &engine)));
    std::unique_ptr<IContext> context;
    QSDK_RETURN_IF_ERROR(Prefixed(engine->CreateIContext(&context)));

    std::vector<TensorStatistics> input_stats(feeds.size(),
                                              TensorStatistics(options.histogram_bins));
    std::vector<TensorStatistics> stats(cg.observed.size(),
                                        TensorStatistics(options.histogram_bins));
    for (const InputFeed& feed : feeds) {
      const Status reset = feed.data->Reset();
      if (!reset.ok()) return DataError(feed, "Reset()", -1, reset);
    }
    const int64_t total = options.max_samples > 0 ? options.max_samples : -1;
    std::vector<Tensor> inputs(feeds.size());
    std::vector<Tensor> outputs;
    int64_t sample = 0;
    while (options.max_samples < 0 || sample < options.max_samples) {
      bool more = false;
      QSDK_RETURN_IF_ERROR(Advance(feeds, sample, &more));
      if (!more) break;
      for (size_t i = 0; i < feeds.size(); ++i) {
        QSDK_RETURN_IF_ERROR(CurrentBatch(feeds[i], sample, &inputs[i]));
        const Status added =
            input_stats[i].Add(inputs[i].Data<float>(), inputs[i].GetDimension().GetDims());
        if (!added.ok()) {
          return InvalidArgument(feeds[i].What(), ", sample ", sample, ": ", added.message());
        }
      }
      const Status run = context->Execute(inputs, &outputs);
      if (!run.ok()) {
        return Status(run.code(), StrCat("Calibrate: sample ", sample, ": ", run.message()));
      }
      for (size_t k = 0; k < cg.observed.size(); ++k) {
        const Tensor& out = outputs[cg.output_index[k]];
        const Status added = stats[k].Add(out.Data<float>(), out.GetDimension().GetDims());
        if (!added.ok()) {
          const graph::Graph& g = *cg.graph;
          const graph::TensorId t = cg.observed[k];
          return InvalidArgument("Calibrate: sample ", sample, ": ", g.DescribeTensor(t),
                                 " (output of ", g.DescribeNode(g.tensors[t].producer), "): ",
                                 added.message(),
                                 " (check the network's weights and the calibration data)");
        }
      }
      ++sample;
      if (options.progress) options.progress(sample, total);
    }
    if (sample == 0) {
      return InvalidArgument(feeds[0].What(),
                             " has no sample: the first Next() returned out_of_range");
    }

    CalibrationTable table;
    table.fingerprint = NetworkFingerprint(network_graph);
    table.algorithm = options.algorithm;
    table.samples = sample;
    const auto add_range = [&](const std::string& name, const std::vector<int64_t>& shape,
                               const TensorStatistics& s) -> Status {
      // Per-channel ranges only where the network fixes the channel count (a per-axis
      // range needs one bound per index of a fixed extent).
      CalibrationOptions tensor_options = options;
      tensor_options.per_channel = options.per_channel && shape.size() >= 2 && shape[1] >= 1;
      graph::TensorRange range;
      const Status computed = ComputeRange(s, tensor_options, &range);
      if (!computed.ok()) {
        return Status(computed.code(), StrCat("Calibrate: tensor '", name, "': ",
                                              computed.message()));
      }
      table.tensors[name] = std::move(range);
      return Status::Ok();
    };
    for (size_t i = 0; i < feeds.size(); ++i) {
      QSDK_RETURN_IF_ERROR(add_range(feeds[i].name, feeds[i].shape, input_stats[i]));
    }
    for (size_t k = 0; k < cg.observed.size(); ++k) {
      const graph::Tensor& t = cg.graph->tensors[cg.observed[k]];
      QSDK_RETURN_IF_ERROR(add_range(t.name, t.shape, stats[k]));
    }
    const std::string source = "calibration table (computed by Calibrate)";
    QSDK_RETURN_IF_ERROR(ApplyTableToGraph(table, source, &net->mutable_graph()));
    table_ = std::move(table);
    source_ = source;
    has_table_ = true;
    return Status::Ok();
  }

  // Pairs `data` with the network's inputs, in order.
  static Status MatchInputs(const graph::Graph& g, const std::vector<CalibDataInterface*>& data,
                            std::vector<InputFeed>* feeds) {
    if (g.inputs.empty()) {
      return InvalidArgument("Calibrate: the network has no input; there is nothing to calibrate");
    }
    std::string names;
    for (graph::TensorId id : g.inputs) {
      names += StrCat(names.empty() ? "" : ", ", "'", g.tensors[id].name, "'");
    }
    if (data.size() != g.inputs.size()) {
      return InvalidArgument("Calibrate: ", data.size(), " calibration data objects for a network "
                             "with ", g.inputs.size(), " input(s) (", names,
                             "); give one per network input, in INetwork::GetInputs() order");
    }
    for (size_t i = 0; i < data.size(); ++i) {
      const graph::Tensor& t = g.tensors[g.inputs[i]];
      if (data[i] == nullptr) {
        return InvalidArgument("Calibrate: calibration data ", i, " (for input '", t.name,
                               "') is null");
      }
      InputFeed feed;
      feed.id = g.inputs[i];
      feed.name = t.name;
      feed.dtype = t.dtype;
      feed.shape = t.shape;
      feed.data = data[i];
      feeds->push_back(std::move(feed));
    }
    return Status::Ok();
  }

  // Calls Next() on every feed; *more is false when all are exhausted. Inputs running out
  // at different samples are an error (their batches would no longer correspond).
  static Status Advance(const std::vector<InputFeed>& feeds, int64_t sample, bool* more) {
    const InputFeed* exhausted = nullptr;
    const InputFeed* live = nullptr;
    for (const InputFeed& feed : feeds) {
      const Status s = feed.data->Next();
      if (s.code() == StatusCode::kOutOfRange) {
        if (exhausted == nullptr) exhausted = &feed;
      } else if (!s.ok()) {
        return DataError(feed, "Next()", sample, s);
      } else if (live == nullptr) {
        live = &feed;
      }
    }
    if (exhausted != nullptr && live != nullptr) {
      return InvalidArgument("Calibrate: calibration data for input '", exhausted->name,
                             "' ran out after ", sample, " samples while input '", live->name,
                             "' has more; every input needs the same number of samples");
    }
    *more = exhausted == nullptr;
    return Status::Ok();
  }

  bool has_table_ = false;
  CalibrationTable table_;
  std::string source_;
};

}  // namespace
}  // namespace calib

std::unique_ptr<ICalibrator> CreateICalibrator() {
  return std::make_unique<calib::CalibratorImpl>();
}

Status ComputeNetworkFingerprint(const INetwork& network, std::string* hex) {
  if (hex == nullptr) return InvalidArgument("ComputeNetworkFingerprint: hex is null");
  const auto* net = dynamic_cast<const graph::NetworkImpl*>(&network);
  if (net == nullptr) {
    return InvalidArgument("ComputeNetworkFingerprint: the network was not created by "
                           "qsdk::CreateINetwork");
  }
  try {
    *hex = calib::NetworkFingerprint(net->graph());
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, "ComputeNetworkFingerprint: out of memory");
  }
}

}  // namespace qsdk
