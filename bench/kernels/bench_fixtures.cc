#include "kernels/bench_fixtures.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <random>
#include <unordered_map>

#include "common/status_macros.h"
#include "graph/attributes.h"
#include "graph/shape_inference.h"
#include "reference/float_types.h"
#include "reference/quant_math.h"

namespace qsdk::bench {
namespace {

using dnnl::memory;
using tag = memory::format_tag;

// Scales of the int8 node: values are irrelevant to the timing, but they must be valid
// quantization parameters (finite, > 0) and the same for every run.
constexpr float kInputScale = 0.02f;
constexpr float kOutputScale = 0.05f;

// Runs `fn`, turning an exception (dnnl::error, bad_alloc) into a Status naming `what`.
template <typename Fn>
Status Guard(const std::string& what, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return InternalError(what, ": ", e.what());
  }
}

memory::data_type DnnlType(Precision precision) {
  switch (precision) {
    case Precision::kBf16: return memory::data_type::bf16;
    case Precision::kInt8: return memory::data_type::u8;
    default: return memory::data_type::f32;
  }
}

// `count` random elements of oneDNN type `type` as raw bytes: floats uniform in [-1, 1)
// (f32, or rounded to bf16), integers uniform over the type's range (u8 / s8).
std::vector<uint8_t> RandomBytes(memory::data_type type, int64_t count, std::mt19937* rng) {
  std::vector<uint8_t> bytes;
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  std::uniform_int_distribution<int> byte(0, 255);
  const size_t n = static_cast<size_t>(count);
  switch (type) {
    case memory::data_type::f32: {
      bytes.resize(n * sizeof(float));
      float* values = reinterpret_cast<float*>(bytes.data());
      for (size_t i = 0; i < n; ++i) values[i] = real(*rng);
      break;
    }
    case memory::data_type::bf16: {
      bytes.resize(n * sizeof(uint16_t));
      uint16_t* values = reinterpret_cast<uint16_t*>(bytes.data());
      for (size_t i = 0; i < n; ++i) values[i] = reference::FloatToBfloat16Bits(real(*rng));
      break;
    }
    default:  // u8 / s8: any byte is a valid value of either
      bytes.resize(n);
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(byte(*rng));
      break;
  }
  return bytes;
}

// A memory of layout `md` holding `plain` (dense row-major bytes of md's dims and type),
// reordered as a context would.
memory LaidOut(const memory::desc& md, std::vector<uint8_t>* plain, const dnnl::engine& engine,
               dnnl::stream& stream) {
  const memory::dims dims = md.dims();
  const memory::desc plain_md =
      runtime::PlainDesc(std::vector<int64_t>(dims.begin(), dims.end()), md.data_type());
  memory src(plain_md, engine, plain->data());
  memory dst(md, engine);
  dnnl::reorder(src, dst).execute(stream, src, dst);
  stream.wait();
  return dst;
}

memory Scratchpad(size_t bytes, const dnnl::engine& engine) {
  if (bytes == 0) return memory();
  return memory(memory::desc({static_cast<memory::dim>(bytes)}, memory::data_type::u8, tag::x),
                engine);
}

// oneDNN's name of a 4-D activation layout: outer dimensions by decreasing stride, a
// blocked one in upper case, then the inner blocks ("nChw16c", "nhwc", "nchw").
std::string DescribeLayout(const memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  if (d.format_kind != dnnl_blocked || d.ndims != 4) return "other";
  const char kLetters[] = "nchw";
  const dnnl_blocking_desc_t& blocking = d.format_desc.blocking;
  std::vector<int> order = {0, 1, 2, 3};
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return blocking.strides[a] > blocking.strides[b]; });
  std::vector<bool> blocked(4, false);
  for (int i = 0; i < blocking.inner_nblks; ++i) blocked[blocking.inner_idxs[i]] = true;
  std::string name;
  for (int dim : order) {
    name += blocked[dim] ? static_cast<char>(kLetters[dim] - 'a' + 'A') : kLetters[dim];
  }
  for (int i = 0; i < blocking.inner_nblks; ++i) {
    name += std::to_string(blocking.inner_blks[i]) + kLetters[blocking.inner_idxs[i]];
  }
  return name;
}

// The one-node graph of `s` in precision `p` (see the header for the node forms).
Status BuildConvGraph(const ConvShape& s, Precision p, std::mt19937* rng, graph::Graph* g,
                      graph::NodeId* id) {
  const int64_t c_per_group = s.in_channels / s.group;
  const std::vector<int64_t> w_shape = {s.out_channels, c_per_group, s.kernel, s.kernel};
  const int64_t w_count = graph::ElementCount(w_shape);
  // Weights in [-1, 1) / sqrt(fan-in), as a trained layer's are roughly scaled.
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  const float w_range = 1.0f / std::sqrt(static_cast<float>(c_per_group * s.kernel * s.kernel));
  std::vector<float> w(static_cast<size_t>(w_count));
  for (float& v : w) v = w_range * real(*rng);
  std::vector<float> b(static_cast<size_t>(s.out_channels));
  for (float& v : b) v = 0.1f * real(*rng);

  graph::Tensor x;
  x.name = "x";
  x.shape = {1, s.in_channels, s.size, s.size};
  graph::TensorId w_id = graph::kNoTensor, b_id = graph::kNoTensor;
  switch (p) {
    case Precision::kFp32:
      w_id = g->AddConstant("w", DataType::FLOAT32, w_shape, w.data(), w.size() * sizeof(float));
      break;
    case Precision::kBf16: {
      x.dtype = DataType::BFLOAT16;
      std::vector<uint16_t> w16(w.size());
      for (size_t i = 0; i < w.size(); ++i) w16[i] = reference::FloatToBfloat16Bits(w[i]);
      w_id = g->AddConstant("w", DataType::BFLOAT16, w_shape, w16.data(),
                            w16.size() * sizeof(uint16_t));
      break;
    }
    case Precision::kInt8: {
      // The builder's form (quantize_graph.cc): a u8 activation (z = 0 after a ReLU), s8
      // weights per output channel (axis 0), the bias quantized to INT32 with scales
      // s_x * s_w[oc].
      x.dtype = DataType::UINT8;
      x.quant.scales = {kInputScale};
      x.quant.zero_points = {0};
      std::vector<int8_t> wq;
      graph::QuantParams w_quant;
      QSDK_RETURN_IF_ERROR(reference::QuantizeWeights(w.data(), w_shape, 0, &wq, &w_quant));
      w_id = g->AddConstant("w", DataType::INT8, w_shape, wq.data(), wq.size());
      std::vector<int32_t> bq;
      graph::QuantParams b_quant;
      QSDK_RETURN_IF_ERROR(reference::QuantizeBias(b.data(), {s.out_channels}, kInputScale,
                                                   w_quant, &bq, &b_quant));
      b_id = g->AddConstant("b", DataType::INT32, {s.out_channels}, bq.data(),
                            bq.size() * sizeof(int32_t));
      g->tensors[w_id].quant = w_quant;
      g->tensors[b_id].quant = b_quant;
      break;
    }
  }
  if (b_id == graph::kNoTensor) {
    b_id = g->AddConstant("b", DataType::FLOAT32, {s.out_channels}, b.data(),
                          b.size() * sizeof(float));
  }
  const graph::TensorId x_id = g->AddTensor(x);
  g->inputs = {x_id};

  graph::Tensor y;
  y.name = "y";
  if (p == Precision::kBf16) y.dtype = DataType::BFLOAT16;
  if (p == Precision::kInt8) {
    // After a ReLU / ReLU6 the output is u8 with z = 0; a linear output (MobileNetV2's
    // projections) is symmetric s8.
    y.dtype = s.activation == ActivationType::kNone ? DataType::INT8 : DataType::UINT8;
    y.quant.scales = {kOutputScale};
    y.quant.zero_points = {0};
  }
  const graph::TensorId y_id = g->AddTensor(y);
  g->outputs = {y_id};

  graph::Node node;
  node.type = NodeType::kConv;
  node.name = "conv";
  node.inputs = {x_id, w_id, b_id};
  node.outputs = {y_id};
  node.attrs.SetInts(graph::attr::kStrides, {s.stride, s.stride});
  node.attrs.SetInts(graph::attr::kPads, {s.pad, s.pad, s.pad, s.pad});
  node.attrs.SetInts(graph::attr::kDilations, {1, 1});
  node.attrs.SetInt(graph::attr::kGroup, s.group);
  node.attrs.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(s.activation));
  node.attrs.SetFloat(graph::attr::kFusedAlpha, 0.0);
  node.attrs.SetFloat(graph::attr::kFusedBeta, 0.0);
  *id = g->AddNode(std::move(node));
  return graph::InferShapes(g);
}

}  // namespace

const char* PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kBf16: return "bf16";
    case Precision::kInt8: return "int8";
    default: return "fp32";
  }
}

double ConvShape::Macs() const {
  const double out = static_cast<double>(OutSize());
  return static_cast<double>(out_channels) * out * out *
         static_cast<double>(in_channels / group) * static_cast<double>(kernel * kernel);
}

std::string ConvShape::Label() const {
  std::string label = std::to_string(kernel) + "x" + std::to_string(kernel);
  if (stride != 1) label += "s" + std::to_string(stride);
  if (group > 1 && group == in_channels && group == out_channels) {
    return label + "dw_" + std::to_string(in_channels) + "_" + std::to_string(size);
  }
  if (group > 1) label += "g" + std::to_string(group);
  return label + "_" + std::to_string(in_channels) + "x" + std::to_string(out_channels) + "_" +
         std::to_string(size);
}

Status ConvFixture::Create(const ConvShape& shape, Precision precision,
                           const dnnl::engine& engine, std::unique_ptr<ConvFixture>* fixture) {
  const std::string what = StrCat("conv ", shape.net, "/", shape.Label(), " ",
                                  PrecisionName(precision));
  std::unique_ptr<ConvFixture> f(new ConvFixture());
  std::mt19937 rng(20240611);
  graph::NodeId id = graph::kNoNode;
  QSDK_RETURN_IF_ERROR(Guard(what, [&] { return BuildConvGraph(shape, precision, &rng,
                                                               &f->graph_, &id); }));
  // The engine's path: the kernel dispatcher packs the weights; Instantiate builds the
  // primitive for the concrete shape.
  QSDK_RETURN_IF_ERROR(runtime::CreateKernel(f->graph_, id, engine, &f->kernel_));
  f->kernel_name_ = f->kernel_->name();
  return Guard(what, [&]() -> Status {
    const std::vector<int64_t>& x_shape = f->graph_.tensors[f->graph_.inputs[0]].shape;
    runtime::InstantiateArgs args;
    args.engine = &engine;
    args.input_descs = {runtime::PlainDesc(x_shape, DnnlType(precision))};
    args.output_shapes = {f->graph_.tensors[f->graph_.outputs[0]].shape};
    QSDK_RETURN_IF_ERROR(f->kernel_->Instantiate(args, &f->instance_));
    if (f->instance_->input_descs().size() != 1 || f->instance_->output_descs().size() != 1 ||
        f->instance_->output_alias() != runtime::OutputAlias::kNone) {
      return InternalError(what, ": the instance has ", f->instance_->input_descs().size(),
                           " inputs and ", f->instance_->output_descs().size(),
                           " outputs; expected 1 and 1, no aliasing");
    }
    const memory::desc& x_md = f->instance_->input_descs()[0];
    const memory::desc& y_md = f->instance_->output_descs()[0];
    f->layouts_ = DescribeLayout(x_md) + "->" + DescribeLayout(y_md);
    dnnl::stream stream(engine);
    std::vector<uint8_t> x_bytes = RandomBytes(x_md.data_type(), graph::ElementCount(x_shape),
                                               &rng);
    f->inputs_ = {LaidOut(x_md, &x_bytes, engine, stream)};
    f->outputs_ = {memory(y_md, engine)};
    f->scratchpad_ = Scratchpad(f->instance_->scratchpad_bytes(), engine);
    // Warm-up: the first executions pay for oneDNN's lazy initialization (AMX tile
    // configuration, first-touch page faults of the output and scratchpad).
    for (int i = 0; i < 3; ++i) f->Run(stream);
    stream.wait();
    *fixture = std::move(f);
    return Status::Ok();
  });
}

void ConvFixture::Run(dnnl::stream& stream) const {
  instance_->Execute(stream, inputs_, outputs_, scratchpad_);
}

Status MatmulFixture::Create(Precision precision, int64_t n, const dnnl::engine& engine,
                             std::unique_ptr<MatmulFixture>* fixture) {
  const std::string what = StrCat("matmul ", n, "^3 ", PrecisionName(precision));
  return Guard(what, [&]() -> Status {
    std::unique_ptr<MatmulFixture> f(new MatmulFixture());
    f->n_ = n;
    memory::data_type src_dt = memory::data_type::f32, wei_dt = memory::data_type::f32,
                      dst_dt = memory::data_type::f32;
    if (precision == Precision::kBf16) {
      src_dt = wei_dt = dst_dt = memory::data_type::bf16;
    } else if (precision == Precision::kInt8) {
      src_dt = memory::data_type::u8;
      wei_dt = memory::data_type::s8;
      dst_dt = memory::data_type::s32;
    }
    const memory::dims dims = {n, n};
    const memory::desc src_md(dims, src_dt, tag::ab);
    const memory::desc wei_md(dims, wei_dt, tag::any);
    const memory::desc dst_md(dims, dst_dt, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_md, dst_md), attr,
                                          engine);
    f->impl_ = pd.impl_info_str();
    f->primitive_ = dnnl::matmul(pd);

    std::mt19937 rng(20240612);
    dnnl::stream stream(engine);
    std::vector<uint8_t> src_bytes = RandomBytes(src_dt, n * n, &rng);
    std::vector<uint8_t> wei_bytes = RandomBytes(wei_dt, n * n, &rng);
    f->src_ = LaidOut(src_md, &src_bytes, engine, stream);
    f->weights_ = LaidOut(pd.weights_desc(), &wei_bytes, engine, stream);
    f->dst_ = memory(dst_md, engine);
    f->scratchpad_ = Scratchpad(pd.scratchpad_desc().get_size(), engine);
    f->Run(stream);
    stream.wait();
    *fixture = std::move(f);
    return Status::Ok();
  });
}

void MatmulFixture::Run(dnnl::stream& stream) const {
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, dst_}};
  if (scratchpad_) args[DNNL_ARG_SCRATCHPAD] = scratchpad_;
  primitive_.execute(stream, args);
}

double BestSeconds(const std::function<void()>& run, dnnl::stream& stream, double min_seconds) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < 2; ++i) run();
  stream.wait();
  double best = 0.0, total = 0.0;
  for (int runs = 0; total < min_seconds || runs < 3; ++runs) {
    const clock::time_point start = clock::now();
    run();
    stream.wait();
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    best = runs == 0 ? seconds : std::min(best, seconds);
    total += seconds;
  }
  return best;
}

}  // namespace qsdk::bench
