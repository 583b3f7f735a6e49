#include "graph/attributes.h"

namespace qsdk::graph {
namespace {
template <typename T>
const T* Find(const std::map<std::string, AttrValue>& values, const std::string& key) {
  auto it = values.find(key);
  if (it == values.end()) return nullptr;
  return std::get_if<T>(&it->second);
}
}  // namespace

int64_t AttrMap::GetInt(const std::string& key, int64_t fallback) const {
  const auto* v = Find<int64_t>(values_, key);
  return v ? *v : fallback;
}
double AttrMap::GetFloat(const std::string& key, double fallback) const {
  const auto* v = Find<double>(values_, key);
  return v ? *v : fallback;
}
std::string AttrMap::GetString(const std::string& key, const std::string& fallback) const {
  const auto* v = Find<std::string>(values_, key);
  return v ? *v : fallback;
}
std::vector<int64_t> AttrMap::GetInts(const std::string& key,
                                      const std::vector<int64_t>& fallback) const {
  const auto* v = Find<std::vector<int64_t>>(values_, key);
  return v ? *v : fallback;
}
std::vector<double> AttrMap::GetFloats(const std::string& key,
                                       const std::vector<double>& fallback) const {
  const auto* v = Find<std::vector<double>>(values_, key);
  return v ? *v : fallback;
}

}  // namespace qsdk::graph
