// Dynamically quantized FullyConnected / MatMul (attr dynamic_quantization = 1; point 5 of
// the issue-5 contract): x FLOAT32 at run time, weights a constant INT8 (symmetric, per
// tensor or per output column), optional FLOAT32 bias, fused activation, output FLOAT32.
// Bit-exact with reference::DynamicQuantizedFullyConnected / DynamicQuantizedMatMul.
//
// At each Execute, over the whole input tensor:
//   1. lo = min(0, min x), hi = max(0, max x); (s, z) = reference::ChooseActivationScale
//      (asymmetric, UINT8) - allocation-free, the same function the reference uses;
//   2. x_q = saturate_u8(round_half_even(x * (1/s) + z)) into the scratchpad (this file is
//      compiled with -ffp-contract=off, so the multiply and the add round separately, as
//      reference::QuantizeValue does);
//   3. oneDNN matmul u8 x s8 -> f32 with a runtime source zero point (z) and runtime output
//      scales s * s_w[n]: r = float(sum (x_q - z) * w_q) * (s * s_w[n]), the integer sum
//      exact in int32 (oneDNN's int8 arithmetic is exact with VNNI / AMX; without VNNI
//      oneDNN's int8 products may saturate, as for the static INT8 kernels);
//   4. the bias (any shape that broadcasts to the output) and the fused activation in a
//      loop over the output, in float, with the reference's own expressions: r = r + b;
//      r = act(r). (A binary post-op would add the same float, but oneDNN 2.6 matmul
//      accepts only some broadcast patterns, and its transcendental activations are not
//      bit-exact with the reference's.)
// A non-finite input (which the reference refuses) yields an all-NaN output: Execute cannot
// fail.
//
// The weights are packed once at Kernel creation into the layout oneDNN prefers for a
// nominal shape (instances re-pack from the plain copy when a shape prefers another).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "common/status_macros.h"
#include "graph/attributes.h"
#include "reference/ops.h"
#include "reference/quant_math.h"
#include "runtime/kernels/heavy_kernel_util.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/linear_output_shape.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using MatMulPd = dnnl::matmul::primitive_desc;

constexpr size_t kAlign = 64;
size_t AlignUp(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

std::vector<int64_t> BroadcastReadStrides(const std::vector<int64_t>& shape, size_t rank) {
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[rank - shape.size() + i] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

// The runtime-scales attribute (output scales over the last dim when per column).
dnnl::primitive_attr DynamicAttr(bool per_column, size_t rank) {
  dnnl::primitive_attr attr = UserScratchpadAttr();
  attr.set_output_scales(per_column ? 1 << (rank - 1) : 0, {DNNL_RUNTIME_F32_VAL});
  attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  return attr;
}

struct DynamicData {
  std::string what;
  bool fully_connected = false;
  bool transpose_a = false;
  bool transpose_b = false;
  int64_t k = 0, n = 0;
  std::vector<int64_t> b_shape;      // the stored weights ([OC, K] for FullyConnected)
  std::vector<float> weight_scales;  // s_w per column, or one
  std::vector<float> bias;           // empty: none
  std::vector<int64_t> bias_shape;
  ActivationType activation = ActivationType::kNone;
  float alpha = 0.0f, beta = 0.0f;
  memory plain_b;   // s8 logical [.., K, N] view of the stored weights
  memory packed_b;  // in the layout preferred at the nominal shape
  size_t packed_rank = 0;
};

class DynamicInstance : public KernelInstance {
 public:
  DynamicInstance(std::shared_ptr<const DynamicData> data, const std::vector<int64_t>& x_shape,
                  const std::vector<int64_t>& out_shape, const dnnl::engine& engine)
      : data_(std::move(data)), x_count_(1), out_shape_(out_shape) {
    const DynamicData& d = *data_;
    for (int64_t e : x_shape) x_count_ *= e;
    const size_t rank = out_shape.size();
    // oneDNN views of the quantized copy of x (same element order as x) and of the output.
    memory::desc src_md;
    if (d.fully_connected) {
      src_md = PlainDesc({x_shape[0], d.k}, memory::data_type::u8);
    } else {
      src_md = MatMulLogicalDesc(x_shape, d.transpose_a, rank, memory::data_type::u8);
    }
    const memory::desc dst_md = PlainDesc(out_shape);
    const bool per_column = d.weight_scales.size() > 1;
    const dnnl::primitive_attr attr = DynamicAttr(per_column, rank);
    WeightsChoice weights;
    if (d.packed_rank == rank) {
      pd_ = ChooseWeights<MatMulPd>(
          [&](const memory::desc& b_md) {
            return MatMulPd(dnnl::matmul::desc(src_md, b_md, dst_md), attr, engine);
          },
          d.packed_b, engine, &weights, d.plain_b);
    } else {
      // The output rank differs from the packing's (a broadcast batch of x): view the plain
      // weights at this rank and let oneDNN pick the layout.
      const memory::desc b_view =
          MatMulLogicalDesc(d.b_shape, d.transpose_b, rank, memory::data_type::s8);
      memory plain_view(b_view, engine, d.plain_b.get_data_handle());
      const memory::desc any_b(b_view.dims(), memory::data_type::s8, tag::any);
      pd_ = MatMulPd(dnnl::matmul::desc(src_md, any_b, dst_md), attr, engine);
      weights = {ReorderedCopy(plain_view, pd_.weights_desc(), engine), false};
    }
    weights_ = weights.weights;
    primitive_ = dnnl::matmul(pd_);
    // The per-run min/max and quantization of x is qsdk's loop; the product is oneDNN's.
    AddImplementation("qsdk_dynamic_quantize_loop");
    AddImplementation(pd_.impl_info_str());
    if (!weights.shared) AnnotateImplementation("weights re-laid out for this shape");
    // Runtime parameters, rewritten at each Execute.
    scales_ = memory(memory::desc({static_cast<memory::dim>(d.weight_scales.size())},
                                  memory::data_type::f32, tag::x),
                     engine);
    zero_point_ = memory(memory::desc({1}, memory::data_type::s32, tag::x), engine);
    // Scratchpad: the quantized x, then oneDNN's own scratchpad.
    x_bytes_ = AlignUp(static_cast<size_t>(x_count_));
    const size_t onednn_bytes = pd_.scratchpad_desc().get_size();
    scratchpad_bytes_ = kAlign + x_bytes_ + onednn_bytes;
    src_ = memory(src_md, engine, DNNL_MEMORY_NONE);
    if (onednn_bytes > 0) {
      onednn_scratch_ = memory(pd_.scratchpad_desc(), engine, DNNL_MEMORY_NONE);
    }
    // Bias broadcast: offset of output element i = sum over dims of index * stride.
    if (!d.bias.empty()) bias_strides_ = BroadcastReadStrides(d.bias_shape, rank);
    out_strides_.assign(rank, 1);
    for (size_t i = rank; i-- > 1;) out_strides_[i - 1] = out_strides_[i] * out_shape[i];
    args_.resize(7);
    input_descs_.push_back(PlainDesc(x_shape));
    output_descs_.push_back(dst_md);
  }

  void Execute(dnnl::stream& stream, const std::vector<memory>& inputs,
               const std::vector<memory>& outputs, const memory& scratchpad) const override {
    const DynamicData& d = *data_;
    const auto* x = static_cast<const float*>(inputs[0].get_data_handle());
    auto* y = static_cast<float*>(outputs[0].get_data_handle());
    int64_t out_count = 1;
    for (int64_t e : out_shape_) out_count *= e;
    // 1. The range (0 included) and the parameters.
    float lo = 0.0f, hi = 0.0f;
    bool finite = true;
    for (int64_t i = 0; i < x_count_; ++i) {
      const float v = x[i];
      finite = finite && std::isfinite(v);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    DataType type = DataType::UINT8;
    float s = 1.0f;
    int32_t z = 0;
    if (!finite || !reference::ChooseActivationScale(lo, hi, reference::QuantScheme::kAsymmetric,
                                                     &type, &s, &z)) {
      std::fill(y, y + out_count, std::numeric_limits<float>::quiet_NaN());
      return;
    }
    // 2. Quantize into the scratchpad.
    auto base = reinterpret_cast<uintptr_t>(scratchpad.get_data_handle());
    base = (base + kAlign - 1) / kAlign * kAlign;
    auto* xq = reinterpret_cast<uint8_t*>(base);
    const float inv = reference::InverseScale(s);
    const auto zf = static_cast<float>(z);
    for (int64_t i = 0; i < x_count_; ++i) {
      const float scaled = x[i] * inv;
      const float shifted = scaled + zf;
      // x is finite, so shifted is not NaN: clamp then round half to even (as
      // reference::RoundAndSaturate).
      const float clamped = std::min(std::max(shifted, 0.0f), 255.0f);
      xq[i] = static_cast<uint8_t>(std::nearbyint(clamped));
    }
    // 3. The integer product with runtime scales and zero point.
    auto* scales = static_cast<float*>(scales_.get_data_handle());
    for (size_t c = 0; c < d.weight_scales.size(); ++c) scales[c] = s * d.weight_scales[c];
    *static_cast<int32_t*>(zero_point_.get_data_handle()) = z;
    src_.set_data_handle(xq);
    int nargs = 0;
    args_[nargs++] = {DNNL_ARG_SRC, src_.get()};
    args_[nargs++] = {DNNL_ARG_WEIGHTS, weights_.get()};
    args_[nargs++] = {DNNL_ARG_DST, outputs[0].get()};
    args_[nargs++] = {DNNL_ARG_ATTR_OUTPUT_SCALES, scales_.get()};
    args_[nargs++] = {DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zero_point_.get()};
    if (onednn_scratch_) {
      onednn_scratch_.set_data_handle(reinterpret_cast<void*>(base + x_bytes_));
      args_[nargs++] = {DNNL_ARG_SCRATCHPAD, onednn_scratch_.get()};
    }
    dnnl::error::wrap_c_api(
        dnnl_primitive_execute(primitive_.get(), stream.get(), nargs, args_.data()),
        "could not execute the dynamically quantized matmul");
    stream.wait();
    // 4. Bias and activation, in float, as the reference.
    if (d.bias.empty() && d.activation == ActivationType::kNone) return;
    const size_t rank = out_shape_.size();
    const int64_t n = out_shape_[rank - 1];
    for (int64_t row = 0; row < out_count / n; ++row) {
      const float* bias_row = nullptr;
      int64_t bias_step = 0;
      if (!d.bias.empty()) {
        int64_t offset = 0;
        int64_t rest = row * n;
        for (size_t i = 0; i + 1 < rank; ++i) {
          offset += (rest / out_strides_[i]) * bias_strides_[i];
          rest %= out_strides_[i];
        }
        bias_row = d.bias.data() + offset;
        bias_step = bias_strides_[rank - 1];
      }
      float* out = y + row * n;
      for (int64_t j = 0; j < n; ++j) {
        float r = out[j];
        if (bias_row != nullptr) r = r + bias_row[j * bias_step];
        if (d.activation == ActivationType::kRelu) {
          r = std::max(r, 0.0f);
        } else if (d.activation != ActivationType::kNone) {
          r = reference::ApplyActivation(d.activation, r, d.alpha, d.beta);
        }
        out[j] = r;
      }
    }
  }

 private:
  std::shared_ptr<const DynamicData> data_;
  int64_t x_count_;
  std::vector<int64_t> out_shape_;
  MatMulPd pd_;
  dnnl::matmul primitive_;
  memory weights_;
  memory scales_;
  memory zero_point_;
  memory src_;
  memory onednn_scratch_;
  size_t x_bytes_ = 0;
  std::vector<int64_t> bias_strides_;
  std::vector<int64_t> out_strides_;
  mutable std::vector<dnnl_exec_arg_t> args_;
};

class DynamicKernel : public Kernel {
 public:
  explicit DynamicKernel(std::shared_ptr<const DynamicData> data) : data_(std::move(data)) {}

  std::string name() const override {
    return data_->fully_connected ? "onednn_fully_connected_dynamic_int8"
                                  : "onednn_matmul_dynamic_int8";
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    const DynamicData& d = *data_;
    QSDK_RETURN_IF_ERROR(CheckInstantiateArgs(args, 1, 1, d.what));
    const memory::desc& x_md = args.input_descs[0];
    const memory::dims xd = x_md.dims();
    const std::vector<int64_t> x_shape(xd.begin(), xd.end());
    if (x_md.data_type() != memory::data_type::f32) {
      return InvalidArgument(d.what, ": input 0 arrives as ", DnnlTypeName(x_md.data_type()),
                             "; a dynamically quantized node reads f32");
    }
    LinearGeometry geometry;
    geometry.fully_connected = d.fully_connected;
    geometry.transpose_a = d.transpose_a;
    geometry.k = d.k;
    geometry.n = d.n;
    if (!d.fully_connected) {
      geometry.b_batch.assign(d.b_shape.begin(), d.b_shape.end() - 2);
      if (!d.bias.empty()) geometry.bias_shape = d.bias_shape;
    }
    std::vector<int64_t> out_shape;
    QSDK_RETURN_IF_ERROR(LinearOutputShape(geometry, x_shape, d.what, &out_shape));
    if (args.output_shapes[0] != out_shape) {
      return InvalidArgument(d.what, ": output shape ", graph::ShapeToString(args.output_shapes[0]),
                             " does not match ", graph::ShapeToString(out_shape),
                             " computed from input 0 ", DimsToString(xd));
    }
    return GuardDnnl(d.what, [&]() -> Status {
      *instance = std::make_unique<DynamicInstance>(data_, x_shape, out_shape, *args.engine);
      return Status::Ok();
    });
  }

 private:
  std::shared_ptr<const DynamicData> data_;
};

}  // namespace

bool IsDynamicQuantizedNode(const graph::Graph& graph, graph::NodeId id) {
  if (id < 0 || id >= static_cast<graph::NodeId>(graph.nodes.size())) return false;
  const graph::Node& node = graph.nodes[id];
  return (node.type == NodeType::kFullyConnected || node.type == NodeType::kMatMul) &&
         node.attrs.GetInt(graph::attr::kDynamicQuantization, 0) != 0;
}

Status CreateDynamicQuantizedKernel(const graph::Graph& graph, graph::NodeId id,
                                    const dnnl::engine& engine, std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  if (!IsDynamicQuantizedNode(graph, id)) {
    return InternalError(what, ": not a dynamically quantized FullyConnected / MatMul");
  }
  const graph::Node& node = graph.nodes[id];
  const auto valid = [&](graph::TensorId t) {
    return t >= 0 && t < static_cast<graph::TensorId>(graph.tensors.size());
  };
  if (node.inputs.size() < 2 || node.inputs.size() > 3 || node.outputs.size() != 1 ||
      !valid(node.inputs[0]) || !valid(node.inputs[1]) || !valid(node.outputs[0]) ||
      (node.inputs.size() == 3 && node.inputs[2] != graph::kNoTensor && !valid(node.inputs[2]))) {
    return InvalidArgument(what, ": has ", node.inputs.size(), " inputs and ", node.outputs.size(),
                           " outputs (or an out-of-range tensor id); a "
                           "dynamically quantized node takes x, the weights and an optional "
                           "bias, and produces one output");
  }
  if (node.attrs.GetInt(graph::attr::kFusedSum, 0) != 0) {
    return Unimplemented(what, ": attribute '", graph::attr::kFusedSum,
                         "' is set; a dynamically quantized node has no residual");
  }
  QSDK_RETURN_IF_ERROR(CheckRuntimeInput(graph, id, 0, /*quantized_ok=*/false));
  const graph::Tensor& y = graph.tensors[node.outputs[0]];
  if (y.dtype != DataType::FLOAT32) {
    return InvalidArgument(what, ": output 0 ", graph.DescribeTensor(node.outputs[0]), " has type ",
                           DataTypeName(y.dtype),
                           "; a dynamically quantized node produces FLOAT32");
  }
  auto data = std::make_shared<DynamicData>();
  data->what = what;
  data->fully_connected = node.type == NodeType::kFullyConnected;
  data->transpose_a = !data->fully_connected && node.attrs.GetInt(graph::attr::kTransposeA, 0) != 0;
  data->transpose_b = !data->fully_connected && node.attrs.GetInt(graph::attr::kTransposeB, 0) != 0;
  // Weights: INT8 constant, symmetric, per tensor or along the output-column axis.
  const graph::TensorId w_id = node.inputs[1];
  const graph::Tensor& w = graph.tensors[w_id];
  if (!w.is_constant() || w.dtype != DataType::INT8) {
    return InvalidArgument(what, ": the weights ", graph.DescribeTensor(w_id), " are ",
                           w.is_constant() ? "" : "not constant and ", DataTypeName(w.dtype),
                           "; a dynamically quantized node takes constant INT8 weights");
  }
  const size_t wr = w.shape.size();
  if (wr < 2 || (data->fully_connected && wr != 2) || graph::ElementCount(w.shape) < 1) {
    return InvalidArgument(
        what, ": the weights have shape ", graph::ShapeToString(w.shape),
        data->fully_connected ? "; they need [OC, K]" : "; they need rank >= 2, non-empty");
  }
  const int oc_axis =
      data->fully_connected ? 0 : static_cast<int>(wr) - (data->transpose_b ? 2 : 1);
  const graph::QuantParams& q = w.quant;
  const bool per_tensor_ok = q.axis == -1 && q.scales.size() == 1;
  const bool per_axis_ok = q.axis == oc_axis && static_cast<int64_t>(q.scales.size()) ==
                                                    w.shape[static_cast<size_t>(oc_axis)];
  if (q.zero_points.size() != q.scales.size() || (!per_tensor_ok && !per_axis_ok)) {
    return InvalidArgument(what, ": the weights ", graph.DescribeTensor(w_id), " have ",
                           q.scales.size(), " scales, ", q.zero_points.size(),
                           " zero points and axis ", q.axis,
                           "; they must be quantized per tensor or along axis ", oc_axis);
  }
  for (size_t c = 0; c < q.scales.size(); ++c) {
    if (q.zero_points[c] != 0 || !std::isfinite(q.scales[c]) || !(q.scales[c] > 0.0f)) {
      return InvalidArgument(what, ": the weights ", graph.DescribeTensor(w_id), " have scale[", c,
                             "] = ", q.scales[c], " and zero_point[", c, "] = ", q.zero_points[c],
                             "; they need a finite scale > 0 and zero point 0");
    }
  }
  data->weight_scales = q.scales;
  data->b_shape = w.shape;
  if (data->fully_connected) {
    data->n = w.shape[0];
    data->k = w.shape[1];
  } else {
    data->k = data->transpose_b ? w.shape[wr - 1] : w.shape[wr - 2];
    data->n = data->transpose_b ? w.shape[wr - 2] : w.shape[wr - 1];
  }
  // Bias: a FLOAT32 constant ([OC] for FullyConnected; broadcasting for MatMul, checked at
  // Instantiate).
  const graph::TensorId b_id = node.inputs.size() > 2 ? node.inputs[2] : graph::kNoTensor;
  if (b_id != graph::kNoTensor) {
    const graph::Tensor& b = graph.tensors[b_id];
    const int64_t count = graph::ElementCount(b.shape);
    if (!b.is_constant() || b.dtype != DataType::FLOAT32 || count < 1 ||
        b.data->size() != static_cast<size_t>(count) * sizeof(float)) {
      return InvalidArgument(what, ": the bias ", graph.DescribeTensor(b_id),
                             " must be a non-empty FLOAT32 constant");
    }
    if (data->fully_connected && b.shape != std::vector<int64_t>{data->n}) {
      return InvalidArgument(what, ": the bias has shape ", graph::ShapeToString(b.shape),
                             "; it needs [", data->n, "]");
    }
    data->bias.assign(b.data->As<float>(), b.data->As<float>() + count);
    data->bias_shape = b.shape;
  }
  // Fused activation.
  data->activation = static_cast<ActivationType>(node.attrs.GetInt(
      graph::attr::kFusedActivation, static_cast<int64_t>(ActivationType::kNone)));
  data->alpha = static_cast<float>(node.attrs.GetFloat(graph::attr::kFusedAlpha, 0.0));
  data->beta = static_cast<float>(node.attrs.GetFloat(graph::attr::kFusedBeta, 0.0));
  QSDK_RETURN_IF_ERROR(reference::CheckActivation(what.c_str(), data->activation, data->alpha,
                                                  data->beta, /*allow_none=*/true));
  return GuardDnnl(what, [&]() -> Status {
    // Plain s8 weights viewed as [.., K, N] (FullyConnected: [OC, K] read transposed).
    const size_t rank = data->fully_connected ? 2 : std::max<size_t>(wr, 2);
    const memory::desc b_md = MatMulLogicalDesc(
        w.shape, data->fully_connected || data->transpose_b, rank, memory::data_type::s8);
    if (b_md.get_size() != w.data->size()) {
      return InvalidArgument(what, ": the weights hold ", w.data->size(), " bytes; shape ",
                             graph::ShapeToString(w.shape), " needs ", b_md.get_size());
    }
    data->plain_b = memory(b_md, engine);
    std::memcpy(data->plain_b.get_data_handle(), w.data->data(), w.data->size());
    // Pack for a nominal x: batch 1 (rows M = the graph's when known), the weights' batch.
    const std::vector<int64_t>& x_shape = graph.tensors[node.inputs[0]].shape;
    memory::dims src_dims(rank, 1), dst_dims(rank, 1);
    for (size_t i = 0; i + 2 < rank; ++i) src_dims[i] = dst_dims[i] = b_md.dims()[i];
    int64_t m = 1;
    if (data->fully_connected) {
      m = x_shape.empty() ? 1 : NominalExtent(x_shape[0], 1);
    } else if (x_shape.size() >= 2) {
      m = NominalExtent(x_shape[x_shape.size() - (data->transpose_a ? 1 : 2)], 1);
    }
    src_dims[rank - 2] = dst_dims[rank - 2] = m;
    src_dims[rank - 1] = data->k;
    dst_dims[rank - 1] = data->n;
    const memory::desc src_md(src_dims, memory::data_type::u8, tag::any);
    const memory::desc dst_md(dst_dims, memory::data_type::f32, tag::any);
    const memory::desc any_b(b_md.dims(), memory::data_type::s8, tag::any);
    MatMulPd pd(dnnl::matmul::desc(src_md, any_b, dst_md),
                DynamicAttr(data->weight_scales.size() > 1, rank), engine);
    data->packed_b = ReorderedCopy(data->plain_b, pd.weights_desc(), engine);
    data->packed_rank = rank;
    *kernel = std::make_unique<DynamicKernel>(std::move(data));
    return Status::Ok();
  });
}

}  // namespace qsdk::runtime
