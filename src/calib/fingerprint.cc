#include "calib/fingerprint.h"

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <variant>
#include <vector>

#define XXH_STATIC_LINKING_ONLY  // XXH64_state_t on the stack
#include <xxhash.h>

namespace qsdk::calib {
namespace {

// Feeds fixed-width little-endian fields and length-prefixed strings to one XXH64 state.
// Every variable-length item is prefixed by its length, so no two graphs share an encoding.
class Encoder {
 public:
  Encoder() { XXH64_reset(&state_, 0); }

  void U8(uint8_t v) { Bytes(&v, 1); }
  void I32(int32_t v) { U64(static_cast<uint64_t>(static_cast<uint32_t>(v))); }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void U64(uint64_t v) {
    uint8_t bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(v >> (8 * i));
    Bytes(bytes, sizeof(bytes));
  }
  void F64(double v) {
    uint64_t bits;
    static_assert(sizeof(bits) == sizeof(v));
    std::memcpy(&bits, &v, sizeof(bits));
    U64(bits);
  }
  void Str(const std::string& s) {
    U64(s.size());
    Bytes(s.data(), s.size());
  }
  template <typename T, typename Fn>
  void List(const std::vector<T>& items, Fn each) {
    U64(items.size());
    for (const T& item : items) each(item);
  }
  void Bytes(const void* data, size_t size) {
    if (size > 0) XXH64_update(&state_, data, size);
  }
  uint64_t Digest() const { return XXH64_digest(&state_); }

 private:
  XXH64_state_t state_;
};

void EncodeAttr(Encoder* e, const graph::AttrValue& value) {
  e->U8(static_cast<uint8_t>(value.index()));
  std::visit(
      [e](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, int64_t>) {
          e->I64(v);
        } else if constexpr (std::is_same_v<V, double>) {
          e->F64(v);
        } else if constexpr (std::is_same_v<V, std::string>) {
          e->Str(v);
        } else if constexpr (std::is_same_v<V, std::vector<int64_t>>) {
          e->List(v, [e](int64_t x) { e->I64(x); });
        } else {
          e->List(v, [e](double x) { e->F64(x); });
        }
      },
      value);
}

}  // namespace

std::string NetworkFingerprint(const graph::Graph& graph) {
  Encoder e;
  // Format tag: a change of this encoding must change every fingerprint.
  e.Str("qsdk-network-fingerprint-v1");
  e.List(graph.tensors, [&e](const graph::Tensor& t) {
    e.Str(t.name);
    e.I32(static_cast<int32_t>(t.dtype));
    e.List(t.shape, [&e](int64_t d) { e.I64(d); });
    e.I32(t.producer);
    e.U8(t.is_constant() ? 1 : 0);
    if (t.is_constant()) {
      e.U64(t.data->size());
      e.Bytes(t.data->data(), t.data->size());
    }
  });
  e.List(graph.nodes, [&e](const graph::Node& n) {
    e.I32(static_cast<int32_t>(n.type));
    e.Str(n.name);
    e.U64(n.attrs.values().size());
    for (const auto& [key, value] : n.attrs.values()) {  // std::map: sorted, canonical
      e.Str(key);
      EncodeAttr(&e, value);
    }
    e.List(n.inputs, [&e](graph::TensorId id) { e.I32(id); });
    e.List(n.outputs, [&e](graph::TensorId id) { e.I32(id); });
  });
  e.List(graph.inputs, [&e](graph::TensorId id) { e.I32(id); });
  e.List(graph.outputs, [&e](graph::TensorId id) { e.I32(id); });

  const uint64_t digest = e.Digest();
  static const char kHex[] = "0123456789abcdef";
  std::string hex(16, '0');
  for (int i = 0; i < 16; ++i) hex[15 - i] = kHex[(digest >> (4 * i)) & 0xF];
  return hex;
}

}  // namespace qsdk::calib
