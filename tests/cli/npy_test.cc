// The .npy reader and writer of the qsdk tool: files written by numpy, round trips of
// every dtype, and one test per kind of malformed file (each must be a one-line status,
// never a crash).
#include "npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "cli_test_util.h"

namespace qsdk::tools {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

// A .npy file with the given version and header text (padded and terminated as numpy
// does) followed by `data`.
std::vector<uint8_t> MakeFile(int major, const std::string& header, const std::string& data) {
  std::string text = header;
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + text.size() + 1) % 64 != 0) text.push_back(' ');
  text.push_back('\n');
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const uint32_t len = static_cast<uint32_t>(text.size());
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i)
    out.push_back(static_cast<char>(len >> (8 * i)));
  return Bytes(out + text + data);
}

Status Parse(const std::vector<uint8_t>& bytes, NpyArray* array) {
  return ParseNpy(bytes.data(), bytes.size(), "t.npy", array);
}

// Expects a failure with `code` whose message is one line and contains `needle`.
void ExpectError(const std::vector<uint8_t>& bytes, StatusCode code, const std::string& needle) {
  NpyArray array;
  const Status s = Parse(bytes, &array);
  ASSERT_FALSE(s.ok()) << "expected an error containing: " << needle;
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("t.npy"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
}

TEST(NpyTest, ReadsFileWrittenByNumpyVersion1) {
  // np.save(f, np.array([[1.5, -2.0], [0.25, 3.0]], dtype='<f4')), numpy 1.24, byte for byte.
  const std::string file = std::string("\x93NUMPY\x01\x00v\x00", 10) +
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }" +
                           std::string(58, ' ') + "\n" +
                           std::string("\x00\x00\xc0?\x00\x00\x00\xc0\x00\x00\x80>\x00\x00@@", 16);
  NpyArray array;
  ASSERT_TRUE(Parse(Bytes(file), &array).ok());
  EXPECT_EQ(array.dtype, NpyDType::kFloat32);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2, 2}));
  std::vector<float> values(4);
  std::memcpy(values.data(), array.data.data(), 16);
  // Exact: the bytes are the IEEE encodings of these values.
  EXPECT_EQ(values, (std::vector<float>{1.5f, -2.0f, 0.25f, 3.0f}));
}

TEST(NpyTest, ReadsFileWrittenByNumpyVersion2) {
  // numpy.lib.format.write_array(f, np.array([7, 8, 9], dtype='<i8'), version=(2, 0)).
  std::string data;
  for (int64_t v : {7, 8, 9}) data.append(reinterpret_cast<const char*>(&v), 8);
  const std::string file = std::string("\x93NUMPY\x02\x00t\x00\x00\x00", 12) +
                           "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }" +
                           std::string(58, ' ') + "\n" + data;
  NpyArray array;
  ASSERT_TRUE(Parse(Bytes(file), &array).ok());
  EXPECT_EQ(array.dtype, NpyDType::kInt64);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(array.data.size(), 24u);
}

TEST(NpyTest, AcceptsHeaderVariants) {
  NpyArray array;
  // Version 3.0, double quotes, other key order, no trailing comma, Python 2 long extents.
  ASSERT_TRUE(
      Parse(MakeFile(3, "{\"shape\": (1L, 2L), \"descr\": \"|u1\", \"fortran_order\": False}",
                     std::string("\x01\x02", 2)),
            &array)
          .ok());
  EXPECT_EQ(array.dtype, NpyDType::kUInt8);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{1, 2}));
  // A scalar: shape ().
  ASSERT_TRUE(Parse(MakeFile(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (), }",
                             std::string(4, '\0')),
                    &array)
                  .ok());
  EXPECT_TRUE(array.shape.empty());
  EXPECT_EQ(array.ElementCount(), 1);
  // An empty array: no data bytes at all.
  ASSERT_TRUE(
      Parse(MakeFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", ""), &array)
          .ok());
  EXPECT_EQ(array.ElementCount(), 0);
  // One-byte types with any byte-order character.
  ASSERT_TRUE(Parse(MakeFile(1, "{'descr': '>i1', 'fortran_order': False, 'shape': (1,), }",
                             std::string(1, '\x05')),
                    &array)
                  .ok());
  EXPECT_EQ(array.dtype, NpyDType::kInt8);
}

TEST(NpyTest, RoundTripsEveryDtype) {
  for (NpyDType dtype :
       {NpyDType::kFloat16, NpyDType::kFloat32, NpyDType::kFloat64, NpyDType::kInt8,
        NpyDType::kUInt8, NpyDType::kInt16, NpyDType::kUInt16, NpyDType::kInt32, NpyDType::kUInt32,
        NpyDType::kInt64, NpyDType::kUInt64, NpyDType::kBool}) {
    for (const std::vector<int64_t>& shape :
         {std::vector<int64_t>{}, std::vector<int64_t>{5}, std::vector<int64_t>{2, 3, 4}}) {
      NpyArray array;
      array.dtype = dtype;
      array.shape = shape;
      array.data.resize(static_cast<size_t>(array.ElementCount()) * NpyItemSize(dtype));
      for (size_t i = 0; i < array.data.size(); ++i)
        array.data[i] = static_cast<uint8_t>(i * 37 + 1);
      std::vector<uint8_t> bytes;
      ASSERT_TRUE(SerializeNpy(array, &bytes).ok());
      // numpy aligns the data to 64 bytes; so does the writer.
      const size_t header_len = bytes[8] | (bytes[9] << 8);
      EXPECT_EQ((10 + header_len) % 64, 0u) << NpyDescr(dtype);
      EXPECT_EQ(bytes[10 + header_len - 1], '\n');
      NpyArray back;
      ASSERT_TRUE(Parse(bytes, &back).ok()) << NpyDescr(dtype);
      EXPECT_EQ(back.dtype, dtype);
      EXPECT_EQ(back.shape, shape);
      EXPECT_EQ(back.data, array.data);
    }
  }
}

TEST(NpyTest, WriterSpellsHeaderLikeNumpy) {
  NpyArray array;
  array.dtype = NpyDType::kFloat32;
  array.shape = {5};
  array.data.resize(20);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(SerializeNpy(array, &bytes).ok());
  const std::string text(bytes.begin() + 10, bytes.end());
  // Python's tuple repr: a one-element tuple keeps its comma.
  EXPECT_EQ(text.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 0), 0u);
  array.shape = {2, 3};
  array.data.resize(24);
  ASSERT_TRUE(SerializeNpy(array, &bytes).ok());
  EXPECT_NE(std::string(bytes.begin(), bytes.end()).find("'shape': (2, 3), }"), std::string::npos);
}

TEST(NpyTest, WriterRejectsDataOfTheWrongSize) {
  NpyArray array;
  array.dtype = NpyDType::kFloat32;
  array.shape = {2, 2};
  array.data.resize(15);
  std::vector<uint8_t> bytes;
  const Status s = SerializeNpy(array, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("needs 16"), std::string::npos) << s.message();
}

const char* kGoodHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";

TEST(NpyTest, RejectsBadMagic) {
  std::vector<uint8_t> bytes = MakeFile(1, kGoodHeader, std::string(8, '\0'));
  bytes[1] = 'X';
  ExpectError(bytes, StatusCode::kDataLoss, "not a .npy file");
  ExpectError(Bytes("PK\x03\x04"), StatusCode::kDataLoss, "not a .npy file");
}

TEST(NpyTest, RejectsTruncatedPrefixHeaderAndData) {
  ExpectError(Bytes(std::string("\x93NUM", 4)), StatusCode::kDataLoss, "truncated");
  ExpectError(Bytes(std::string("\x93NUMPY\x01\x00", 8)), StatusCode::kDataLoss,
              "truncated inside the header length");
  std::vector<uint8_t> bytes = MakeFile(1, kGoodHeader, std::string(8, '\0'));
  std::vector<uint8_t> short_header(bytes.begin(), bytes.begin() + 40);
  ExpectError(short_header, StatusCode::kDataLoss, "header length is");
  std::vector<uint8_t> short_data(bytes.begin(), bytes.end() - 1);
  ExpectError(short_data, StatusCode::kDataLoss,
              "truncated: the header says shape [2] float32 = 8");
}

TEST(NpyTest, RejectsBytesAfterTheData) {
  ExpectError(MakeFile(1, kGoodHeader, std::string(9, '\0')), StatusCode::kDataLoss,
              "1 unexpected bytes after the data");
}

TEST(NpyTest, RejectsUnsupportedVersion) {
  std::vector<uint8_t> bytes = MakeFile(1, kGoodHeader, std::string(8, '\0'));
  bytes[6] = 4;
  ExpectError(bytes, StatusCode::kUnimplemented, "format version 4.0");
}

TEST(NpyTest, RejectsFortranOrder) {
  ExpectError(MakeFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                       std::string(16, '\0')),
              StatusCode::kUnimplemented, "Fortran-order");
}

TEST(NpyTest, RejectsUnsupportedDtypes) {
  ExpectError(MakeFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                       std::string(8, '\0')),
              StatusCode::kUnimplemented, "big-endian dtype '>f4'");
  ExpectError(MakeFile(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
                       std::string(16, '\0')),
              StatusCode::kUnimplemented, "dtype '<c8' is not supported");
  ExpectError(MakeFile(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                       std::string(16, '\0')),
              StatusCode::kUnimplemented, "dtype '|O' is not supported");
  ExpectError(MakeFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
                       std::string(8, '\0')),
              StatusCode::kUnimplemented, "structured");
}

TEST(NpyTest, RejectsMalformedHeaders) {
  const std::string data(8, '\0');
  ExpectError(MakeFile(1, "{'descr': '<f4', 'shape': (2,), }", data), StatusCode::kDataLoss,
              "missing key 'fortran_order'");
  ExpectError(MakeFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", data),
              StatusCode::kDataLoss, "unsupported value for key 'x'");
  ExpectError(
      MakeFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 'y'}", data),
      StatusCode::kDataLoss, "unexpected key 'x'");
  ExpectError(
      MakeFile(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", data),
      StatusCode::kDataLoss, "appears twice");
  ExpectError(MakeFile(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", data),
              StatusCode::kDataLoss, "unsupported value for key 'fortran_order'");
  ExpectError(MakeFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", data),
              StatusCode::kDataLoss, "negative extent");
  ExpectError(MakeFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", data),
              StatusCode::kDataLoss, "unsupported value for key 'shape'");
  ExpectError(MakeFile(1, "{'descr': 5, 'fortran_order': False, 'shape': (2,), }", data),
              StatusCode::kDataLoss, "unsupported value for key 'descr'");
  ExpectError(MakeFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,) ", data),
              StatusCode::kDataLoss, "expected ',' or '}' after the value of 'shape'");
  ExpectError(MakeFile(1, "{'descr': '<f4', 'fortran_order': False, 5: (2,)}", data),
              StatusCode::kDataLoss, "expected a quoted key or '}'");
  ExpectError(MakeFile(1, "{'descr': '<f4' 'fortran_order': False}", data), StatusCode::kDataLoss,
              "expected ',' or '}'");
  ExpectError(MakeFile(1, "['descr']", data), StatusCode::kDataLoss, "expected '{'");
  ExpectError(MakeFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", data),
              StatusCode::kDataLoss, "after the closing");
  ExpectError(MakeFile(1, "{'descr: '<f4'}", data), StatusCode::kDataLoss, "expected ':'");
}

TEST(NpyTest, RejectsShapesThatOverflow) {
  ExpectError(MakeFile(1,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, "
                       "4294967296), }",
                       ""),
              StatusCode::kDataLoss, "too many elements");
  ExpectError(MakeFile(1,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': "
                       "(99999999999999999999,), }",
                       ""),
              StatusCode::kDataLoss, "does not fit in 64 bits");
}

TEST(NpyTest, ReadsAndWritesFiles) {
  TempDir dir;
  NpyArray array;
  array.dtype = NpyDType::kInt32;
  array.shape = {3};
  array.data = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0};
  const std::string path = dir.path() + "/a.npy";
  ASSERT_TRUE(WriteNpy(path, array).ok());
  NpyArray back;
  ASSERT_TRUE(ReadNpy(path, &back).ok());
  EXPECT_EQ(back.data, array.data);
  NpyArray header;
  ASSERT_TRUE(ReadNpyHeader(path, &header).ok());
  EXPECT_EQ(header.shape, array.shape);
  EXPECT_TRUE(header.data.empty());

  // The file reader applies the same checks as the memory parser.
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(SerializeNpy(array, &bytes).ok());
  bytes.pop_back();
  WriteBytes(path, bytes);
  Status s = ReadNpy(path, &back);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.message();
  s = ReadNpyHeader(path, &back);  // the header alone is checked against the file size too
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);

  s = ReadNpy(dir.path() + "/missing.npy", &back);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("missing.npy"), std::string::npos);
  s = ReadNpy(dir.path(), &back);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("directory"), std::string::npos) << s.message();
  WriteBytes(path, {});
  s = ReadNpy(path, &back);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  s = WriteNpy(dir.path() + "/no/such/dir/a.npy", array);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
}

TEST(NpyTest, MapsQsdkTypes) {
  EXPECT_EQ(NpyDTypeForDataType(DataType::FLOAT32), NpyDType::kFloat32);
  EXPECT_EQ(NpyDTypeForDataType(DataType::QINT8), NpyDType::kInt8);
  EXPECT_EQ(NpyDTypeForDataType(DataType::QUINT8), NpyDType::kUInt8);
  EXPECT_EQ(NpyDTypeForDataType(DataType::INT32), NpyDType::kInt32);
  EXPECT_EQ(NpyDTypeForDataType(DataType::BFLOAT16), NpyDType::kInvalid);
  EXPECT_STREQ(NpyDescr(NpyDType::kUInt8), "|u1");
  EXPECT_STREQ(NpyDTypeName(NpyDType::kInt64), "int64");
  EXPECT_TRUE(NpyIsInteger(NpyDType::kUInt16));
  EXPECT_FALSE(NpyIsInteger(NpyDType::kBool));
  EXPECT_FALSE(NpyIsInteger(NpyDType::kFloat32));
}

}  // namespace
}  // namespace qsdk::tools
