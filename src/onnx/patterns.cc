#include "onnx/patterns.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "onnx/model_loader.h"

namespace qsdk::onnx {

namespace {

class Matcher {
 public:
  Matcher(const ::onnx::GraphProto& graph, const ConstantLookup& constant)
      : graph_(graph), constant_(constant) {
    for (int i = 0; i < graph.node_size(); ++i) {
      const ::onnx::NodeProto& n = graph.node(i);
      for (const std::string& in : n.input()) {
        if (!in.empty()) consumers_[in].push_back(i);
      }
      for (const std::string& out : n.output()) {
        if (!out.empty()) producer_[out] = i;
      }
    }
    for (const auto& out : graph.output()) graph_outputs_.insert(out.name());
  }

  void Run(PatternMatches* matches) {
    matches->match_of_node.assign(static_cast<size_t>(graph_.node_size()), -1);
    for (int i = 0; i < graph_.node_size(); ++i) {
      PatternMatch m;
      const std::string& op = graph_.node(i).op_type();
      const bool found =
          (op == "Erf" && MatchGelu(i, &m)) || (op == "HardSigmoid" && MatchHardSwish(i, &m));
      if (!found) continue;
      // A node belongs to one match at most (the first found).
      bool taken = false;
      for (int n : m.nodes) taken = taken || matches->match_of_node[n] >= 0;
      if (taken) continue;
      m.anchor = *std::max_element(m.nodes.begin(), m.nodes.end());
      for (int n : m.nodes) {
        matches->match_of_node[n] = static_cast<int>(matches->matches.size());
      }
      matches->matches.push_back(std::move(m));
    }
  }

 private:
  const ::onnx::NodeProto& Node(int i) const { return graph_.node(i); }

  bool Is(int i, const char* op, int inputs, int outputs) const {
    const ::onnx::NodeProto& n = Node(i);
    return IsDefaultDomain(n.domain()) && n.op_type() == op && n.input_size() == inputs &&
           n.output_size() == outputs;
  }

  // The node producing `value`, or -1.
  int Producer(const std::string& value) const {
    auto it = producer_.find(value);
    return it == producer_.end() ? -1 : it->second;
  }

  // The one node reading `value` (once), provided it is not a graph output; or -1.
  int SoleConsumer(const std::string& value) const {
    if (graph_outputs_.count(value)) return -1;
    auto it = consumers_.find(value);
    if (it == consumers_.end() || it->second.size() != 1) return -1;
    return it->second[0];
  }

  bool IsConstant(const std::string& value, double expected) const {
    const HostTensor* c = constant_(value);
    if (c == nullptr || !c->is_float() || c->count() != 1) return false;
    const double v = c->floats()[0];
    return std::fabs(v - expected) <= 1e-5 * std::max(1.0, std::fabs(expected));
  }

  // Binary node `i`: if one operand is `value`, sets `other` to the other operand.
  bool OtherOperand(int i, const std::string& value, std::string* other) const {
    const ::onnx::NodeProto& n = Node(i);
    if (n.input(0) == value) {
      *other = n.input(1);
      return true;
    }
    if (n.input(1) == value) {
      *other = n.input(0);
      return true;
    }
    return false;
  }

  // Binary Mul / Div node `i` computing x * c or c * x (Mul) or x / c (Div) with constant
  // c equal to `expected`; sets x.
  bool ScalesByConstant(int i, const char* op, double expected, std::string* x) const {
    if (!Is(i, op, 2, 1)) return false;
    const ::onnx::NodeProto& n = Node(i);
    if (IsConstant(n.input(1), expected)) {
      *x = n.input(0);
      return true;
    }
    if (std::string(op) == "Mul" && IsConstant(n.input(0), expected)) {
      *x = n.input(1);
      return true;
    }
    return false;
  }

  // x * 0.5 * (1 + erf(x / sqrt(2))), anchored at the Erf node `erf`.
  bool MatchGelu(int erf, PatternMatch* m) const {
    if (!Is(erf, "Erf", 1, 1)) return false;
    // u = x / sqrt(2) or x * (1 / sqrt(2)).
    const std::string& u = Node(erf).input(0);
    const int scale = Producer(u);
    if (scale < 0 || SoleConsumer(u) != erf) return false;
    std::string x;
    if (!ScalesByConstant(scale, "Div", std::sqrt(2.0), &x) &&
        !ScalesByConstant(scale, "Mul", 1.0 / std::sqrt(2.0), &x)) {
      return false;
    }
    // a = erf(u) + 1.
    const std::string& e = Node(erf).output(0);
    const int add = SoleConsumer(e);
    std::string one;
    if (add < 0 || !Is(add, "Add", 2, 1) || !OtherOperand(add, e, &one) || !IsConstant(one, 1.0)) {
      return false;
    }
    // Two Muls combine x, a and 0.5 in any order.
    const std::string& a = Node(add).output(0);
    const int m1 = SoleConsumer(a);
    std::string o1;
    if (m1 < 0 || !Is(m1, "Mul", 2, 1) || !OtherOperand(m1, a, &o1)) return false;
    std::vector<int> nodes = {scale, erf, add, m1};
    std::string y;
    if (o1 == x || IsConstant(o1, 0.5)) {
      // (x * a) * 0.5 or (a * 0.5) * x.
      const std::string& t = Node(m1).output(0);
      const int m2 = SoleConsumer(t);
      std::string o2;
      if (m2 < 0 || !Is(m2, "Mul", 2, 1) || !OtherOperand(m2, t, &o2)) return false;
      const bool ok = o1 == x ? IsConstant(o2, 0.5) : o2 == x;
      if (!ok) return false;
      nodes.push_back(m2);
      y = Node(m2).output(0);
    } else {
      // (x * 0.5) * a.
      const int m0 = Producer(o1);
      std::string x0;
      if (m0 < 0 || SoleConsumer(o1) != m1 || !ScalesByConstant(m0, "Mul", 0.5, &x0) || x0 != x) {
        return false;
      }
      nodes.push_back(m0);
      y = Node(m1).output(0);
    }
    m->activation = ActivationType::kGelu;
    m->form = "x * 0.5 * (1 + erf(x / sqrt(2)))";
    m->input = x;
    m->output = y;
    m->nodes = nodes;
    return true;
  }

  // x * HardSigmoid(x; alpha = 1/6, beta = 0.5), anchored at the HardSigmoid `hs`.
  bool MatchHardSwish(int hs, PatternMatch* m) const {
    if (!Is(hs, "HardSigmoid", 1, 1)) return false;
    double alpha = 0.2, beta = 0.5;  // ONNX defaults
    for (const ::onnx::AttributeProto& a : Node(hs).attribute()) {
      if (a.type() != ::onnx::AttributeProto_AttributeType_FLOAT) return false;
      if (a.name() == "alpha") {
        alpha = a.f();
      } else if (a.name() == "beta") {
        beta = a.f();
      } else {
        return false;
      }
    }
    if (std::fabs(alpha - 1.0 / 6.0) > 1e-6 || std::fabs(beta - 0.5) > 1e-6) return false;
    const std::string& x = Node(hs).input(0);
    const std::string& h = Node(hs).output(0);
    const int mul = SoleConsumer(h);
    std::string other;
    if (mul < 0 || !Is(mul, "Mul", 2, 1) || !OtherOperand(mul, h, &other) || other != x) {
      return false;
    }
    m->activation = ActivationType::kHardSwish;
    m->form = "x * HardSigmoid(x, alpha = 1/6, beta = 0.5)";
    m->input = x;
    m->output = Node(mul).output(0);
    m->nodes = {hs, mul};
    return true;
  }

  const ::onnx::GraphProto& graph_;
  const ConstantLookup& constant_;
  std::unordered_map<std::string, std::vector<int>> consumers_;
  std::unordered_map<std::string, int> producer_;
  std::set<std::string> graph_outputs_;
};

}  // namespace

void FindPatterns(const ::onnx::GraphProto& graph, const ConstantLookup& constant,
                  PatternMatches* matches) {
  *matches = PatternMatches();
  Matcher(graph, constant).Run(matches);
}

}  // namespace qsdk::onnx
