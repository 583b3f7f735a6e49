// Memory planning for a context's activation arena: every intermediate buffer of a plan
// (tensor, reorder destination, scratchpad) gets an offset in ONE arena, so that two
// buffers share bytes only when their lifetimes do not overlap.
#pragma once

#include <cstddef>
#include <vector>

#include "qsdk/status.h"

namespace qsdk::runtime {

// Offsets and sizes are multiples of this (cache line, AVX-512 vector).
inline constexpr size_t kArenaAlignment = 64;

// One buffer to place: `size` bytes, live from step `first_use` to step `last_use`
// (both inclusive). A buffer of size 0 is placed at offset 0 and occupies nothing.
struct BufferLifetime {
  size_t size = 0;
  int first_use = 0;
  int last_use = 0;
};

struct MemoryPlan {
  // One offset per buffer, in request order; each a multiple of kArenaAlignment.
  std::vector<size_t> offsets;
  // Bytes the arena needs (a multiple of kArenaAlignment).
  size_t arena_bytes = 0;
  // The lower bound of any placement: the largest sum of the (aligned) sizes of buffers
  // live at one step. arena_bytes / peak_live_bytes measures the planner's waste.
  size_t peak_live_bytes = 0;
};

// Greedy-by-size placement (as in TFLite's arena planner): buffers are placed largest
// first; each goes into the smallest gap, among the buffers already placed whose
// lifetimes overlap its own, that fits it, or above the highest of them. Fails on an
// interval with first_use > last_use or a negative step, or when sizes overflow size_t.
Status PlanMemory(const std::vector<BufferLifetime>& buffers, MemoryPlan* plan);

// `size` rounded up to kArenaAlignment; false on overflow.
bool AlignArenaSize(size_t size, size_t* aligned);

}  // namespace qsdk::runtime
