#include "runtime_test_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "reference/reference.h"
#include "runtime/kernel.h"

namespace qsdk::runtime::testing {

using dnnl::memory;

graph::TensorId AddInput(graph::Graph* g, const std::string& name, std::vector<int64_t> shape) {
  graph::Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  const graph::TensorId id = g->AddTensor(std::move(t));
  g->inputs.push_back(id);
  return id;
}

graph::TensorId AddConstant(graph::Graph* g, const std::string& name, std::vector<int64_t> shape,
                            const std::vector<float>& values) {
  return g->AddConstant(name, DataType::FLOAT32, std::move(shape), values.data(),
                        values.size() * sizeof(float));
}

graph::TensorId AddOp(graph::Graph* g, NodeType type, const std::string& name,
                      std::vector<graph::TensorId> inputs, graph::AttrMap attrs,
                      const std::string& output) {
  graph::Tensor t;
  t.name = output;
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
  SetFused(&a, fused);
  return a;
}

void SetFused(graph::AttrMap* attrs, ActivationType type, double alpha, double beta) {
  attrs->SetInt(graph::attr::kFusedActivation, static_cast<int64_t>(type));
  attrs->SetFloat(graph::attr::kFusedAlpha, alpha);
  attrs->SetFloat(graph::attr::kFusedBeta, beta);
}

std::vector<float> RandomValues(std::mt19937* rng, int64_t count, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = dist(*rng);
  return v;
}

Tensor RandomTensor(std::mt19937* rng, const std::vector<int64_t>& shape, const std::string& name) {
  Tensor t = Tensor::Allocate(DataType::FLOAT32, Dims(shape), name);
  const std::vector<float> v = RandomValues(rng, t.GetElementCount());
  if (!v.empty()) std::memcpy(t.GetData(), v.data(), v.size() * sizeof(float));
  return t;
}

memory::data_type DnnlType(DataType type) {
  switch (type) {
    case DataType::INT8: return memory::data_type::s8;
    case DataType::UINT8: return memory::data_type::u8;
    case DataType::INT32: return memory::data_type::s32;
    default: return memory::data_type::f32;
  }
}

DataType QsdkType(memory::data_type type) {
  switch (type) {
    case memory::data_type::s8: return DataType::INT8;
    case memory::data_type::u8: return DataType::UINT8;
    case memory::data_type::s32: return DataType::INT32;
    default: return DataType::FLOAT32;
  }
}

graph::TensorId AddQuantizedInput(graph::Graph* g, const std::string& name,
                                  std::vector<int64_t> shape, DataType dtype,
                                  graph::QuantParams quant) {
  const graph::TensorId id = AddInput(g, name, std::move(shape));
  g->tensors[id].dtype = dtype;
  g->tensors[id].quant = std::move(quant);
  return id;
}

graph::TensorId AddTypedConstant(graph::Graph* g, const std::string& name, DataType dtype,
                                 std::vector<int64_t> shape, const void* bytes, size_t size,
                                 graph::QuantParams quant) {
  const graph::TensorId id = g->AddConstant(name, dtype, std::move(shape), bytes, size);
  g->tensors[id].quant = std::move(quant);
  return id;
}

void SetQuantizedOutput(graph::Graph* g, graph::TensorId t, DataType dtype,
                        graph::QuantParams quant) {
  g->tensors[t].dtype = dtype;
  g->tensors[t].quant = std::move(quant);
}

graph::QuantParams PerTensor(float scale, int32_t zero_point) {
  graph::QuantParams q;
  q.scales = {scale};
  q.zero_points = {zero_point};
  return q;
}

Tensor RandomQuantized(std::mt19937* rng, const std::vector<int64_t>& shape, DataType dtype,
                       int32_t lo, int32_t hi, const std::string& name) {
  Tensor t = Tensor::Allocate(dtype, Dims(shape), name);
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  for (int64_t i = 0; i < t.GetElementCount(); ++i) {
    const int32_t v = dist(*rng);
    if (dtype == DataType::INT8) {
      t.Data<int8_t>()[i] = static_cast<int8_t>(v);
    } else {
      t.Data<uint8_t>()[i] = static_cast<uint8_t>(v);
    }
  }
  return t;
}

int32_t QuantizedAt(const Tensor& t, int64_t i) {
  return t.GetDataType() == DataType::INT8 ? t.Data<int8_t>()[i] : t.Data<uint8_t>()[i];
}

QuantizedDiff CompareQuantized(const Tensor& a, const Tensor& b) {
  QuantizedDiff d;
  if (a.GetDimension() != b.GetDimension() || a.GetDataType() != b.GetDataType()) {
    d.comparable = false;
    return d;
  }
  d.count = a.GetElementCount();
  for (int64_t i = 0; i < d.count; ++i) {
    const int32_t diff = std::abs(QuantizedAt(a, i) - QuantizedAt(b, i));
    if (diff != 0) ++d.differing;
    d.max = std::max(d.max, diff);
  }
  return d;
}

namespace {

// `graph` with its inputs set to the shapes of `runtime_inputs` and shapes re-inferred.
Status ConcreteGraph(const graph::Graph& graph, const std::vector<Tensor>& runtime_inputs,
                     graph::Graph* concrete) {
  *concrete = graph;
  if (runtime_inputs.size() != graph.inputs.size()) {
    return InvalidArgument("test: ", runtime_inputs.size(), " runtime inputs for ",
                           graph.inputs.size(), " graph inputs");
  }
  for (size_t i = 0; i < runtime_inputs.size(); ++i) {
    concrete->tensors[graph.inputs[i]].shape = runtime_inputs[i].GetDimension().GetDims();
  }
  return graph::InferShapes(concrete);
}

}  // namespace

Status RunNode(const graph::Graph& graph, graph::NodeId id,
               const std::vector<Tensor>& runtime_inputs,
               const std::vector<memory::format_tag>& given_layouts, NodeRun* run) {
  graph::Graph concrete;
  QSDK_RETURN_IF_ERROR(ConcreteGraph(graph, runtime_inputs, &concrete));
  try {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    std::unique_ptr<Kernel> kernel;
    QSDK_RETURN_IF_ERROR(CreateKernel(graph, id, engine, &kernel));
    run->kernel_name = kernel->name();

    InstantiateArgs args;
    args.engine = &engine;
    std::vector<memory> given;
    for (size_t i = 0; i < runtime_inputs.size(); ++i) {
      const std::vector<int64_t>& shape = runtime_inputs[i].GetDimension().GetDims();
      const memory::data_type type = DnnlType(runtime_inputs[i].GetDataType());
      const memory::desc plain = PlainDesc(shape, type);
      memory::desc desc = plain;
      if (i < given_layouts.size() && given_layouts[i] != memory::format_tag::undef) {
        desc = memory::desc(memory::dims(shape.begin(), shape.end()), type, given_layouts[i]);
      }
      memory plain_mem(plain, engine, const_cast<void*>(runtime_inputs[i].GetData()));
      memory given_mem(desc, engine);
      dnnl::reorder(plain_mem, given_mem).execute(stream, plain_mem, given_mem);
      given.push_back(given_mem);
      args.input_descs.push_back(desc);
    }
    for (graph::TensorId t : concrete.nodes[id].outputs) {
      args.output_shapes.push_back(concrete.tensors[t].shape);
    }
    std::unique_ptr<KernelInstance> instance;
    QSDK_RETURN_IF_ERROR(kernel->Instantiate(args, &instance));
    run->required_inputs = instance->input_descs();
    run->output_desc = instance->output_descs()[0];

    std::vector<memory> inputs;
    for (size_t i = 0; i < given.size(); ++i) {
      if (instance->input_descs()[i] == given[i].get_desc()) {
        inputs.push_back(given[i]);
      } else {
        memory required(instance->input_descs()[i], engine);
        dnnl::reorder(given[i], required).execute(stream, given[i], required);
        inputs.push_back(required);
      }
    }
    memory output(run->output_desc, engine);
    run->output_alias = instance->output_alias();
    if (instance->output_alias() == OutputAlias::kInPlace) {
      // The output starts as the aliased input, as a context arranges it.
      const size_t k = instance->aliased_input();
      memory start(instance->input_descs()[k], engine, output.get_data_handle());
      dnnl::reorder(inputs[k], start).execute(stream, inputs[k], start);
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
    instance->Execute(stream, inputs, {output}, scratchpad);

    const std::vector<int64_t>& out_shape = args.output_shapes[0];
    const memory::data_type out_type = run->output_desc.data_type();
    run->output = Tensor::Allocate(QsdkType(out_type), Dims(out_shape));
    memory plain_out(PlainDesc(out_shape, out_type), engine, run->output.GetData());
    dnnl::reorder(output, plain_out).execute(stream, output, plain_out);
    stream.wait();
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return InternalError("test: oneDNN: ", e.what());
  }
}

Status RunReferenceNode(const graph::Graph& graph, graph::NodeId id,
                        const std::vector<Tensor>& runtime_inputs, Tensor* output) {
  graph::Graph concrete;
  QSDK_RETURN_IF_ERROR(ConcreteGraph(graph, runtime_inputs, &concrete));
  std::vector<Tensor> constants;
  constants.reserve(concrete.nodes[id].inputs.size());
  std::vector<const Tensor*> slots;
  for (graph::TensorId t : concrete.nodes[id].inputs) {
    if (t == graph::kNoTensor) {
      slots.push_back(nullptr);
      continue;
    }
    const graph::Tensor& tensor = concrete.tensors[t];
    if (tensor.is_constant()) {
      constants.push_back(Tensor::Wrap(tensor.dtype, Dims(tensor.shape),
                                       const_cast<uint8_t*>(tensor.data->data())));
      slots.push_back(&constants.back());
    } else {
      const auto it = std::find(concrete.inputs.begin(), concrete.inputs.end(), t);
      if (it == concrete.inputs.end()) return InvalidArgument("test: input is not a graph input");
      slots.push_back(&runtime_inputs[it - concrete.inputs.begin()]);
    }
  }
  std::vector<Tensor> outputs;
  QSDK_RETURN_IF_ERROR(reference::EvalNode(concrete, id, slots, &outputs));
  *output = outputs[0];
  return Status::Ok();
}

double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  if (a.GetDimension() != b.GetDimension()) return -1.0;
  double m = 0.0;
  for (int64_t i = 0; i < a.GetElementCount(); ++i) {
    const double d = std::fabs(static_cast<double>(a.Data<float>()[i]) - b.Data<float>()[i]);
    if (std::isnan(d)) return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

double MaxAbs(const Tensor& t) {
  double m = 0.0;
  for (int64_t i = 0; i < t.GetElementCount(); ++i) {
    m = std::max(m, std::fabs(static_cast<double>(t.Data<float>()[i])));
  }
  return m;
}

bool BitIdentical(const Tensor& a, const Tensor& b) {
  return a.GetDimension() == b.GetDimension() && a.GetSizeInBytes() == b.GetSizeInBytes() &&
         std::memcmp(a.GetData(), b.GetData(), a.GetSizeInBytes()) == 0;
}

}  // namespace qsdk::runtime::testing
