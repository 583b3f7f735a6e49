// Damage tests over a small real engine: every single-byte flip and every truncation must
// be rejected, random multi-byte damage too; and damage that passes the checksums (the
// hashes recomputed after the patch) must be handled without crashing. Run under
// AddressSanitizer in CI.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine_file/byte_io.h"
#include "engine_file/engine_file.h"
#include "engine_file/engine_file_test_util.h"
#include "engine_file/format.h"
#include "graph/shape_inference.h"

namespace qsdk::engine_file {
namespace {

class EngineFileFuzzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    graph::Graph g = testing::SmallQuantizedCnn();
    const Status inferred = graph::InferShapes(&g);
    ASSERT_TRUE(inferred.ok()) << inferred.ToString();
    // The sweeps below must cover quantization parameters (per tensor and per channel)
    // and ranges.
    ASSERT_EQ(g.tensors[g.FindTensor("conv_w")].quant.scales.size(), 4u);
    ASSERT_EQ(g.tensors[g.FindTensor("conv_out")].dtype, DataType::INT8);
    ASSERT_FALSE(g.tensors[g.FindTensor("conv_out")].range.empty());
    EngineMetadata meta;
    meta.model_name = "small_cnn_fuzz";
    meta.build_config_json = R"({"precision_mode":"int8"})";
    meta.build_report_json = R"({"layers":[]})";
    meta.required_isa = "avx2";
    const Status written = Write(g, meta, &bytes_);
    ASSERT_TRUE(written.ok()) << written.ToString();
    // Small enough to stay fast, big enough to hold every part of the format.
    ASSERT_GT(bytes_.size(), 1000u);
    ASSERT_LT(bytes_.size(), 8192u);
    ASSERT_EQ(LoadU32(bytes_.data() + kOffSectionCount), 2u);
    // The flips must also hit zero padding between sections (not covered by any hash):
    // the model name's length is chosen so that the metadata does not end on a 64-byte
    // boundary.
    ASSERT_LT(testing::SectionOffset(bytes_, 0) + testing::SectionSize(bytes_, 0),
              testing::SectionOffset(bytes_, 1));
    ASSERT_TRUE(ReadOk(bytes_).ok());
  }

  Status ReadOk(const std::vector<uint8_t>& bytes) {
    graph::Graph g;
    EngineMetadata meta;
    return Read(bytes.data(), bytes.size(), &g, &meta);
  }

  std::vector<uint8_t> bytes_;
};

TEST_F(EngineFileFuzzTest, EverySingleByteFlipIsRejected) {
  std::set<StatusCode> codes;
  for (size_t i = 0; i < bytes_.size(); ++i) {
    auto bytes = bytes_;
    bytes[i] ^= 0xFF;
    const Status s = ReadOk(bytes);
    ASSERT_FALSE(s.ok()) << "flipping byte " << i << " of " << bytes_.size() << " went unnoticed";
    codes.insert(s.code());
  }
  // Damage is kDataLoss; a flipped version byte reads as a newer version.
  for (StatusCode c : codes) {
    EXPECT_TRUE(c == StatusCode::kDataLoss || c == StatusCode::kVersionMismatch)
        << StatusCodeName(c);
  }
}

TEST_F(EngineFileFuzzTest, EveryTruncationIsRejected) {
  for (size_t len = 0; len < bytes_.size(); ++len) {
    // A copy of exactly `len` bytes, so ASan sees any read past the end.
    const std::vector<uint8_t> bytes(bytes_.begin(), bytes_.begin() + len);
    const Status s = ReadOk(bytes);
    ASSERT_FALSE(s.ok()) << "truncation to " << len << " bytes went unnoticed";
    ASSERT_EQ(s.code(), StatusCode::kDataLoss) << len << ": " << s.ToString();
  }
}

TEST_F(EngineFileFuzzTest, RandomMultiByteDamageIsRejected) {
  std::mt19937 rng(20240611);  // fixed seed: reproducible
  std::uniform_int_distribution<size_t> position(0, bytes_.size() - 1);
  std::uniform_int_distribution<int> count(2, 16);
  std::uniform_int_distribution<int> mask(1, 255);  // never 0: every chosen byte changes
  for (int iter = 0; iter < 3000; ++iter) {
    auto bytes = bytes_;
    std::set<size_t> chosen;
    const int n = count(rng);
    while (static_cast<int>(chosen.size()) < n) chosen.insert(position(rng));
    for (size_t p : chosen) bytes[p] ^= static_cast<uint8_t>(mask(rng));
    const Status s = ReadOk(bytes);
    ASSERT_FALSE(s.ok()) << "iteration " << iter << " damage went unnoticed";
  }
}

// With the header hash recomputed after a header or section-table flip, every field's own
// validation must still catch the flip; only the oneDNN version numbers are free values.
TEST_F(EngineFileFuzzTest, HeaderAndTableFieldsAreValidatedBeyondTheHash) {
  const size_t table_end = kHeaderSize + 2 * kSectionEntrySize;
  for (size_t i = 0; i < table_end; ++i) {
    if (i >= kOffHeaderHash && i < kOffHeaderHash + 8) continue;  // the hash itself
    auto bytes = bytes_;
    bytes[i] ^= 0xFF;
    testing::RehashHeader(&bytes, 2);
    graph::Graph g;
    EngineMetadata meta;
    const Status s = Read(bytes.data(), bytes.size(), &g, &meta);
    if (i >= kOffOnednnMajor && i < kOffOnednnPatch + 4) {
      ASSERT_TRUE(s.ok()) << "byte " << i << ": " << s.ToString();
      EXPECT_NE(meta.onednn_version, "") << i;
    } else {
      ASSERT_FALSE(s.ok()) << "flipping header/table byte " << i
                           << " with the header hash recomputed went unnoticed";
    }
  }
}

// Metadata damage that passes the checksums reaches the decoder and then graph
// validation and shape inference. Any outcome but a crash is acceptable; what Read
// accepts must be a graph that Write accepts again.
TEST_F(EngineFileFuzzTest, MetadataDamageWithValidHashesNeverCrashes) {
  const uint64_t begin = testing::SectionOffset(bytes_, 0);
  const uint64_t end = begin + testing::SectionSize(bytes_, 0);
  // Which quantization / range rules fired: the flips must reach them.
  std::set<std::string> rules;
  auto check = [&](const std::vector<uint8_t>& bytes, const std::string& what) {
    graph::Graph g;
    EngineMetadata meta;
    const Status s = Read(bytes.data(), bytes.size(), &g, &meta);
    for (const char* rule :
         {"a scale must be finite and > 0", "zero_point[", "quantization axis",
          "a range must be finite with min <= max", "range axis", "range manual flag",
          "quantization scale count", "range entry count"}) {
      if (s.message().find(rule) != std::string::npos) rules.insert(rule);
    }
    if (s.ok()) {
      std::vector<uint8_t> again;
      const Status w = Write(g, meta, &again);
      EXPECT_TRUE(w.ok()) << what << ": read back but cannot be written: " << w.ToString();
      return true;
    }
    EXPECT_TRUE(s.code() == StatusCode::kDataLoss || s.code() == StatusCode::kInvalidArgument)
        << what << ": " << s.ToString();
    EXPECT_FALSE(s.message().empty());
    return false;
  };
  size_t rejected = 0;
  for (uint64_t i = begin; i < end; ++i) {
    for (uint8_t m : {uint8_t{0xFF}, uint8_t{0x01}, uint8_t{0x80}}) {
      auto bytes = bytes_;
      bytes[i] ^= m;
      testing::Rehash(&bytes);
      if (!check(bytes, "byte " + std::to_string(i) + " ^ " + std::to_string(m))) ++rejected;
    }
  }
  // Most flips hit lengths, counts, enums, ids and sizes: the decoder must reject more than
  // two thirds of the three flips per byte itself (names and float values are free, so
  // not all; about 80% are rejected today).
  EXPECT_GT(rejected, (end - begin) * 2);
  std::string reached;
  for (const std::string& r : rules) reached += " '" + r + "'";
  EXPECT_EQ(rules.size(), 8u) << "some quantization or range rule was never reached; reached:"
                              << reached;

  std::mt19937 rng(7);  // fixed seed: reproducible
  std::uniform_int_distribution<uint64_t> position(begin, end - 1);
  std::uniform_int_distribution<int> value(0, 255);
  for (int iter = 0; iter < 2000; ++iter) {
    auto bytes = bytes_;
    for (int k = 0; k < 4; ++k) bytes[position(rng)] = static_cast<uint8_t>(value(rng));
    testing::Rehash(&bytes);
    check(bytes, "random iteration " + std::to_string(iter));
  }
}

}  // namespace
}  // namespace qsdk::engine_file
