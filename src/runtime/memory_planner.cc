#include "runtime/memory_planner.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "common/status_macros.h"

namespace qsdk::runtime {

bool AlignArenaSize(size_t size, size_t* aligned) {
  if (size > std::numeric_limits<size_t>::max() - (kArenaAlignment - 1)) return false;
  *aligned = (size + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  return true;
}

Status PlanMemory(const std::vector<BufferLifetime>& buffers, MemoryPlan* plan) {
  const size_t n = buffers.size();
  std::vector<size_t> sizes(n);
  for (size_t i = 0; i < n; ++i) {
    const BufferLifetime& b = buffers[i];
    if (b.first_use < 0 || b.first_use > b.last_use) {
      return InternalError("memory planner: buffer ", i, " has lifetime [", b.first_use, ", ",
                           b.last_use, "]; it must satisfy 0 <= first_use <= last_use");
    }
    if (!AlignArenaSize(b.size, &sizes[i])) {
      return Status(StatusCode::kResourceExhausted,
                    StrCat("memory planner: buffer ", i, " of ", b.size,
                           " bytes cannot be aligned to ", kArenaAlignment, " bytes"));
    }
  }

  // Largest first; ties by earlier first use, then by request order (deterministic).
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (sizes[a] != sizes[b]) return sizes[a] > sizes[b];
    return buffers[a].first_use < buffers[b].first_use;
  });

  plan->offsets.assign(n, 0);
  plan->arena_bytes = 0;
  // Live bytes per step: +size at first use, -size after last use (a sweep).
  int last_step = 0;
  for (size_t i = 0; i < n; ++i) last_step = std::max(last_step, buffers[i].last_use);
  std::vector<size_t> starting(static_cast<size_t>(last_step) + 2, 0);
  std::vector<size_t> ending(static_cast<size_t>(last_step) + 2, 0);
  for (size_t i = 0; i < n; ++i) {
    starting[static_cast<size_t>(buffers[i].first_use)] += sizes[i];
    ending[static_cast<size_t>(buffers[i].last_use) + 1] += sizes[i];
  }
  size_t live = 0;
  plan->peak_live_bytes = 0;
  for (size_t step = 0; step < starting.size(); ++step) {
    live = live - ending[step] + starting[step];
    plan->peak_live_bytes = std::max(plan->peak_live_bytes, live);
  }
  std::vector<size_t> placed;  // indices already placed
  placed.reserve(n);
  std::vector<size_t> overlapping;
  for (size_t index : order) {
    if (sizes[index] == 0) continue;
    const BufferLifetime& b = buffers[index];
    overlapping.clear();
    for (size_t other : placed) {
      const BufferLifetime& o = buffers[other];
      if (o.first_use <= b.last_use && b.first_use <= o.last_use) overlapping.push_back(other);
    }
    std::sort(overlapping.begin(), overlapping.end(),
              [&](size_t a, size_t c) { return plan->offsets[a] < plan->offsets[c]; });
    // Scan the gaps between the overlapping buffers (sorted by offset); keep the smallest
    // gap that fits. `cursor` is the end of the memory used so far in the scan.
    size_t cursor = 0;
    size_t best_offset = std::numeric_limits<size_t>::max();
    size_t best_gap = std::numeric_limits<size_t>::max();
    for (size_t other : overlapping) {
      const size_t start = plan->offsets[other];
      if (start > cursor) {
        const size_t gap = start - cursor;
        if (gap >= sizes[index] && gap < best_gap) {
          best_gap = gap;
          best_offset = cursor;
        }
      }
      cursor = std::max(cursor, start + sizes[other]);
    }
    if (best_offset == std::numeric_limits<size_t>::max()) best_offset = cursor;
    if (best_offset > std::numeric_limits<size_t>::max() - sizes[index]) {
      return Status(StatusCode::kResourceExhausted,
                    "memory planner: the arena size overflows size_t");
    }
    plan->offsets[index] = best_offset;
    plan->arena_bytes = std::max(plan->arena_bytes, best_offset + sizes[index]);
    placed.push_back(index);
  }
  return Status::Ok();
}

}  // namespace qsdk::runtime
