// qsdk eval ENGINE: top-1 accuracy of a classifier engine on Fashion-MNIST's test set or
// on any (data, labels) pair of .npy files.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "batch_shape.h"
#include "command.h"
#include "idx_dataset.h"
#include "normalization.h"
#include "npy.h"
#include "progress_bar.h"
#include "qsdk/model.h"
#include "status_util.h"
#include "text_table.h"

namespace qsdk::tools {
namespace {

constexpr const char* kDefaultDatasetDir = "/usr/share/datasets/fashion-mnist";

// Samples to classify, as float input values, with their labels.
struct EvalSet {
  std::string description;
  std::vector<int64_t> sample_shape;  // one sample's extents as stored (without N)
  int64_t count = 0;
  int64_t per_sample = 0;  // elements per sample
  std::vector<int64_t> labels;
  // Writes samples [first, first + n) as floats to `out`.
  std::function<void(int64_t first, int64_t n, float* out)> fill;
};

// Integer labels of any integer dtype, shape [N] or [N,1].
Status LabelsFromNpy(const NpyArray& a, const std::string& path, std::vector<int64_t>* labels) {
  if (!NpyIsInteger(a.dtype)) {
    return InvalidArgumentStatus("labels '" + path + "' have dtype " + NpyDTypeName(a.dtype) +
                                 "; labels must be integers (e.g. '<i8', '|u1')");
  }
  if (!(a.shape.size() == 1 || (a.shape.size() == 2 && a.shape[1] == 1))) {
    return InvalidArgumentStatus("labels '" + path + "' have shape " + a.ShapeString() +
                                 "; expected [N] or [N,1]");
  }
  const int64_t n = a.shape[0];
  labels->resize(static_cast<size_t>(n));
  const size_t item = NpyItemSize(a.dtype);
  const bool is_signed = a.dtype == NpyDType::kInt8 || a.dtype == NpyDType::kInt16 ||
                         a.dtype == NpyDType::kInt32 || a.dtype == NpyDType::kInt64;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* p = a.data.data() + static_cast<size_t>(i) * item;
    uint64_t raw = 0;
    std::memcpy(&raw, p, item);  // little-endian host: the low bytes
    int64_t v = static_cast<int64_t>(raw);
    if (is_signed && item < 8 && (raw >> (item * 8 - 1)) & 1) {
      v = static_cast<int64_t>(raw | (~uint64_t{0} << (item * 8)));  // sign-extend
    }
    if (!is_signed && item == 8 && raw > static_cast<uint64_t>(INT64_MAX)) v = -1;
    (*labels)[static_cast<size_t>(i)] = v;
  }
  return Status::Ok();
}

class EvalCommand final : public Command {
 public:
  explicit EvalCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "eval",
        "Top-1 accuracy of a classifier engine: on Fashion-MNIST's 10,000 test images "
        "(--dataset fashion-mnist) or on --data X.npy --labels Y.npy.");
    app_->add_option("ENGINE", engine_path_, "Engine file (.qsdk)")->required();
    auto* dataset = app_->add_option("--dataset", dataset_, "Built-in dataset")
                        ->check(CLI::IsMember({"fashion-mnist"}));
    app_->add_option("--dataset-dir", dataset_dir_,
                     "Folder of t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]")
        ->default_val(kDefaultDatasetDir)
        ->needs(dataset);
    auto* data = app_->add_option(
        "--data", data_path_,
        "Samples [N, ...] (.npy): the input's dtype, or uint8 (normalized as --normalize says)");
    auto* labels =
        app_->add_option("--labels", labels_path_, "Labels [N] or [N,1] (.npy, any integer dtype)");
    data->needs(labels);
    labels->needs(data);
    dataset->excludes(data);
    dataset->excludes(labels);
    app_->add_option("--limit", limit_, "Evaluate only the first N samples")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
    app_->add_option("-b,--batch", batch_,
                     "Samples per run (default 100; a fixed batch of the model is used as is)")
        ->check(CLI::Range(1, 1 << 20));
    app_->add_option("--normalize", normalize_text_,
                     "MEAN,STD for uint8 data: x/255 then (x-MEAN)/STD (default 0.2860,0.3530, "
                     "Fashion-MNIST's)")
        ->check([](const std::string& text) {
          Normalization n;
          const Status s = ParseNormalization(text, &n);
          return s.ok() ? std::string() : s.message();
        });
    app_->add_option("--output", output_name_,
                     "The output holding the class scores (default: the first output)");
    app_->add_option("--threads-per-context", threads_per_context_,
                     "Threads the evaluation uses inside a step (ContextOptions::num_threads); "
                     "0 = the OpenMP default: OMP_NUM_THREADS, else every hardware thread")
        ->default_val(0)
        ->check(CLI::Range(0, 1024));
    app_->add_flag("--json", json_, "Print the result as JSON on stdout");
  }

  CLI::App* app() const override { return app_; }

  int Run() override {
    if (dataset_.empty() && data_path_.empty()) {
      return ReportUsage("eval", "give --dataset fashion-mnist or --data X.npy --labels Y.npy");
    }
    std::optional<Normalization> norm;
    if (!normalize_text_.empty()) {
      norm = Normalization{};
      (void)ParseNormalization(normalize_text_, &*norm);  // validated by the option's check
    }
    std::unique_ptr<IModel> model;
    std::unique_ptr<IEngine> engine;
    Status s = LoadEngine(engine_path_, &model, &engine);
    if (!s.ok()) return ReportFailure("eval", s);
    const std::vector<TensorDesc> inputs = engine->GetInputs();
    const std::vector<TensorDesc> outputs = engine->GetOutputs();
    if (inputs.size() != 1) {
      return ReportFailure(
          "eval", InvalidArgumentStatus("eval needs a model with one input; this one has " +
                                        std::to_string(inputs.size())));
    }
    const TensorDesc& input = inputs[0];
    if (input.data_type != DataType::FLOAT32) {
      return ReportFailure("eval", InvalidArgumentStatus("input '" + input.name + "' is " +
                                                         DataTypeName(input.data_type) +
                                                         "; eval feeds FLOAT32 inputs"));
    }
    size_t output_index = 0;
    if (!output_name_.empty()) {
      output_index = outputs.size();
      std::string names;
      for (size_t i = 0; i < outputs.size(); ++i) {
        if (outputs[i].name == output_name_) output_index = i;
        names += (names.empty() ? "'" : ", '") + outputs[i].name + "'";
      }
      if (output_index == outputs.size()) {
        return ReportUsage("eval", "--output '" + output_name_ +
                                       "': the model has no such output (outputs: " + names + ")");
      }
    }

    // The batch: a fixed first extent of the input is used; --batch must agree.
    const int64_t first = input.dims.GetDimsNum() > 0 ? input.dims.GetDimValue(0) : 1;
    if (first >= 0 && batch_ > 0 && batch_ != first) {
      return ReportUsage("eval", "--batch " + std::to_string(batch_) + ": input '" + input.name +
                                     "' has a fixed batch of " + std::to_string(first));
    }
    const int64_t batch = first >= 0 ? first : (batch_ > 0 ? batch_ : 100);

    EvalSet set;
    // The arrays the fill function reads; they outlive it.
    IdxArray images, idx_labels;
    NpyArray data, labels;
    if (!dataset_.empty()) {
      s = ReadFashionMnistTest(dataset_dir_, &images, &idx_labels);
      if (!s.ok()) return ReportFailure("eval", s);
      const Normalization n = norm.value_or(Normalization{});
      set.description =
          "Fashion-MNIST test set in '" + dataset_dir_ + "' (" + DescribeNormalization(n) + ")";
      set.sample_shape.assign(images.dims.begin() + 1, images.dims.end());
      set.count = images.Count();
      set.per_sample = images.ItemSize();
      set.labels.assign(idx_labels.data.begin(), idx_labels.data.end());
      set.fill = [&images, n, per = set.per_sample](int64_t first_sample, int64_t count,
                                                    float* out) {
        NormalizeU8(images.data.data() + first_sample * per, static_cast<size_t>(count * per), n,
                    out);
      };
    } else {
      s = ReadNpy(data_path_, &data);
      if (s.ok()) s = ReadNpy(labels_path_, &labels);
      if (s.ok()) s = LabelsFromNpy(labels, labels_path_, &set.labels);
      if (!s.ok()) return ReportFailure("eval", s);
      if (data.shape.empty()) {
        return ReportFailure("eval", InvalidArgumentStatus("data '" + data_path_ +
                                                           "' is a scalar; expected [N, ...]"));
      }
      set.sample_shape.assign(data.shape.begin() + 1, data.shape.end());
      set.count = data.shape[0];
      set.per_sample = set.count > 0 ? data.ElementCount() / set.count : 0;
      if (static_cast<int64_t>(set.labels.size()) != set.count) {
        return ReportFailure(
            "eval", InvalidArgumentStatus("'" + data_path_ + "' has " + std::to_string(set.count) +
                                          " samples but '" + labels_path_ + "' has " +
                                          std::to_string(set.labels.size()) + " labels"));
      }
      if (data.dtype == NpyDType::kUInt8) {
        const Normalization n = norm.value_or(Normalization{});
        set.description = "'" + data_path_ + "' (uint8, " + DescribeNormalization(n) + ")";
        set.fill = [&data, n, per = set.per_sample](int64_t first_sample, int64_t count,
                                                    float* out) {
          NormalizeU8(data.data.data() + first_sample * per, static_cast<size_t>(count * per), n,
                      out);
        };
      } else if (data.dtype == NpyDType::kFloat32) {
        if (norm) {
          return ReportUsage("eval", "--normalize applies to uint8 data; '" + data_path_ +
                                         "' is float32 (used as is)");
        }
        set.description = "'" + data_path_ + "' (float32)";
        set.fill = [&data, per = set.per_sample](int64_t first_sample, int64_t count, float* out) {
          std::memcpy(out, data.data.data() + first_sample * per * 4,
                      static_cast<size_t>(count * per) * 4);
        };
      } else {
        return ReportFailure(
            "eval", InvalidArgumentStatus("data '" + data_path_ + "' has dtype " +
                                          NpyDTypeName(data.dtype) + "; input '" + input.name +
                                          "' is FLOAT32 (give float32, or uint8 to normalize)"));
      }
    }
    if (set.count == 0) {
      return ReportFailure("eval", InvalidArgumentStatus("no samples to evaluate"));
    }
    // Each sample must fit the input (per-sample rule): check with a batch of one.
    std::vector<int64_t> one = set.sample_shape;
    one.insert(one.begin(), 1);
    std::vector<int64_t> fitted;
    Dims any_batch = input.dims;
    {
      std::vector<int64_t> d = input.dims.GetDims();
      if (!d.empty()) d[0] = -1;
      any_batch = Dims(d);
    }
    s = FitBatchShape(one, "the samples of " + set.description, input.name, any_batch, &fitted);
    if (!s.ok()) return ReportFailure("eval", s);
    const int64_t total = limit_ > 0 ? std::min(limit_, set.count) : set.count;

    std::unique_ptr<IContext> context;
    ContextOptions options;
    options.num_threads = threads_per_context_;
    s = engine->CreateIContext(options, &context);
    if (!s.ok()) return ReportFailure("eval", s);
    std::vector<int64_t> shape = fitted;
    shape[0] = batch;
    Tensor in = Tensor::Allocate(DataType::FLOAT32, Dims(shape), input.name);
    if (in.empty()) {
      return ReportFailure("eval", InvalidArgumentStatus("cannot allocate the input batch " +
                                                         Dims(shape).ToString()));
    }
    std::optional<ProgressBar> bar;
    if (ProgressBar::IsTerminal(stderr) && !json_) {
      bar.emplace(stderr, "evaluating", "samples", /*interactive=*/true);
    }
    std::vector<Tensor> results;
    int64_t correct = 0, classes = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int64_t done = 0; done < total;) {
      const int64_t n = std::min(batch, total - done);
      // A fixed batch larger than what is left is padded with zeros; those are ignored.
      // A dynamic batch simply shrinks.
      const int64_t run_batch = first >= 0 ? batch : n;
      shape[0] = run_batch;
      Tensor view = Tensor::Wrap(DataType::FLOAT32, Dims(shape), in.GetData(), input.name);
      std::fill_n(in.Data<float>(), run_batch * set.per_sample, 0.0f);
      set.fill(done, n, in.Data<float>());
      s = context->Execute({view}, &results);
      if (!s.ok()) return ReportFailure("eval", s);
      const Tensor& scores = results[output_index];
      if (scores.GetDataType() != DataType::FLOAT32 || scores.GetDimension().GetDimsNum() < 1 ||
          scores.GetDimension().GetDimValue(0) != run_batch) {
        return ReportFailure("eval",
                             InvalidArgumentStatus("output '" + scores.GetName() + "' is " +
                                                   DataTypeName(scores.GetDataType()) + " " +
                                                   scores.GetDimension().ToString() +
                                                   "; eval needs FLOAT32 scores [N, classes]"));
      }
      classes = scores.GetElementCount() / run_batch;
      for (int64_t i = 0; i < n; ++i) {
        const float* row = scores.Data<float>() + i * classes;
        const int64_t predicted = std::max_element(row, row + classes) - row;
        const int64_t label = set.labels[static_cast<size_t>(done + i)];
        if (label < 0 || label >= classes) {
          return ReportFailure("eval", InvalidArgumentStatus(
                                           "label " + std::to_string(done + i) + " is " +
                                           std::to_string(label) + "; output '" + scores.GetName() +
                                           "' has " + std::to_string(classes) + " classes"));
        }
        correct += predicted == label;
      }
      done += n;
      if (bar) bar->Update(done, total);
    }
    const double seconds = SecondsSince(start);
    if (bar) bar->Finish();
    const double accuracy = static_cast<double>(correct) / static_cast<double>(total);
    if (json_) {
      PrintJson({{"engine", engine_path_},
                 {"data", set.description},
                 {"samples", total},
                 {"correct", correct},
                 {"top1", accuracy},
                 {"classes", classes},
                 {"batch", batch},
                 {"seconds", seconds},
                 {"images_per_second", seconds > 0 ? static_cast<double>(total) / seconds : 0.0},
                 {"threads_per_context", context->GetNumThreads()}});
      return kExitOk;
    }
    char line[64];
    std::snprintf(line, sizeof(line), "%.2f%%", 100.0 * accuracy);
    std::printf(
        "%s",
        RenderKeyValues(
            {
                {"engine", engine_path_ + " (" + model->GetName() + ")"},
                {"data", set.description},
                {"samples", std::to_string(total) + " in batches of " + std::to_string(batch)},
                {"top-1", std::string(line) + " (" + std::to_string(correct) + " / " +
                              std::to_string(total) + ")"},
                {"time",
                 FormatSeconds(seconds) + " (" +
                     std::to_string(static_cast<int64_t>(seconds > 0 ? total / seconds : 0)) +
                     " images/s, " + std::to_string(context->GetNumThreads()) +
                     (context->GetNumThreads() == 1 ? " thread)" : " threads)")},
            },
            "")
            .c_str());
    return kExitOk;
  }

 private:
  CLI::App* app_ = nullptr;
  std::string engine_path_;
  std::string dataset_;
  std::string dataset_dir_ = kDefaultDatasetDir;
  std::string data_path_, labels_path_;
  int64_t limit_ = 0;  // 0: all
  int64_t batch_ = 0;  // 0: default
  std::string normalize_text_;
  std::string output_name_;
  int threads_per_context_ = 0;  // 0: the OpenMP default
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> AddEvalCommand(CLI::App* parent) {
  return std::make_unique<EvalCommand>(parent);
}

}  // namespace qsdk::tools
