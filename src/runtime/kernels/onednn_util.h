// Helpers shared by the runtime kernels of this folder: exception fencing around oneDNN calls,
// layout queries, node input checks and a KernelInstance base that executes a list of
// prepared primitive calls without allocating.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "graph/graph.h"
#include "qsdk/status.h"
#include "runtime/kernel.h"

namespace qsdk::runtime {

// Runs `fn` (returning Status) and turns any exception into a Status that starts with
// `what` (normally "node 'x' (Op)"). oneDNN throws dnnl::error when it rejects a
// descriptor or runs out of memory; nothing may escape the kernel layer.
template <typename Fn>
Status GuardDnnl(const std::string& what, Fn&& fn) {
  try {
    return fn();
  } catch (const dnnl::error& e) {
    if (e.status == dnnl_out_of_memory) {
      return Status(StatusCode::kResourceExhausted, StrCat(what, ": oneDNN: ", e.what()));
    }
    if (e.status == dnnl_unimplemented) {
      return Unimplemented(what, ": oneDNN has no implementation for this configuration (",
                           e.what(), ")");
    }
    return InvalidArgument(what, ": oneDNN rejected the configuration (", e.what(), ")");
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, StrCat(what, ": out of memory"));
  } catch (const std::exception& e) {
    return InternalError(what, ": unexpected exception: ", e.what());
  }
}

// "[1,16,7,7]" for oneDNN dims.
std::string DimsToString(const dnnl::memory::dims& dims);

// Shape of a graph tensor as oneDNN dims.
dnnl::memory::dims ToDnnlDims(const std::vector<int64_t>& shape);

// Row-major strides (in elements) of dense `dims`.
dnnl::memory::dims RowMajorStrides(const dnnl::memory::dims& dims);

// True when `md` is the plain row-major layout of its own dims (any element type).
bool IsPlain(const dnnl::memory::desc& md);

// Channels-last layout (acdb for 4-D, acdeb for 5-D) of `dims` with element type `type`.
dnnl::memory::desc ChannelsLastDesc(const dnnl::memory::dims& dims, dnnl::memory::data_type type);

// True when every reader of `tensor` takes channels-last without a reorder and at least
// one of them is a convolution (oneDNN's convolutions take channels-last at least for
// their first layer, with few input channels); never for a graph output. A kernel that
// changes a plain 4-D / 5-D tensor's element type with a reorder (Quantize, Cast) then
// writes channels-last, so that the same reorder changes the layout too.
bool ReadersPreferChannelsLast(const graph::Graph& graph, graph::TensorId tensor);

// oneDNN element type of a graph type: FLOAT32 f32, BFLOAT16 bf16, FLOAT16 f16, INT8 s8,
// UINT8 u8, INT32 s32; undef for the others.
dnnl::memory::data_type DnnlDataType(DataType type);

// The float type a light op computes in: FLOAT32 or BFLOAT16 (docs/ops.md, BF16 compute:
// every float data input and the output have it). Fails naming the node when input 0 and
// the output are not both FLOAT32 or both BFLOAT16. Quantized tensors are not float: the
// caller handles them before.
Status ReadLightFloatType(const graph::Graph& graph, graph::NodeId id,
                          dnnl::memory::data_type* type);

// "fp32" for f32, "bf16" for bf16, "int8" for the rest: the precision part of kernel names.
const char* PrecisionName(dnnl::memory::data_type type);

// Exact widening of an IEEE binary16 value (its bits) to float; a NaN becomes a quiet NaN
// of its sign keeping its payload (vcvtph2ps, the reference's rule).
float HalfBitsToFloat(uint16_t bits);
// IEEE binary16 bits of `value` rounded to nearest even: subnormal results kept, a
// magnitude >= 65520 becomes inf, the sign of zero kept, NaN stays a (quiet) NaN.
uint16_t FloatToHalfBits(float value);
// bfloat16 bits of `value` rounded to nearest even (NaN stays a quiet NaN of its sign); a
// binary32 subnormal becomes a zero of its sign, as oneDNN's conversion does on CPUs with
// native bf16 instructions (vcvtneps2bf16) and as the reference does (float_types.h).
uint16_t FloatToBf16Bits(float value);

// "f32", "u8", ... for messages.
const char* DnnlTypeName(dnnl::memory::data_type type);

// The desc oneDNN's matmul sees for a stored row-major tensor of shape `stored`: rank
// padded to `rank` with leading 1s and, when `transpose`, the last two dims swapped via
// their strides. It describes exactly the stored bytes.
dnnl::memory::desc MatMulLogicalDesc(const std::vector<int64_t>& stored, bool transpose,
                                     size_t rank,
                                     dnnl::memory::data_type type = dnnl::memory::data_type::f32);

// At Instantiate: the runtime input whose layout is `given` arrives with the element type
// `expected` the kernel was built for, else an error naming `what` and both types.
Status CheckInputType(const dnnl::memory::desc& given, dnnl::memory::data_type expected,
                      const std::string& what);

// `md` with another element type: the same dims and layout (strides and blocks count
// elements, so they carry over). `md` must be a blocked (non-opaque) desc without extra
// flags, as every activation desc is.
dnnl::memory::desc WithDataType(const dnnl::memory::desc& md, dnnl::memory::data_type type);

// True when `tensor` holds quantized 8-bit values: INT8 / UINT8 with quantization
// parameters (shape inference guarantees the parameters are set on such tensors).
bool IsQuantized8(const graph::Tensor& tensor);

// The per-tensor scale and zero point of quantized `tensor`. Parameters given per axis
// are accepted when every index has the same scale and zero point; otherwise fails
// (Unimplemented) naming `what` and the tensor: the runtime's activation kernels take one
// scale per tensor (the builder quantizes activations per tensor).
Status PerTensorQuant(const graph::Tensor& tensor, const std::string& what, float* scale,
                      int32_t* zero_point);

// The format tag `md` is exactly equal to, among the tags the runtime produces (plain,
// channels-last and the nChw{8,16}c / nCdhw{8,16}c blocked ones), or nullopt.
std::optional<dnnl::memory::format_tag> MatchFormatTag(const dnnl::memory::desc& md);

// Inner block size of dimension `dim` in `md` (1 when the dimension is not blocked).
int64_t BlockSizeOf(const dnnl::memory::desc& md, int dim);

// Checks the node has exactly `count` inputs, all present.
Status CheckInputCount(const graph::Graph& graph, graph::NodeId id, size_t count);

// Reads attribute `key` of node `id`: exactly `count` integers, each >= `min`; else an
// error naming the node, the attribute and the rule.
Status ReadIntsAttribute(const graph::Graph& graph, graph::NodeId id, const char* key,
                         size_t count, int64_t min, std::vector<int64_t>* out);

// The checks of a node whose kernel reads one runtime input: CheckInputCount(graph, id, 1)
// and CheckRuntimeInput(graph, id, 0, quantized_ok).
Status CheckSingleRuntimeInput(const graph::Graph& graph, graph::NodeId id,
                               bool quantized_ok = false);

// Fails (Unimplemented) when input `slot` of the node is a constant: the runtime kernels
// of unary ops take their data at run time; constant subgraphs are folded by the
// builder before lowering. Also fails when the input is not FLOAT32 / BFLOAT16 or, with
// `quantized_ok`, not FLOAT32 / BFLOAT16 / quantized INT8 / UINT8 (FLOAT16 activations are
// read by Cast only). Each kernel then checks the combination of types it computes.
Status CheckRuntimeInput(const graph::Graph& graph, graph::NodeId id, size_t slot,
                         bool quantized_ok = false);

// Checks InstantiateArgs carries an engine, `inputs` runtime input descs (each of a defined
// element type; the kernel checks it is the one it was built for) and `outputs` output
// shapes.
Status CheckInstantiateArgs(const InstantiateArgs& args, size_t inputs, size_t outputs,
                            const std::string& what);

// Copies constant tensor `tensor` (dense row-major FLOAT32, BFLOAT16, FLOAT16, INT8, UINT8
// or INT32) into a new oneDNN memory (which owns its buffer) of plain layout for `shape`
// and the tensor's element type; `shape` must have the tensor's element count (e.g. its
// shape, or its shape padded with leading 1s). `what` names the node.
Status MakeConstantMemory(const graph::Tensor& tensor, const std::vector<int64_t>& shape,
                          const dnnl::engine& engine, const std::string& what,
                          dnnl::memory* memory);
// Same, with the tensor's own shape.
Status MakeConstantMemory(const graph::Tensor& tensor, const dnnl::engine& engine,
                          const std::string& what, dnnl::memory* memory);

// Copies `src` into a new memory of layout `md` (same dims) on `engine` with a reorder,
// waiting for it to finish. Used at Instantiate to give a constant the layout of its
// runtime partner.
dnnl::memory ReorderedCopy(const dnnl::memory& src, const dnnl::memory::desc& md,
                           const dnnl::engine& engine);

// One argument of a prepared primitive call: where its memory comes from at Execute.
struct ArgSource {
  enum class Kind { kInput, kOutput, kScratchpad, kOwned, kView };
  int arg = 0;  // DNNL_ARG_*.
  Kind kind = Kind::kOwned;
  size_t index = 0;    // kInput / kOutput: index into Execute's vectors;
                       // kView: index into the views (below).
  dnnl::memory owned;  // kOwned: a memory held by the call (constants, temporaries).
};

// A memory object re-pointed at a runtime input's or output's buffer before each run
// with another desc over the same bytes (a rank-padded or permuted view).
struct View {
  bool of_output = false;  // false: inputs[index], true: outputs[index].
  size_t index = 0;
  dnnl::memory memory;  // Created at Instantiate with the view desc.
};

// A KernelInstance that runs a fixed sequence of primitives. Each call's arguments are
// resolved into a preallocated C argument array, so Execute allocates nothing.
class PrimitiveSequenceInstance : public KernelInstance {
 public:
  struct Call {
    dnnl::primitive primitive;
    std::vector<ArgSource> args;
  };

  // Points the views at this run's buffers, then executes the calls in order on
  // `stream` (in-order, so they may share the scratchpad). Like
  // dnnl::primitive::execute, throws dnnl::error if oneDNN fails to execute a call.
  void Execute(dnnl::stream& stream, const std::vector<dnnl::memory>& inputs,
               const std::vector<dnnl::memory>& outputs,
               const dnnl::memory& scratchpad) const override;

  void set_input_descs(std::vector<dnnl::memory::desc> descs) { input_descs_ = std::move(descs); }
  void set_output_descs(std::vector<dnnl::memory::desc> descs) { output_descs_ = std::move(descs); }
  void set_output_alias(OutputAlias alias, size_t input) {
    output_alias_ = alias;
    aliased_input_ = input;
  }
  // The scratchpad of every call shares the one arena buffer: calls run one after the
  // other, so the largest requirement is enough.
  void RequireScratchpad(size_t bytes) {
    if (bytes > scratchpad_bytes_) scratchpad_bytes_ = bytes;
  }
  // Adds a view; returns its index for ArgSource::Kind::kView.
  size_t AddView(View view) {
    views_.push_back(std::move(view));
    return views_.size() - 1;
  }
  void AddCall(Call call);
  // Adds a call of `primitive`, whose descriptor is `pd`, with `args` and the scratchpad
  // (DNNL_ARG_SCRATCHPAD, last), and requires pd's scratchpad size.
  void AddPrimitive(dnnl::primitive primitive, const dnnl::primitive_desc_base& pd,
                    std::vector<ArgSource> args);

 private:
  std::vector<Call> calls_;
  std::vector<View> views_;
  // Argument arrays, one per call, sized at AddCall and rewritten at each Execute (an
  // instance is used by one context, hence one thread, at a time).
  mutable std::vector<std::vector<dnnl_exec_arg_t>> c_args_;
};

// The instance of a light kernel that runs one primitive, `primitive` (descriptor `pd`),
// from runtime input 0 to runtime output 0: it requires `input_md` for its input and
// produces `output_md`. The primitive reads the input as DNNL_ARG_SRC (= DNNL_ARG_FROM),
// directly or, when `src_view_md` is not zero, through a view of that desc over the same
// bytes, and writes DNNL_ARG_DST (= DNNL_ARG_TO). Throws dnnl::error.
std::unique_ptr<PrimitiveSequenceInstance> SingleCallInstance(
    dnnl::primitive primitive, const dnnl::primitive_desc_base& pd,
    const dnnl::memory::desc& input_md, const dnnl::memory::desc& output_md,
    const dnnl::engine& engine, const dnnl::memory::desc& src_view_md = dnnl::memory::desc());

// The primitive attribute every light kernel uses: scratchpad provided by the caller
// (the context arena), so that Execute never allocates.
dnnl::primitive_attr UserScratchpadAttr();

}  // namespace qsdk::runtime
