// INT16 FullyConnected and MatMul (point 4 of the issue-5 contract), and the dispatch of
// INT16 heavy nodes (CreateInt16HeavyKernel, kernels.h).
//
// FullyConnected: x INT16 [N, ...] viewed as [N, K] (plain), weights a constant INT16
// [OC, K] (per tensor or per output channel), optional FLOAT32 bias [OC], optional FLOAT32
// residual [N, OC], output [N, OC] FLOAT32 or INT16. MatMul: a INT16 [..., M, K] (or
// [..., K, M] with transpose_a), b a constant INT16 [..., K, N] (or [..., N, K] with
// transpose_b; per tensor or per output column), batch dims broadcast numpy-style,
// optional FLOAT32 bias broadcasting to the output, no residual.
//
// Prepared once (Kernel): each weight matrix packed as the GEMM core's B (K x N, the
// output channels as columns) and the zero-point corrections z_x * (per-column sums).
// Execute: a few rows of x / a at a time are split into the core's A form (read in place,
// strided when a is transposed), C = A * B exactly in int64, then the float epilogue
// (int16_kernel_util.h). Large products split their output columns (or, with a single
// panel of columns, their rows) into parts run in parallel (int16_gemm.h).
#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "common/status_macros.h"
#include "graph/attributes.h"
#include "runtime/kernels/int16_gemm.h"
#include "runtime/kernels/int16_kernel_util.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/linear_output_shape.h"
#include "runtime/kernels/onednn_util.h"

namespace qsdk::runtime {
namespace {

using dnnl::memory;

constexpr size_t kAlign = 64;
size_t AlignUp(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

// What every instance shares (immutable after creation).
struct MatMulData {
  std::string what;
  bool fully_connected = false;
  bool transpose_a = false;
  int64_t k = 0;                    // inner extent
  int64_t n = 0;                    // output columns (OC for FullyConnected)
  std::vector<int64_t> b_batch;     // batch dims of the weights (MatMul), empty for FC
  std::vector<int64_t> bias_shape;  // MatMul: the bias's shape; FC: {OC} (or empty)
  Int16Config config;
  std::vector<int16_t> packed;      // one packed B per weight matrix, back to back
  int64_t packed_size = 0;          // per matrix, in int16 elements
  std::vector<int64_t> correction;  // [matrix][n] z_x * per-column weight sums; empty: z_x = 0
  std::vector<float> bias;          // empty: none
  Int16GemmIsa isa = Int16GemmIsa::kScalar;
};

// Row-major strides of `shape` seen at rank `rank` (right-aligned), 0 along extents of 1
// and missing leading dims: the numpy broadcast read of a tensor.
std::vector<int64_t> BroadcastReadStrides(const std::vector<int64_t>& shape, size_t rank) {
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    const size_t o = rank - shape.size() + i;
    strides[o] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

class Int16MatMulInstance : public KernelInstance {
 public:
  // `a_shape` is the runtime input's concrete shape, `out_shape` the output's.
  Int16MatMulInstance(std::shared_ptr<const MatMulData> data, const std::vector<int64_t>& a_shape,
                      const std::vector<int64_t>& out_shape)
      : data_(std::move(data)) {
    const MatMulData& d = *data_;
    const size_t rank = out_shape.size();
    if (d.fully_connected) {
      m_ = a_shape[0];
      batch_count_ = 1;
      a_offsets_ = {0};
      b_index_ = {0};
      bias_offsets_ = {0};
      bias_step_m_ = 0;
      bias_step_n_ = 1;
    } else {
      const size_t ar = a_shape.size();
      m_ = d.transpose_a ? a_shape[ar - 1] : a_shape[ar - 2];
      const std::vector<int64_t> batch(out_shape.begin(), out_shape.end() - 2);
      const std::vector<int64_t> a_batch(a_shape.begin(), a_shape.end() - 2);
      const std::vector<int64_t> a_strides = BroadcastReadStrides(a_batch, batch.size());
      const std::vector<int64_t> b_strides = BroadcastReadStrides(d.b_batch, batch.size());
      std::vector<int64_t> bias_strides;
      if (!d.bias.empty()) {
        bias_strides = BroadcastReadStrides(d.bias_shape, rank);
        bias_step_m_ = bias_strides[rank - 2];
        bias_step_n_ = bias_strides[rank - 1];
      }
      batch_count_ = 1;
      for (int64_t e : batch) batch_count_ *= e;
      std::vector<int64_t> index(batch.size(), 0);
      for (int64_t t = 0; t < batch_count_; ++t) {
        int64_t a_off = 0, b_idx = 0, bias_off = 0;
        for (size_t i = 0; i < batch.size(); ++i) {
          a_off += index[i] * a_strides[i];
          b_idx += index[i] * b_strides[i];
          if (!bias_strides.empty()) bias_off += index[i] * bias_strides[i];
        }
        a_offsets_.push_back(a_off * m_ * d.k);  // matrices -> elements
        b_index_.push_back(b_idx);
        bias_offsets_.push_back(bias_off);
        for (size_t i = batch.size(); i-- > 0;) {  // next row-major index
          if (++index[i] < batch[i]) break;
          index[i] = 0;
        }
      }
    }
    // Rows per GEMM call: C (rows x N int64) within about 256 KB, at least 4 rows.
    rows_ = std::max<int64_t>(4, 32768 / std::max<int64_t>(d.n, 1));
    rows_ = std::min(rows_, std::max<int64_t>(m_, 1));
    a_bytes_ = AlignUp(static_cast<size_t>(rows_ * Int16SplitRowSize(d.k)) * sizeof(int16_t));
    c_bytes_ = AlignUp(static_cast<size_t>(rows_ * d.n) * sizeof(int64_t));
    worker_bytes_ = a_bytes_ + c_bytes_;
    // Parts: with several workers, about two per worker, over the output columns (whole
    // panels) when there are enough of them, else over the rows (of all batch matrices).
    workers_ = PrepareParallelWorkers(batch_count_ * m_ * d.n * d.k);
    const int64_t panels = (d.n + kInt16PanelWidth - 1) / kInt16PanelWidth;
    split_columns_ = panels >= 2 * workers_;
    parts_ = std::min<int64_t>(workers_ > 1 ? 2 * workers_ : 1,
                               split_columns_ ? panels : batch_count_ * m_);
    parts_ = std::max<int64_t>(parts_, 1);
    scratchpad_bytes_ = kAlign + static_cast<size_t>(workers_) * worker_bytes_;
    input_descs_.push_back(Int16PlainDesc(a_shape));
    if (d.config.residual) input_descs_.push_back(PlainDesc(out_shape));
    output_descs_.push_back(d.config.int16_output ? Int16PlainDesc(out_shape)
                                                  : PlainDesc(out_shape));
  }

  void Execute(dnnl::stream& /*stream*/, const std::vector<memory>& inputs,
               const std::vector<memory>& outputs, const memory& scratchpad) const override {
    Run run;
    run.self = this;
    run.a = static_cast<const int16_t*>(inputs[0].get_data_handle());
    run.residual =
        data_->config.residual ? static_cast<const float*>(inputs[1].get_data_handle()) : nullptr;
    run.y = static_cast<char*>(outputs[0].get_data_handle());
    const auto base = reinterpret_cast<uintptr_t>(scratchpad.get_data_handle());
    run.scratch = (base + kAlign - 1) / kAlign * kAlign;
    RunParallel(&Int16MatMulInstance::Task, &run, parts_, workers_);
  }

 private:
  struct Run {
    const Int16MatMulInstance* self = nullptr;
    const int16_t* a = nullptr;
    const float* residual = nullptr;
    char* y = nullptr;
    uintptr_t scratch = 0;  // aligned; worker w uses [w, w + 1) * worker_bytes_
  };

  static void Task(void* context, int64_t part, int worker) {
    const Run& run = *static_cast<const Run*>(context);
    run.self->RunPart(run, part, worker);
  }

  // Part `part` computes output columns [j0, j1) (whole panels) of global rows [g0, g1)
  // (row i of batch matrix t is global row t * M + i), with the worker's scratch (split A,
  // C).
  void RunPart(const Run& run, int64_t part, int worker) const {
    const MatMulData& d = *data_;
    const Int16Config& config = d.config;
    const int64_t k = d.k, n = d.n;
    int64_t j0 = 0, j1 = n, g0 = 0, g1 = batch_count_ * m_;
    if (split_columns_) {
      const int64_t panels = (n + kInt16PanelWidth - 1) / kInt16PanelWidth;
      j0 = std::min(n, panels * part / parts_ * kInt16PanelWidth);
      j1 = std::min(n, panels * (part + 1) / parts_ * kInt16PanelWidth);
    } else {
      g0 = g1 * part / parts_;
      g1 = g1 * (part + 1) / parts_;
    }
    if (j0 >= j1 || g0 >= g1) return;
    const int64_t cols = j1 - j0;
    const size_t out_size = config.int16_output ? sizeof(int16_t) : sizeof(float);
    const uintptr_t base = run.scratch + static_cast<size_t>(worker) * worker_bytes_;
    auto* a_split = reinterpret_cast<int16_t*>(base);
    auto* c = reinterpret_cast<int64_t*>(base + a_bytes_);
    const int64_t row_size = Int16SplitRowSize(k);
    const bool per_column = config.multipliers.size() > 1;

    for (int64_t gr = g0; gr < g1;) {
      const int64_t t = gr / m_, r0 = gr % m_;
      const int64_t rows = std::min({rows_, m_ - r0, g1 - gr});
      const int16_t* a_matrix = run.a + a_offsets_[static_cast<size_t>(t)];
      // Logical A[i][p]: a[i * K + p], or a[p * M + i] when a is stored transposed [K, M].
      if (d.transpose_a) {
        SplitInt16Rows(d.isa, a_matrix + r0, rows, k, 1, m_, a_split);
      } else {
        SplitInt16Rows(d.isa, a_matrix + r0 * k, rows, k, k, 1, a_split);
      }
      const int64_t bm = b_index_[static_cast<size_t>(t)];
      // Column j0 starts a panel.
      const int16_t* packed = d.packed.data() + bm * d.packed_size + Int16PackedOffset(k, 0, j0);
      Int16Gemm(d.isa, rows, cols, k, a_split, row_size, packed, c, n);
      const int64_t y_offset = (t * m_ + r0) * n + j0;
      EpilogueRow block;
      block.rows = rows;
      block.acc = c;
      block.acc_row_stride = n;
      if (!d.correction.empty()) {
        block.correction = d.correction.data() + bm * n + j0;
        block.correction_step = 1;
      }
      block.multiplier = config.multipliers.data() + (per_column ? j0 : 0);
      block.multiplier_step = per_column ? 1 : 0;
      if (!d.bias.empty()) {
        block.bias = d.bias.data() + bias_offsets_[static_cast<size_t>(t)] + r0 * bias_step_m_ +
                     j0 * bias_step_n_;
        block.bias_step = bias_step_n_;
        block.bias_row_step = bias_step_m_;
      }
      if (run.residual != nullptr) {
        block.residual = run.residual + y_offset;
        block.residual_row_stride = n;
      }
      block.out = run.y + y_offset * static_cast<int64_t>(out_size);
      block.out_row_stride = n;
      RunInt16Epilogue(d.isa, config, block, cols);
      gr += rows;
    }
  }

  std::shared_ptr<const MatMulData> data_;
  int64_t m_ = 0;
  int64_t batch_count_ = 1;
  std::vector<int64_t> a_offsets_;     // per output batch matrix: element offset into a
  std::vector<int64_t> b_index_;       // per output batch matrix: weight matrix index
  std::vector<int64_t> bias_offsets_;  // per output batch matrix: bias element offset
  int64_t bias_step_m_ = 0, bias_step_n_ = 0;
  int64_t rows_ = 4;
  size_t a_bytes_ = 0, c_bytes_ = 0, worker_bytes_ = 0;
  int workers_ = 1;
  int64_t parts_ = 1;
  bool split_columns_ = true;  // parts split the columns (else the rows)
};

class Int16MatMulKernel : public Kernel {
 public:
  explicit Int16MatMulKernel(std::shared_ptr<const MatMulData> data) : data_(std::move(data)) {}

  std::string name() const override {
    return std::string(data_->fully_connected ? "int16_fully_connected_" : "int16_matmul_") +
           Int16GemmIsaName(data_->isa);
  }

  Status Instantiate(const InstantiateArgs& args,
                     std::unique_ptr<KernelInstance>* instance) const override {
    const MatMulData& d = *data_;
    QSDK_RETURN_IF_ERROR(CheckInt16InstantiateArgs(args, d.config.residual ? 2 : 1, d.what));
    const memory::desc& a_md = args.input_descs[0];
    const memory::dims ad = a_md.dims();
    const std::vector<int64_t> a_shape(ad.begin(), ad.end());
    if (!IsInt16PlainDesc(a_md)) {
      return InvalidArgument(d.what, ": input 0 ", DimsToString(ad),
                             " does not arrive in the plain INT16 layout the kernel needs");
    }
    LinearGeometry geometry;
    geometry.fully_connected = d.fully_connected;
    geometry.transpose_a = d.transpose_a;
    geometry.k = d.k;
    geometry.n = d.n;
    if (!d.fully_connected) {
      geometry.b_batch = d.b_batch;
      if (!d.bias.empty()) geometry.bias_shape = d.bias_shape;
    }
    std::vector<int64_t> out_shape;
    QSDK_RETURN_IF_ERROR(LinearOutputShape(geometry, a_shape, d.what, &out_shape));
    if (args.output_shapes[0] != out_shape) {
      return InvalidArgument(d.what, ": output shape ", graph::ShapeToString(args.output_shapes[0]),
                             " does not match ", graph::ShapeToString(out_shape),
                             " computed from input 0 ", DimsToString(ad));
    }
    if (d.config.residual && args.input_descs[1] != PlainDesc(out_shape)) {
      return InvalidArgument(d.what, ": the residual arrives as ",
                             DimsToString(args.input_descs[1].dims()),
                             "; the kernel needs plain f32 ", graph::ShapeToString(out_shape));
    }
    try {
      *instance = std::make_unique<Int16MatMulInstance>(data_, a_shape, out_shape);
      (*instance)->AddImplementation(StrCat("qsdk_int16_gemm:", Int16GemmIsaName(data_->isa)));
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kResourceExhausted, StrCat(d.what, ": out of memory"));
    } catch (const dnnl::error& e) {
      return InvalidArgument(d.what, ": oneDNN rejected a descriptor (", e.what(), ")");
    }
    return Status::Ok();
  }

 private:
  std::shared_ptr<const MatMulData> data_;
};

// Packs weight matrix `matrix` (B[k][j] = w[k * stride_k + j * stride_n]) into data, with
// its zero-point corrections z_x * sum_k B[k][j] when z_x != 0.
void PackMatrix(const int16_t* w, int64_t stride_k, int64_t stride_n, int64_t matrix,
                MatMulData* data) {
  PackInt16B(w, data->k, data->n, stride_k, stride_n,
             data->packed.data() + matrix * data->packed_size);
  if (data->correction.empty()) return;
  const int64_t z = data->config.x_zero_point;
  int64_t* correction = data->correction.data() + matrix * data->n;
  for (int64_t j = 0; j < data->n; ++j) {
    int64_t s = 0;
    for (int64_t p = 0; p < data->k; ++p) s += w[p * stride_k + j * stride_n];
    correction[j] = z * s;
  }
}

}  // namespace

Status CreateInt16MatMulKernel(const graph::Graph& graph, graph::NodeId id,
                               std::unique_ptr<Kernel>* kernel) {
  const std::string what = graph.DescribeNode(id);
  try {
    const graph::Node& node = graph.nodes[id];
    auto data = std::make_shared<MatMulData>();
    data->what = what;
    data->fully_connected = node.type == NodeType::kFullyConnected;
    const bool transpose_b =
        !data->fully_connected && node.attrs.GetInt(graph::attr::kTransposeB, 0) != 0;
    data->transpose_a =
        !data->fully_connected && node.attrs.GetInt(graph::attr::kTransposeA, 0) != 0;
    if (node.inputs.size() < 2 || node.inputs[1] < 0 ||
        node.inputs[1] >= static_cast<graph::TensorId>(graph.tensors.size())) {
      return InvalidArgument(what, ": input 1 (the weights) is absent or out of range");
    }
    const std::vector<int64_t>& w_shape = graph.tensors[node.inputs[1]].shape;
    const size_t wr = w_shape.size();
    if (wr < 2 || (data->fully_connected && wr != 2)) {
      return InvalidArgument(
          what, ": the weights have shape ", graph::ShapeToString(w_shape),
          data->fully_connected ? "; they need [OC, K]" : "; they need rank >= 2");
    }
    // Output columns: axis 0 of FC weights [OC, K]; axis rank-1 of b [.., K, N], rank-2 of
    // b [.., N, K] when transposed.
    const int oc_axis = data->fully_connected ? 0 : static_cast<int>(wr) - (transpose_b ? 2 : 1);
    QSDK_RETURN_IF_ERROR(ReadInt16Config(graph, id, oc_axis, &data->config));
    const graph::Tensor& w = graph.tensors[node.inputs[1]];
    const int16_t* wv = w.data->As<int16_t>();
    if (data->fully_connected) {
      data->n = w_shape[0];
      data->k = w_shape[1];
      const std::vector<int64_t>& x_shape = graph.tensors[node.inputs[0]].shape;
      int64_t k = 1;
      bool known = x_shape.size() >= 2;
      for (size_t i = 1; i < x_shape.size(); ++i) {
        if (x_shape[i] < 0) known = false;
        k *= x_shape[i];
      }
      if (x_shape.size() < 2 || (known && k != data->k)) {
        return InvalidArgument(what, ": input shape ", graph::ShapeToString(x_shape),
                               " does not flatten to [N, ", data->k, "] for weights ",
                               graph::ShapeToString(w_shape));
      }
      const std::vector<int64_t> bias_shape = {data->n};
      QSDK_RETURN_IF_ERROR(ReadFloatBias(graph, id, &bias_shape, &data->bias));
      data->bias_shape = bias_shape;
      data->packed_size = Int16PackedSize(data->k, data->n);
      data->packed.assign(static_cast<size_t>(data->packed_size), 0);
      if (data->config.x_zero_point != 0) data->correction.assign(static_cast<size_t>(data->n), 0);
      // B[k][oc] = w[oc][k].
      PackMatrix(wv, 1, data->k, 0, data.get());
    } else {
      data->k = transpose_b ? w_shape[wr - 1] : w_shape[wr - 2];
      data->n = transpose_b ? w_shape[wr - 2] : w_shape[wr - 1];
      data->b_batch.assign(w_shape.begin(), w_shape.end() - 2);
      int64_t matrices = 1;
      for (int64_t e : data->b_batch) matrices *= e;
      QSDK_RETURN_IF_ERROR(ReadFloatBias(graph, id, nullptr, &data->bias));
      if (!data->bias.empty()) data->bias_shape = graph.tensors[node.inputs[2]].shape;
      data->packed_size = Int16PackedSize(data->k, data->n);
      data->packed.assign(static_cast<size_t>(data->packed_size * matrices), 0);
      if (data->config.x_zero_point != 0) {
        data->correction.assign(static_cast<size_t>(data->n * matrices), 0);
      }
      for (int64_t mtx = 0; mtx < matrices; ++mtx) {
        const int16_t* m = wv + mtx * data->k * data->n;
        if (transpose_b) {
          PackMatrix(m, 1, data->k, mtx, data.get());  // stored [N, K]
        } else {
          PackMatrix(m, data->n, 1, mtx, data.get());  // stored [K, N]
        }
      }
    }
    if (data->config.multipliers.size() != 1 &&
        static_cast<int64_t>(data->config.multipliers.size()) != data->n) {
      return InternalError(what, ": ", data->config.multipliers.size(), " weight scales for ",
                           data->n, " output columns");
    }
    data->isa = BestInt16GemmIsa();
    *kernel = std::make_unique<Int16MatMulKernel>(std::move(data));
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, StrCat(what, ": out of memory"));
  }
}

bool IsInt16HeavyNode(const graph::Graph& graph, graph::NodeId id) {
  if (id < 0 || id >= static_cast<graph::NodeId>(graph.nodes.size())) return false;
  const graph::Node& node = graph.nodes[id];
  if (node.type != NodeType::kConv && node.type != NodeType::kFullyConnected &&
      node.type != NodeType::kMatMul) {
    return false;
  }
  if (node.inputs.empty() || node.inputs[0] < 0 ||
      node.inputs[0] >= static_cast<graph::TensorId>(graph.tensors.size())) {
    return false;
  }
  return graph.tensors[node.inputs[0]].dtype == DataType::INT16;
}

Status CreateInt16HeavyKernel(const graph::Graph& graph, graph::NodeId id,
                              const dnnl::engine& /*engine*/, std::unique_ptr<Kernel>* kernel) {
  if (!IsInt16HeavyNode(graph, id)) {
    return InternalError("CreateInt16HeavyKernel: node #", id,
                         " is not a Conv / FullyConnected / MatMul reading INT16");
  }
  if (graph.nodes[id].type == NodeType::kConv) return CreateInt16ConvKernel(graph, id, kernel);
  return CreateInt16MatMulKernel(graph, id, kernel);
}

}  // namespace qsdk::runtime
