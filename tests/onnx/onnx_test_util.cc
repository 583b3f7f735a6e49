#include "onnx/onnx_test_util.h"

#include <cstring>
#include <random>

namespace qsdk::onnx_test {

ModelBuilder::ModelBuilder(int64_t opset) {
  model_.set_ir_version(8);
  model_.set_producer_name("qsdk onnx tests");
  ::onnx::OperatorSetIdProto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  model_.mutable_graph()->set_name("test_graph");
}

ModelBuilder& ModelBuilder::Input(const std::string& name, const std::vector<int64_t>& dims,
                                  int32_t type) {
  ::onnx::ValueInfoProto* in = graph()->add_input();
  in->set_name(name);
  ::onnx::TypeProto_Tensor* t = in->mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  ::onnx::TensorShapeProto* shape = t->mutable_shape();
  for (int64_t d : dims) {
    if (d < 0) {
      shape->add_dim()->set_dim_param("N");
    } else {
      shape->add_dim()->set_dim_value(d);
    }
  }
  return *this;
}

ModelBuilder& ModelBuilder::Output(const std::string& name) {
  ::onnx::ValueInfoProto* out = graph()->add_output();
  out->set_name(name);
  out->mutable_type()->mutable_tensor_type()->set_elem_type(::onnx::TensorProto_DataType_FLOAT);
  return *this;
}

ModelBuilder& ModelBuilder::Floats(const std::string& name, const std::vector<int64_t>& dims,
                                   const std::vector<float>& values) {
  *graph()->add_initializer() = FloatTensor(name, dims, values);
  return *this;
}

ModelBuilder& ModelBuilder::Ints(const std::string& name, int32_t type,
                                 const std::vector<int64_t>& dims,
                                 const std::vector<int64_t>& values) {
  *graph()->add_initializer() = IntTensor(name, type, dims, values);
  return *this;
}

::onnx::NodeProto* ModelBuilder::Node(const std::string& op, const std::vector<std::string>& inputs,
                                      const std::vector<std::string>& outputs,
                                      const std::string& name) {
  ::onnx::NodeProto* n = graph()->add_node();
  n->set_op_type(op);
  if (!name.empty()) n->set_name(name);
  for (const std::string& i : inputs) n->add_input(i);
  for (const std::string& o : outputs) n->add_output(o);
  return n;
}

std::string ModelBuilder::Serialize() const { return model_.SerializeAsString(); }

::onnx::TensorProto FloatTensor(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& values) {
  ::onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(::onnx::TensorProto_DataType_FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  return t;
}

::onnx::TensorProto IntTensor(const std::string& name, int32_t type,
                              const std::vector<int64_t>& dims,
                              const std::vector<int64_t>& values) {
  ::onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  for (int64_t d : dims) t.add_dims(d);
  std::string raw;
  for (int64_t v : values) {
    switch (type) {
      case ::onnx::TensorProto_DataType_INT64:
        raw.append(reinterpret_cast<const char*>(&v), 8);
        break;
      case ::onnx::TensorProto_DataType_INT32: {
        const auto x = static_cast<int32_t>(v);
        raw.append(reinterpret_cast<const char*>(&x), 4);
        break;
      }
      case ::onnx::TensorProto_DataType_INT16: {
        const auto x = static_cast<int16_t>(v);
        raw.append(reinterpret_cast<const char*>(&x), 2);
        break;
      }
      default:
        raw.push_back(static_cast<char>(static_cast<uint8_t>(v)));
        break;
    }
  }
  t.set_raw_data(raw);
  return t;
}

namespace {
::onnx::AttributeProto* NewAttr(::onnx::NodeProto* node, const std::string& name,
                                ::onnx::AttributeProto_AttributeType type) {
  ::onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}
}  // namespace

void SetAttr(::onnx::NodeProto* node, const std::string& name, int64_t value) {
  NewAttr(node, name, ::onnx::AttributeProto_AttributeType_INT)->set_i(value);
}

void SetAttr(::onnx::NodeProto* node, const std::string& name, float value) {
  NewAttr(node, name, ::onnx::AttributeProto_AttributeType_FLOAT)->set_f(value);
}

void SetAttr(::onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& value) {
  ::onnx::AttributeProto* a = NewAttr(node, name, ::onnx::AttributeProto_AttributeType_INTS);
  for (int64_t v : value) a->add_ints(v);
}

void SetAttr(::onnx::NodeProto* node, const std::string& name, const std::vector<float>& value) {
  ::onnx::AttributeProto* a = NewAttr(node, name, ::onnx::AttributeProto_AttributeType_FLOATS);
  for (float v : value) a->add_floats(v);
}

void SetAttr(::onnx::NodeProto* node, const std::string& name, const std::string& value) {
  NewAttr(node, name, ::onnx::AttributeProto_AttributeType_STRING)->set_s(value);
}

void SetAttr(::onnx::NodeProto* node, const std::string& name, const ::onnx::TensorProto& value) {
  *NewAttr(node, name, ::onnx::AttributeProto_AttributeType_TENSOR)->mutable_t() = value;
}

Status Parse(const ::onnx::ModelProto& model, std::unique_ptr<INetwork>* network,
             const std::string& model_dir) {
  *network = CreateINetwork();
  const std::string bytes = model.SerializeAsString();
  return CreateIParser()->ParseFromMemory(bytes.data(), bytes.size(), network->get(), model_dir);
}

Status BuildAndRun(const INetwork& network, const std::string& config,
                   const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs,
                   std::unique_ptr<IModel>* model_out) {
  auto cfg = CreateIBuilderConfig();
  Status s = cfg->ParseFromString(config);
  if (!s.ok()) return s;
  std::unique_ptr<IModel> model;
  s = CreateIBuilder()->BuildModel("onnx_test", network, *cfg, &model);
  if (!s.ok()) return s;
  std::unique_ptr<IEngine> engine;
  s = model->CreateIEngine(&engine);
  if (!s.ok()) return s;
  std::unique_ptr<IContext> context;
  s = engine->CreateIContext(&context);
  if (!s.ok()) return s;
  s = context->Execute(inputs, outputs);
  if (model_out != nullptr) *model_out = std::move(model);
  return s;
}

Tensor RandomTensor(const Dims& dims, uint32_t seed, const std::string& name) {
  Tensor t = Tensor::Allocate(DataType::FLOAT32, dims, name);
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int64_t i = 0; i < t.GetElementCount(); ++i) t.Data<float>()[i] = dist(rng);
  return t;
}

std::vector<float> Values(const Tensor& t) {
  if (t.empty() || t.GetDataType() != DataType::FLOAT32) return {};
  return std::vector<float>(t.Data<float>(), t.Data<float>() + t.GetElementCount());
}

int CountNodes(const INetwork& network, NodeType type) {
  int count = 0;
  for (int64_t i = 0; i < network.GetNodeCount(); ++i) {
    count += network.GetNode(i)->GetNodeType() == type;
  }
  return count;
}

}  // namespace qsdk::onnx_test
