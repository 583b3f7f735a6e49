#include "runtime_ops/float_types_util.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <sstream>

#include "common/status_macros.h"
#include "reference/reference.h"

namespace qsdk::runtime::float_testing {

using dnnl::memory;

uint16_t FloatToBf16Bits(float value) {
  return Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(value));
}

float Bf16BitsToFloat(uint16_t bits) {
  return static_cast<float>(Eigen::numext::bit_cast<Eigen::bfloat16>(bits));
}

uint16_t FloatToHalfBits(float value) {
  return Eigen::numext::bit_cast<uint16_t>(Eigen::half(value));
}

float HalfBitsToFloatEigen(uint16_t bits) {
  return static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(bits));
}

float RoundTo(DataType type, float value) {
  switch (type) {
    case DataType::BFLOAT16: return Bf16BitsToFloat(FloatToBf16Bits(value));
    case DataType::FLOAT16: return HalfBitsToFloatEigen(FloatToHalfBits(value));
    default: return value;
  }
}

double Bf16Ulp(double value) {
  const double magnitude = std::fabs(value);
  // Below the smallest normal bfloat16 (2^-126) the spacing is fixed.
  if (magnitude < std::ldexp(1.0, -126)) return std::ldexp(1.0, -133);
  int exponent = 0;
  std::frexp(magnitude, &exponent);  // magnitude = m * 2^exponent, m in [0.5, 1)
  return std::ldexp(1.0, exponent - 8);
}

std::vector<float> RandomValuesOf(DataType type, std::mt19937* rng, int64_t count, float lo,
                                  float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = RoundTo(type, dist(*rng));
  return v;
}

Tensor MakeTensor(DataType type, const std::vector<int64_t>& shape,
                  const std::vector<float>& values, const std::string& name) {
  Tensor t = Tensor::Allocate(type, Dims(shape), name);
  for (size_t i = 0; i < values.size(); ++i) {
    switch (type) {
      case DataType::BFLOAT16:
        static_cast<uint16_t*>(t.GetData())[i] = FloatToBf16Bits(values[i]);
        break;
      case DataType::FLOAT16:
        static_cast<uint16_t*>(t.GetData())[i] = FloatToHalfBits(values[i]);
        break;
      default: static_cast<float*>(t.GetData())[i] = values[i]; break;
    }
  }
  return t;
}

std::vector<float> ToFloats(const Tensor& tensor) {
  std::vector<float> v(static_cast<size_t>(tensor.GetElementCount()));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (tensor.GetDataType()) {
      case DataType::BFLOAT16:
        v[i] = Bf16BitsToFloat(static_cast<const uint16_t*>(tensor.GetData())[i]);
        break;
      case DataType::FLOAT16:
        v[i] = HalfBitsToFloatEigen(static_cast<const uint16_t*>(tensor.GetData())[i]);
        break;
      default: v[i] = static_cast<const float*>(tensor.GetData())[i]; break;
    }
  }
  return v;
}

namespace {

// Bytes of `values` stored as `type`.
std::vector<uint8_t> StoreAs(DataType type, const std::vector<float>& values) {
  const Tensor t = MakeTensor(type, {static_cast<int64_t>(values.size())}, values);
  const auto* bytes = static_cast<const uint8_t*>(t.GetData());
  return std::vector<uint8_t>(bytes, bytes + t.GetSizeInBytes());
}

memory::data_type DnnlType(DataType type) {
  switch (type) {
    case DataType::BFLOAT16: return memory::data_type::bf16;
    case DataType::FLOAT16: return memory::data_type::f16;
    case DataType::INT8: return memory::data_type::s8;
    case DataType::UINT8: return memory::data_type::u8;
    default: return memory::data_type::f32;
  }
}

DataType QsdkType(memory::data_type type) {
  switch (type) {
    case memory::data_type::bf16: return DataType::BFLOAT16;
    case memory::data_type::f16: return DataType::FLOAT16;
    case memory::data_type::s8: return DataType::INT8;
    case memory::data_type::u8: return DataType::UINT8;
    default: return DataType::FLOAT32;
  }
}

// Copies `src` into `dst`: a byte copy when both have the same desc, else a oneDNN reorder.
// (oneDNN 2.6's f16 -> f16 reorder converts through its own float conversion, which turns
// -0 into +0; a test must not alter the bits it feeds a kernel or reads back.)
void CopyOrReorder(memory& src, memory& dst, dnnl::stream& stream) {
  if (src.get_desc() == dst.get_desc()) {
    stream.wait();
    std::memcpy(dst.get_data_handle(), src.get_data_handle(), src.get_desc().get_size());
    return;
  }
  dnnl::reorder(src, dst).execute(stream, src, dst);
  stream.wait();
}

bool IsNarrowFloat(DataType type) {
  return type == DataType::BFLOAT16 || type == DataType::FLOAT16;
}

}  // namespace

graph::TensorId AddInput(graph::Graph* g, const std::string& name, std::vector<int64_t> shape,
                         DataType type) {
  graph::Tensor t;
  t.name = name;
  t.dtype = type;
  t.shape = std::move(shape);
  const graph::TensorId id = g->AddTensor(std::move(t));
  g->inputs.push_back(id);
  return id;
}

graph::TensorId AddConst(graph::Graph* g, const std::string& name, DataType type,
                         std::vector<int64_t> shape, const std::vector<float>& values) {
  const std::vector<uint8_t> bytes = StoreAs(type, values);
  return g->AddConstant(name, type, std::move(shape), bytes.data(), bytes.size());
}

graph::TensorId AddOp(graph::Graph* g, NodeType type, const std::string& name,
                      std::vector<graph::TensorId> inputs, graph::AttrMap attrs,
                      const std::string& output, DataType out_type) {
  graph::Tensor t;
  t.name = output;
  t.dtype = out_type;
  const graph::TensorId out = g->AddTensor(std::move(t));
  graph::Node n;
  n.type = type;
  n.name = name;
  n.inputs = std::move(inputs);
  n.outputs = {out};
  n.attrs = std::move(attrs);
  g->AddNode(std::move(n));
  return out;
}

graph::AttrMap ConvAttrs(std::vector<int64_t> strides, std::vector<int64_t> pads,
                         std::vector<int64_t> dilations, int64_t group, ActivationType fused) {
  graph::AttrMap a;
  a.SetInts(graph::attr::kStrides, std::move(strides));
  a.SetInts(graph::attr::kPads, std::move(pads));
  a.SetInts(graph::attr::kDilations, std::move(dilations));
  a.SetInt(graph::attr::kGroup, group);
  a.SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(fused));
  a.SetFloat(graph::attr::kFusedAlpha, 0.0);
  a.SetFloat(graph::attr::kFusedBeta, 0.0);
  return a;
}

bool Bf16ComputeAvailable() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto avx512_core = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  return (isa & avx512_core) == avx512_core;
}

Status RunTyped(const graph::Graph& graph, graph::NodeId id,
                const std::vector<Tensor>& runtime_inputs,
                const std::vector<memory::format_tag>& layouts, TypedRun* run) {
  try {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    std::unique_ptr<Kernel> kernel;
    QSDK_RETURN_IF_ERROR(CreateKernel(graph, id, engine, &kernel));
    *run = TypedRun();
    run->kernel_name = kernel->name();

    InstantiateArgs args;
    args.engine = &engine;
    std::vector<memory> given;
    for (size_t i = 0; i < runtime_inputs.size(); ++i) {
      const std::vector<int64_t>& shape = runtime_inputs[i].GetDimension().GetDims();
      const memory::data_type type = DnnlType(runtime_inputs[i].GetDataType());
      const memory::desc plain = PlainDesc(shape, type);
      memory::desc desc = plain;
      if (i < layouts.size() && layouts[i] != memory::format_tag::undef) {
        desc = memory::desc(memory::dims(shape.begin(), shape.end()), type, layouts[i]);
      }
      memory plain_mem(plain, engine, const_cast<void*>(runtime_inputs[i].GetData()));
      memory given_mem(desc, engine);
      CopyOrReorder(plain_mem, given_mem, stream);
      given.push_back(given_mem);
      args.input_descs.push_back(desc);
    }
    for (graph::TensorId t : graph.nodes[id].outputs) {
      args.output_shapes.push_back(graph.tensors[t].shape);
    }
    run->given_inputs = args.input_descs;
    std::unique_ptr<KernelInstance> instance;
    QSDK_RETURN_IF_ERROR(kernel->Instantiate(args, &instance));
    if (instance->input_descs().size() != given.size() || instance->output_descs().size() != 1) {
      return InternalError("test: the instance has ", instance->input_descs().size(),
                           " inputs and ", instance->output_descs().size(), " outputs");
    }
    run->required_inputs = instance->input_descs();
    run->output_desc = instance->output_descs()[0];

    std::vector<memory> inputs;
    for (size_t i = 0; i < given.size(); ++i) {
      if (instance->input_descs()[i] == given[i].get_desc()) {
        inputs.push_back(given[i]);
      } else {
        memory required(instance->input_descs()[i], engine);
        CopyOrReorder(given[i], required, stream);
        inputs.push_back(required);
      }
    }
    memory output(run->output_desc, engine);
    // Poison: all-ones bytes are NaN in f32, bf16 and f16, so an element the kernel does
    // not write fails the comparison.
    std::memset(output.get_data_handle(), 0xff, run->output_desc.get_size());
    run->output_alias = instance->output_alias();
    if (instance->output_alias() == OutputAlias::kInPlace) {
      const size_t k = instance->aliased_input();
      memory start(instance->input_descs()[k], engine, output.get_data_handle());
      CopyOrReorder(inputs[k], start, stream);
    } else if (instance->output_alias() == OutputAlias::kView) {
      output =
          memory(run->output_desc, engine, inputs[instance->aliased_input()].get_data_handle());
    }
    memory scratchpad;
    if (instance->scratchpad_bytes() > 0) {
      scratchpad = memory(memory::desc({static_cast<memory::dim>(instance->scratchpad_bytes())},
                                       memory::data_type::u8, memory::format_tag::x),
                          engine);
    }
    stream.wait();
    instance->Execute(stream, inputs, {output}, scratchpad);

    const std::vector<int64_t>& out_shape = args.output_shapes[0];
    const memory::data_type out_type = run->output_desc.data_type();
    run->output = Tensor::Allocate(QsdkType(out_type), Dims(out_shape));
    memory plain_out(PlainDesc(out_shape, out_type), engine, run->output.GetData());
    CopyOrReorder(output, plain_out, stream);
    stream.wait();
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return InternalError("test: oneDNN: ", e.what());
  }
}

Status ReferenceBeforeRounding(const graph::Graph& graph, graph::NodeId id,
                               const std::vector<Tensor>& runtime_inputs,
                               std::vector<float>* expected) {
  graph::Graph twin = graph;
  for (graph::Tensor& t : twin.tensors) {
    if (!IsNarrowFloat(t.dtype)) continue;
    if (t.is_constant()) {
      const Tensor narrow =
          Tensor::Wrap(t.dtype, Dims(t.shape), const_cast<uint8_t*>(t.data->data()));
      const std::vector<float> wide = ToFloats(narrow);
      t.data = std::make_shared<AlignedBuffer>(wide.data(), wide.size() * sizeof(float));
    }
    t.dtype = DataType::FLOAT32;
  }
  std::vector<Tensor> held;
  held.reserve(twin.nodes[id].inputs.size());
  std::vector<const Tensor*> slots;
  size_t next = 0;
  std::vector<std::vector<float>> widened(runtime_inputs.size());
  for (graph::TensorId t : twin.nodes[id].inputs) {
    if (t == graph::kNoTensor) {
      slots.push_back(nullptr);
      continue;
    }
    const graph::Tensor& tensor = twin.tensors[t];
    if (tensor.is_constant()) {
      held.push_back(Tensor::Wrap(tensor.dtype, Dims(tensor.shape),
                                  const_cast<uint8_t*>(tensor.data->data())));
    } else {
      if (next >= runtime_inputs.size()) return InvalidArgument("test: too few runtime inputs");
      const Tensor& in = runtime_inputs[next];
      if (IsNarrowFloat(in.GetDataType())) {
        widened[next] = ToFloats(in);
        held.push_back(Tensor::Wrap(DataType::FLOAT32, in.GetDimension(), widened[next].data()));
      } else {
        held.push_back(
            Tensor::Wrap(in.GetDataType(), in.GetDimension(), const_cast<void*>(in.GetData())));
      }
      ++next;
    }
    slots.push_back(&held.back());
  }
  std::vector<Tensor> outputs;
  QSDK_RETURN_IF_ERROR(reference::EvalNode(twin, id, slots, &outputs));
  if (outputs.size() != 1 || outputs[0].GetDataType() != DataType::FLOAT32) {
    return InternalError("test: the reference produced no FLOAT32 output");
  }
  *expected = ToFloats(outputs[0]);
  return Status::Ok();
}

Status ReferenceTyped(const graph::Graph& graph, graph::NodeId id,
                      const std::vector<Tensor>& runtime_inputs, Tensor* output) {
  std::vector<Tensor> held;
  held.reserve(graph.nodes[id].inputs.size());
  std::vector<const Tensor*> slots;
  size_t next = 0;
  for (graph::TensorId t : graph.nodes[id].inputs) {
    if (t == graph::kNoTensor) {
      slots.push_back(nullptr);
      continue;
    }
    const graph::Tensor& tensor = graph.tensors[t];
    if (tensor.is_constant()) {
      held.push_back(Tensor::Wrap(tensor.dtype, Dims(tensor.shape),
                                  const_cast<uint8_t*>(tensor.data->data())));
      slots.push_back(&held.back());
    } else {
      if (next >= runtime_inputs.size()) return InvalidArgument("test: too few runtime inputs");
      slots.push_back(&runtime_inputs[next++]);
    }
  }
  std::vector<Tensor> outputs;
  QSDK_RETURN_IF_ERROR(reference::EvalNode(graph, id, slots, &outputs));
  if (outputs.size() != 1) return InternalError("test: the reference produced no output");
  *output = outputs[0];
  return Status::Ok();
}

std::string CompareRounded(const std::vector<float>& got, const std::vector<float>& expected,
                           DataType type, double atol) {
  if (got.size() != expected.size()) {
    return StrCat("size mismatch: ", got.size(), " values vs ", expected.size(), " expected");
  }
  size_t violations = 0, worst = 0;
  double worst_excess = -1.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], e = expected[i];
    double tolerance = atol;
    if (type == DataType::BFLOAT16)
      tolerance += 0.5 * Bf16Ulp(std::max(std::fabs(g), std::fabs(e)));
    const double excess = std::isnan(g) != std::isnan(e) ? INFINITY
                          : std::isnan(g)                ? -1.0
                                                         : std::fabs(g - e) - tolerance;
    if (excess > 0) {
      ++violations;
      if (excess > worst_excess) {
        worst_excess = excess;
        worst = i;
      }
    }
  }
  if (violations == 0) return "";
  std::ostringstream out;
  out.precision(9);
  out << violations << " of " << got.size() << " values out of tolerance (atol " << atol
      << (type == DataType::BFLOAT16 ? " + half a bf16 ulp" : "") << "); worst at index " << worst
      << ": got " << got[worst] << ", expected " << expected[worst];
  return out.str();
}

double MaxAbs(const std::vector<float>& values) {
  double m = 0.0;
  for (float v : values) m = std::max(m, std::fabs(static_cast<double>(v)));
  return m;
}

}  // namespace qsdk::runtime::float_testing
