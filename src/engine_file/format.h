// Byte layout constants of the engine file (docs/engine_format.md is the normative
// description) and Inspect, which reports where everything lives in a file. Internal to
// qsdk: tools and tests use it; the public API does not expose it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine_file/engine_file.h"
#include "qsdk/status.h"

namespace qsdk::engine_file {

// "QSDKENG\0".
inline constexpr char kMagic[8] = {'Q', 'S', 'D', 'K', 'E', 'N', 'G', '\0'};

// Header fields (all little-endian), by byte offset.
inline constexpr size_t kOffMagic = 0;                // char[8]
inline constexpr size_t kOffFormatVersion = 8;        // uint32
inline constexpr size_t kOffHeaderSize = 12;          // uint32
inline constexpr size_t kOffFileSize = 16;            // uint64
inline constexpr size_t kOffSectionTableOffset = 24;  // uint64
inline constexpr size_t kOffSectionCount = 32;        // uint32
inline constexpr size_t kOffFlags = 36;               // uint32
inline constexpr size_t kOffQsdkVersion = 40;         // char[32]
inline constexpr size_t kOffOnednnMajor = 72;         // uint32
inline constexpr size_t kOffOnednnMinor = 76;         // uint32
inline constexpr size_t kOffOnednnPatch = 80;         // uint32
inline constexpr size_t kOffReserved = 84;            // uint32, zero
inline constexpr size_t kOffRequiredIsa = 88;         // char[32]
inline constexpr size_t kOffHeaderHash = 120;         // uint64
inline constexpr size_t kHeaderSize = 128;

// Fixed-size NUL-padded string fields: at most kFixedStringSize - 1 characters.
inline constexpr size_t kFixedStringSize = 32;

// Section table entry fields, by byte offset within the entry.
inline constexpr size_t kOffEntryKind = 0;       // uint32 (SectionKind)
inline constexpr size_t kOffEntryAlignment = 4;  // uint32
inline constexpr size_t kOffEntryOffset = 8;     // uint64, from the start of the file
inline constexpr size_t kOffEntrySize = 16;      // uint64
inline constexpr size_t kOffEntryHash = 24;      // uint64, xxHash64 of the section bytes
inline constexpr size_t kSectionEntrySize = 32;

// Seed of every xxHash64 in the file.
inline constexpr uint64_t kHashSeed = 0;

enum class SectionKind : uint32_t {
  kMetadata = 1,  // the graph structure and EngineMetadata strings; always entry 0
  kWeights = 2,   // constant tensor data, each constant 64-byte aligned
};

// Alignment the writer uses for each kind; the reader accepts any power of two in
// [kMinSectionAlignment, kMaxSectionAlignment], and at least kWeightAlignment for
// weights.
inline constexpr uint32_t kMetadataAlignment = 8;
inline constexpr uint32_t kWeightAlignment = 64;
inline constexpr uint32_t kMinSectionAlignment = 8;
inline constexpr uint32_t kMaxSectionAlignment = 4096;

// Bounds that keep a hostile file from asking for absurd work before its bytes run out.
inline constexpr uint32_t kMaxSections = 1024;
inline constexpr uint32_t kMaxRank = 32;
inline constexpr uint32_t kMaxStringBytes = 16u << 20;  // any string in the metadata

// Tags of attribute values in the metadata (the index of the graph::AttrValue variant).
enum class AttrKind : uint8_t {
  kInt = 0,
  kFloat = 1,
  kString = 2,
  kInts = 3,
  kFloats = 4,
};

struct SectionInfo {
  SectionKind kind = SectionKind::kMetadata;
  uint32_t alignment = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t hash = 0;
};

// Where the data of one constant tensor lives.
struct ConstantInfo {
  int32_t tensor = -1;   // tensor id
  std::string name;      // tensor name
  uint32_t section = 0;  // index into FileInfo::sections (a weights section)
  uint64_t offset = 0;   // relative to the section start
  uint64_t size = 0;     // bytes
};

struct FileInfo {
  uint32_t format_version = 0;
  uint64_t file_size = 0;
  uint32_t flags = 0;
  EngineMetadata meta;
  std::vector<SectionInfo> sections;
  std::vector<ConstantInfo> constants;
  size_t tensor_count = 0;
  size_t node_count = 0;
};

// Runs every structural check Read runs (header, version, table, padding, hashes, the
// metadata decoding with its bounds, enums and ids) without allocating constant data or
// validating the graph, and describes the layout. Same status codes as Read.
Status Inspect(const uint8_t* data, size_t size, FileInfo* info);

}  // namespace qsdk::engine_file
