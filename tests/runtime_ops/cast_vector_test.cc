// The Cast kernel's conversion loops (src/runtime/kernels/cast_convert.h), each
// implementation this CPU runs (scalar, AVX-512 with the integer bf16 rounding, AVX-512 with
// vcvtneps2bf16) called directly, bit for bit against the reference's element conversions
// (src/reference/float_types.h), NaN payloads included (every path quiets NaNs as the
// reference does). The vector loops convert 16 lanes per step and end with a masked step,
// so the tests use lengths that are not multiples of 16, put each special value (NaN, -0,
// subnormals, overflow, ties) at every lane position, start at unaligned addresses and check
// that nothing around the destination range is written. Also: the same under a changed
// MXCSR (rounding up, FTZ, DAZ), which must not matter; and the kernel itself on such
// lengths.
#include <gtest/gtest.h>

#include <cfenv>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>
#include <xmmintrin.h>

#include "common/status_macros.h"
#include "graph/shape_inference.h"
#include "reference/float_types.h"
#include "reference/reference_test_util.h"
#include "runtime/kernels/cast_convert.h"
#include "runtime_ops/float_types_util.h"

namespace qsdk::runtime::internal {
namespace {

using reference::testing::BitsToFloat;
using reference::testing::FloatBits;

constexpr CastType kTypes[] = {CastType::kF32, CastType::kF16, CastType::kBf16};

const char* TypeName(CastType type) {
  switch (type) {
    case CastType::kF32: return "f32";
    case CastType::kF16: return "f16";
    default: return "bf16";
  }
}

size_t SizeOf(CastType type) { return type == CastType::kF32 ? 4 : 2; }

// The implementations this CPU can run (the test calls them directly, whatever
// BestCastIsa() picked).
std::vector<CastIsa> RunnableIsas() {
  std::vector<CastIsa> isas = {CastIsa::kScalar};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl")) {
    isas.push_back(CastIsa::kAvx512);
    if (__builtin_cpu_supports("avx512bf16")) isas.push_back(CastIsa::kAvx512Bf16);
  }
  return isas;
}

// The reference's bits for one element (`bits` holds a value of `from`).
uint32_t ReferenceBits(CastType from, CastType to, uint32_t bits) {
  float wide = 0.0f;
  switch (from) {
    case CastType::kF32: wide = BitsToFloat(bits); break;
    case CastType::kF16: wide = reference::HalfBitsToFloat(static_cast<uint16_t>(bits)); break;
    default: wide = reference::Bfloat16BitsToFloat(static_cast<uint16_t>(bits)); break;
  }
  switch (to) {
    case CastType::kF32: return FloatBits(wide);
    case CastType::kF16: return reference::FloatToHalfBits(wide);
    default: return reference::FloatToBfloat16Bits(wide);
  }
}

bool IsNan(CastType type, uint32_t bits) {
  switch (type) {
    case CastType::kF32: return (bits & 0x7fffffffu) > 0x7f800000u;
    case CastType::kF16: return (bits & 0x7fffu) > 0x7c00u;
    default: return (bits & 0x7fffu) > 0x7f80u;
  }
}

uint32_t SignOf(CastType type, uint32_t bits) { return bits >> (type == CastType::kF32 ? 31 : 15); }

// Special source values of each type: every rule of every conversion.
std::vector<uint32_t> Specials(CastType type) {
  if (type == CastType::kF32) {
    return {
        0x00000000u, 0x80000000u,                            // +-0
        0x00000001u, 0x80000001u, 0x007fffffu, 0x807fffffu,  // f32 subnormals
        0x00018000u, 0x00408000u,                            // subnormals with bf16 ties
        0x00800000u, 0x80800000u,                            // smallest f32 normal
        0x33000000u, 0xb3000000u,                            // 2^-25: tie to f16 0
        0x33000001u, 0x33c00000u,                            // above it; 1.5 * 2^-25
        0x33800000u, 0x387fc000u, 0x387fe000u,               // f16 subnormals, ties
        0x38800000u, 0xb8800000u,                            // smallest f16 normal
        0x3f801000u, 0x3f803000u, 0x3f801001u, 0x3f802fffu,  // f16 ties, neighbours
        0x3f808000u, 0x3f818000u, 0x3f807fffu, 0xbf818001u,  // bf16 ties, neighbours
        0x477fe000u, 0x477fefffu, 0x477ff000u, 0xc77ff000u,  // f16 max, 65520 -> inf
        0x7f7f8000u, 0x7f7f7fffu, 0xff7fffffu,               // bf16 overflow to inf
        0x7f800000u, 0xff800000u,                            // +-inf
        0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u,  // NaNs: quiet, signalling
        0x7fa5a5a5u, 0xffdfffffu, 0x7f80e000u, 0x7fbfffffu,  // NaN payloads
    };
  }
  const bool half = type == CastType::kF16;
  // 16-bit: zeros, subnormals, normal extremes, infinities, quiet and signalling NaNs.
  return half ? std::vector<uint32_t>{0x0000u, 0x8000u, 0x0001u, 0x83ffu, 0x0400u, 0x7bffu,
                                      0xfbffu, 0x7c00u, 0xfc00u, 0x7e00u, 0xfe01u, 0x7c01u,
                                      0xfd55u, 0x3c00u, 0x3555u}
              : std::vector<uint32_t>{0x0000u, 0x8000u, 0x0001u, 0x807fu, 0x0080u, 0x7f7fu,
                                      0xff7fu, 0x7f80u, 0xff80u, 0x7fc0u, 0xffc1u, 0x7f81u,
                                      0xffa5u, 0x3f80u, 0x3f81u};
}

// A buffer of `count` elements of `type` holding `bits`, starting one element past a
// 64-byte boundary (so that no vector access is aligned), between guard elements.
class Buffer {
 public:
  static constexpr size_t kGuard = 40;  // elements on each side: more than two vectors
  static constexpr uint8_t kFill = 0xA7;

  Buffer(CastType type, size_t count)
      : type_(type), count_(count), bytes_((count + 2 * kGuard + 1) * SizeOf(type) + 64, kFill) {}

  void* data() { return Align() + (kGuard + 1) * SizeOf(type_); }
  const void* data() const { return const_cast<Buffer*>(this)->data(); }

  void Set(size_t i, uint32_t bits) {
    std::memcpy(static_cast<uint8_t*>(data()) + i * SizeOf(type_), &bits, SizeOf(type_));
  }
  uint32_t Get(size_t i) const {
    uint32_t bits = 0;
    std::memcpy(&bits, static_cast<const uint8_t*>(data()) + i * SizeOf(type_), SizeOf(type_));
    return bits;
  }
  // True when every byte outside the `count` elements still holds the fill.
  bool GuardsIntact() const {
    const uint8_t* begin = bytes_.data();
    const uint8_t* first = static_cast<const uint8_t*>(data());
    const uint8_t* last = first + count_ * SizeOf(type_);
    for (const uint8_t* p = begin; p < first; ++p)
      if (*p != kFill) return false;
    for (const uint8_t* p = last; p < begin + bytes_.size(); ++p)
      if (*p != kFill) return false;
    return true;
  }

 private:
  uint8_t* Align() {
    const auto address = reinterpret_cast<uintptr_t>(bytes_.data());
    return bytes_.data() + ((64 - address % 64) % 64);
  }

  CastType type_;
  size_t count_;
  std::vector<uint8_t> bytes_;
};

// Converts `source` (bits of `from`) with `isa` and expects the reference's bits and intact
// guards; returns the number of mismatching elements (reporting the first).
size_t ConvertAndCompare(CastIsa isa, CastType from, CastType to,
                         const std::vector<uint32_t>& source, const std::string& label) {
  Buffer in(from, source.size()), out(to, source.size());
  for (size_t i = 0; i < source.size(); ++i) in.Set(i, source[i]);
  ConvertFloatBuffer(isa, from, to, in.data(), out.data(), source.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < source.size(); ++i) {
    const uint32_t want = ReferenceBits(from, to, source[i]);
    if (out.Get(i) != want && mismatches++ == 0) {
      ADD_FAILURE() << label << ": element " << i << " of " << source.size() << ": source 0x"
                    << std::hex << source[i] << " gave 0x" << out.Get(i) << ", reference 0x"
                    << want;
    }
  }
  EXPECT_TRUE(out.GuardsIntact()) << label << ": wrote outside the " << source.size()
                                  << " destination elements";
  return mismatches;
}

std::string Label(CastIsa isa, CastType from, CastType to) {
  return StrCat(CastIsaName(isa), " ", TypeName(from), " -> ", TypeName(to));
}

// Ordinary values of `type` (in [-4, 4)), the background around the special ones.
std::vector<uint32_t> Background(CastType type, size_t count, std::mt19937* rng) {
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  std::vector<uint32_t> bits(count);
  for (uint32_t& b : bits) {
    const uint32_t f = FloatBits(dist(*rng));
    b = type == CastType::kF32 ? f
        : type == CastType::kF16 ? reference::FloatToHalfBits(BitsToFloat(f))
                                 : reference::FloatToBfloat16Bits(BitsToFloat(f));
  }
  return bits;
}

TEST(CastVector, EverySixteenBitPatternAndF32Probes) {
  // All 65536 patterns of each 16-bit type (a length that is a multiple of 16) and again
  // shifted by 7 elements with 7 more (65543 = 4096 * 16 + 7: a masked last step); f32 probes
  // are the specials plus random bit patterns over the whole range and the f16 subnormal
  // range, 20011 in all (not a multiple of 16).
  std::mt19937 rng(2024);
  for (CastIsa isa : RunnableIsas()) {
    for (CastType from : kTypes) {
      std::vector<std::vector<uint32_t>> sources;
      if (from == CastType::kF32) {
        std::vector<uint32_t> probes = Specials(from);
        std::uniform_int_distribution<uint32_t> any;
        std::uniform_real_distribution<float> tiny(-7e-5f, 7e-5f);
        while (probes.size() < 15000) probes.push_back(any(rng));
        while (probes.size() < 20011) probes.push_back(FloatBits(tiny(rng)));
        sources.push_back(probes);
      } else {
        std::vector<uint32_t> all(65536);
        for (uint32_t b = 0; b < 65536; ++b) all[b] = b;
        sources.push_back(all);
        std::vector<uint32_t> shifted(7, 0x3c00u);
        shifted.insert(shifted.end(), all.begin(), all.end());
        sources.push_back(shifted);
      }
      for (CastType to : kTypes) {
        if (to == from) continue;
        for (const auto& source : sources) {
          EXPECT_EQ(ConvertAndCompare(isa, from, to, source, Label(isa, from, to)), 0u);
        }
      }
    }
  }
}

TEST(CastVector, SpecialValuesAtEveryLanePositionAndLength) {
  // Lengths 1..50 cover a lone masked step, one or two full steps, full steps plus every
  // tail length, and the 32-element unrolled body; each special value is put at each
  // position of each length, in a background of ordinary values.
  std::mt19937 rng(2025);
  for (CastIsa isa : RunnableIsas()) {
    for (CastType from : kTypes) {
      const std::vector<uint32_t> specials = Specials(from);
      for (CastType to : kTypes) {
        if (to == from) continue;
        const std::string label = Label(isa, from, to);
        size_t mismatches = 0;
        for (size_t length = 1; length <= 50; ++length) {
          const std::vector<uint32_t> background = Background(from, length, &rng);
          for (uint32_t special : specials) {
            for (size_t position = 0; position < length; ++position) {
              std::vector<uint32_t> source = background;
              source[position] = special;
              mismatches += ConvertAndCompare(isa, from, to, source,
                                              StrCat(label, " length ", length));
            }
          }
        }
        EXPECT_EQ(mismatches, 0u) << label;
      }
    }
  }
}

TEST(CastVector, ZeroLengthWritesNothing) {
  for (CastIsa isa : RunnableIsas()) {
    for (CastType from : kTypes) {
      for (CastType to : kTypes) {
        EXPECT_EQ(ConvertAndCompare(isa, from, to, {}, Label(isa, from, to)), 0u);
      }
    }
  }
}

TEST(CastVector, IndependentOfMxcsr) {
  // The vector instructions take their rounding from the instruction (vcvtps2ph's
  // immediate) or have fixed rules (vcvtph2ps ignores DAZ, vcvtps2ph ignores FTZ,
  // vcvtneps2bf16 ignores MXCSR); the scalar path is integer arithmetic. So rounding upward
  // with flush-to-zero and denormals-are-zero set must give the same bits.
  const unsigned saved_csr = _mm_getcsr();
  const int saved_round = std::fegetround();
  ASSERT_EQ(std::fesetround(FE_UPWARD), 0);
  _mm_setcsr(_mm_getcsr() | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
  std::mt19937 rng(2026);
  for (CastIsa isa : RunnableIsas()) {
    for (CastType from : kTypes) {
      std::vector<uint32_t> source = Specials(from);
      const std::vector<uint32_t> more = Background(from, 37, &rng);
      source.insert(source.end(), more.begin(), more.end());
      for (CastType to : kTypes) {
        if (to == from) continue;
        EXPECT_EQ(ConvertAndCompare(isa, from, to, source, Label(isa, from, to) + " MXCSR"), 0u);
      }
    }
  }
  _mm_setcsr(saved_csr);
  std::fesetround(saved_round);
}

TEST(CastVector, BestIsaIsRunnableAndHonoursTheCpu) {
  const CastIsa best = BestCastIsa();
  const std::vector<CastIsa> runnable = RunnableIsas();
  bool found = false;
  for (CastIsa isa : runnable) found = found || isa == best;
  EXPECT_TRUE(found) << CastIsaName(best);
  RecordProperty("cast_isa", CastIsaName(best));
}

// The kernel (through runtime::CreateKernel, on the implementation BestCastIsa() picked)
// on plain tensors whose lengths are not multiples of 16, each special value somewhere.
TEST(CastVector, KernelOnOddLengths) {
  namespace ft = float_testing;
  std::mt19937 rng(2027);
  const DataType types[] = {DataType::FLOAT32, DataType::FLOAT16, DataType::BFLOAT16};
  for (int64_t length : {1, 15, 17, 47, 1000, 4099}) {
    for (size_t f = 0; f < 3; ++f) {
      std::vector<uint32_t> bits = Background(kTypes[f], static_cast<size_t>(length), &rng);
      const std::vector<uint32_t> specials = Specials(kTypes[f]);
      for (size_t i = 0; i < specials.size(); ++i) {
        bits[(i * 7 + 3) % bits.size()] = specials[i];
      }
      Tensor source = Tensor::Allocate(types[f], Dims({length}));
      for (size_t i = 0; i < bits.size(); ++i) {
        std::memcpy(static_cast<uint8_t*>(source.GetData()) + i * SizeOf(kTypes[f]), &bits[i],
                    SizeOf(kTypes[f]));
      }
      for (size_t t = 0; t < 3; ++t) {
        if (t == f) continue;
        const std::string label = StrCat(TypeName(kTypes[f]), " -> ", TypeName(kTypes[t]),
                                         " length ", length);
        graph::Graph g;
        ft::AddOp(&g, NodeType::kCast, "op", {ft::AddInput(&g, "x", {length}, types[f])},
                  graph::AttrMap(), "y", types[t]);
        g.outputs = {g.FindTensor("y")};
        ASSERT_TRUE(graph::InferShapes(&g).ok()) << label;
        ft::NodeRun run;
        const Status st = ft::RunNode(g, g.FindNode("op"), {source}, {}, &run);
        ASSERT_TRUE(st.ok()) << label << ": " << st.ToString();
        ASSERT_EQ(run.output.GetElementCount(), length) << label;
        const CastType to = kTypes[t];
        const auto* out = static_cast<const uint8_t*>(run.output.GetData());
        size_t mismatches = 0;
        for (size_t i = 0; i < bits.size(); ++i) {
          uint32_t got = 0;
          std::memcpy(&got, out + i * SizeOf(to), SizeOf(to));
          const uint32_t want = ReferenceBits(kTypes[f], to, bits[i]);
          // oneDNN's f32 <-> bf16 reorder (used where it is exact) may give another NaN
          // payload (a NaN of the same sign); every other path gives the reference's bits.
          const bool onednn = run.kernel_name.rfind("onednn_", 0) == 0;
          const bool ok = onednn && IsNan(to, want)
                              ? IsNan(to, got) && SignOf(to, got) == SignOf(to, want)
                              : got == want;
          if (!ok && mismatches++ == 0) {
            ADD_FAILURE() << label << " (" << run.kernel_name << "): element " << i
                          << ": source 0x" << std::hex << bits[i] << " gave 0x" << got
                          << ", reference 0x" << want;
          }
        }
        EXPECT_EQ(mismatches, 0u) << label;
      }
    }
  }
}

}  // namespace
}  // namespace qsdk::runtime::internal
