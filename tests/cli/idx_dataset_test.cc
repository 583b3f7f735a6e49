// The IDX reader of the qsdk tool: raw and gzip files, and every kind of malformed file.
#include "idx_dataset.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_test_util.h"

namespace qsdk::tools {
namespace {

std::vector<uint8_t> Iota(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 3);
  return v;
}

void ExpectError(const std::vector<uint8_t>& bytes, StatusCode code, const std::string& needle) {
  IdxArray array;
  const Status s = ParseIdx(bytes.data(), bytes.size(), "t.idx", &array);
  ASSERT_FALSE(s.ok()) << "expected: " << needle;
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("t.idx"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
}

TEST(IdxTest, ParsesImagesAndLabels) {
  const std::vector<uint8_t> pixels = Iota(3 * 4 * 5);
  IdxArray array;
  const std::vector<uint8_t> bytes = IdxBytes({3, 4, 5}, pixels);
  ASSERT_TRUE(ParseIdx(bytes.data(), bytes.size(), "x", &array).ok());
  EXPECT_EQ(array.dims, (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(array.Count(), 3);
  EXPECT_EQ(array.ItemSize(), 20);
  EXPECT_EQ(array.data, pixels);
  const std::vector<uint8_t> labels = IdxBytes({4}, {1, 2, 3, 9});
  ASSERT_TRUE(ParseIdx(labels.data(), labels.size(), "y", &array).ok());
  EXPECT_EQ(array.ItemSize(), 1);
  EXPECT_EQ(array.data, (std::vector<uint8_t>{1, 2, 3, 9}));
}

TEST(IdxTest, ReadsRawAndGzipFilesAlike) {
  TempDir dir;
  const std::vector<uint8_t> bytes = IdxBytes({2, 3, 3}, Iota(18));
  WriteBytes(dir.path() + "/raw", bytes);
  WriteGzip(dir.path() + "/packed.gz", bytes);
  IdxArray raw, packed;
  ASSERT_TRUE(ReadIdx(dir.path() + "/raw", &raw).ok());
  ASSERT_TRUE(ReadIdx(dir.path() + "/packed.gz", &packed).ok());
  EXPECT_EQ(raw.dims, packed.dims);
  EXPECT_EQ(raw.data, packed.data);
  EXPECT_EQ(raw.data, Iota(18));
}

TEST(IdxTest, RejectsBadMagic) {
  ExpectError({0x1f, 0x8b, 0x08, 0x00}, StatusCode::kDataLoss, "not an IDX file (magic 0x1F8B0800");
  ExpectError({0, 0, 0x42, 1, 0, 0, 0, 1, 5}, StatusCode::kDataLoss,
              "unknown IDX element type 0x42");
  ExpectError({0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0}, StatusCode::kUnimplemented,
              "element type 0x0D (float) is not supported");
  ExpectError({0, 0, 0x08, 0}, StatusCode::kDataLoss, "gives 0 dimensions");
  ExpectError({0, 0, 0x08, 9}, StatusCode::kDataLoss, "gives 9 dimensions");
}

TEST(IdxTest, RejectsTruncatedFiles) {
  ExpectError({0, 0}, StatusCode::kDataLoss, "shorter than the 4-byte IDX magic");
  ExpectError({0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0}, StatusCode::kDataLoss,
              "truncated inside the 3 dimensions");
  std::vector<uint8_t> bytes = IdxBytes({2, 3}, Iota(6));
  bytes.pop_back();
  ExpectError(bytes, StatusCode::kDataLoss, "dimensions [2,3] need 6 data bytes, the file has 5");
}

TEST(IdxTest, RejectsBytesAfterTheData) {
  std::vector<uint8_t> bytes = IdxBytes({2}, {1, 2});
  bytes.push_back(0);
  ExpectError(bytes, StatusCode::kDataLoss, "unexpected bytes after the 2 data bytes");
}

TEST(IdxTest, HugeDimensionsFailWithoutAllocatingThem) {
  // 4G x 4G x 4G elements overflow; 4G x 16 fits in 64 bits but the data is absent: the
  // reader grows its buffer with the data actually read, so this fails quickly.
  ExpectError(IdxBytes({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {}), StatusCode::kDataLoss,
              "too many elements");
  ExpectError(IdxBytes({0xFFFFFFFF, 16}, Iota(10)), StatusCode::kDataLoss, "the file has 10");
}

TEST(IdxTest, RejectsCorruptAndTruncatedGzip) {
  TempDir dir;
  const std::string path = dir.path() + "/x.gz";
  WriteGzip(path, IdxBytes({64, 8, 8}, Iota(64 * 64)));
  std::vector<uint8_t> packed = ReadBytes(path);
  ASSERT_GT(packed.size(), 40u);

  std::vector<uint8_t> cut(packed.begin(), packed.begin() + static_cast<long>(packed.size() / 2));
  WriteBytes(path, cut);
  IdxArray array;
  Status s = ReadIdx(path, &array);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_EQ(s.message().find('\n'), std::string::npos);

  std::vector<uint8_t> flipped = packed;
  for (size_t i = 12; i < flipped.size() - 8; i += 3) flipped[i] ^= 0x5A;
  WriteBytes(path, flipped);
  s = ReadIdx(path, &array);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
}

TEST(IdxTest, MissingFileIsNotFound) {
  TempDir dir;
  IdxArray array;
  const Status s = ReadIdx(dir.path() + "/nope.gz", &array);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("nope.gz"), std::string::npos);
}

TEST(IdxTest, ReadsFashionMnistLayout) {
  TempDir dir;
  WriteGzip(dir.path() + "/t10k-images-idx3-ubyte.gz", IdxBytes({3, 2, 2}, Iota(12)));
  WriteBytes(dir.path() + "/t10k-labels-idx1-ubyte", IdxBytes({3}, {0, 9, 4}));  // raw works too
  IdxArray images, labels;
  ASSERT_TRUE(ReadFashionMnistTest(dir.path(), &images, &labels).ok());
  EXPECT_EQ(images.Count(), 3);
  EXPECT_EQ(labels.data, (std::vector<uint8_t>{0, 9, 4}));

  WriteBytes(dir.path() + "/t10k-labels-idx1-ubyte", IdxBytes({2}, {0, 9}));
  Status s = ReadFashionMnistTest(dir.path(), &images, &labels);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("3 images"), std::string::npos) << s.message();

  WriteBytes(dir.path() + "/t10k-labels-idx1-ubyte", IdxBytes({3}, {0, 10, 1}));
  s = ReadFashionMnistTest(dir.path(), &images, &labels);
  EXPECT_NE(s.message().find("label 1 is 10"), std::string::npos) << s.message();

  WriteBytes(dir.path() + "/t10k-labels-idx1-ubyte", IdxBytes({3, 1}, {0, 1, 1}));
  s = ReadFashionMnistTest(dir.path(), &images, &labels);
  EXPECT_NE(s.message().find("labels must have 1 dimension"), std::string::npos) << s.message();

  s = ReadFashionMnistTest(dir.path() + "/elsewhere", &images, &labels);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("t10k-images-idx3-ubyte"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace qsdk::tools
