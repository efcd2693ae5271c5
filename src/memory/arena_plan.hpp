#pragma once
// Static memory planning for a repeating pattern of allocations.
//
// Every evaluation of a run allocates and frees the same large tensors in the
// same order. Given one evaluation's record (each block's size and the
// moments it was allocated and freed), plan_arena places every block that
// lived and died within it at an offset of one arena so that blocks alive at
// the same time never overlap: the arena is then about as large as the most
// bytes in use at once, and later evaluations take their blocks from it
// without asking the kernel for memory (docs/BENCHMARKS.md).
//
// Greedy by size (largest first, lowest offset that fits among the blocks
// already placed whose lifetimes overlap), as TensorFlow Lite's arena
// planner does; no process state, so it is tested on its own.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace stylize {

struct BlockLife {
    size_t bytes = 0;
    uint64_t allocated_at = 0;  ///< event clock at the allocation
    uint64_t freed_at = kNever; ///< event clock at the free; kNever: outlived the record
    static constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
};

struct ArenaPlan {
    static constexpr size_t kUnplanned = std::numeric_limits<size_t>::max();
    std::vector<size_t> offsets;  ///< per block: its offset, or kUnplanned (outlived the record)
    size_t arena_bytes = 0;       ///< the arena's size
    size_t peak_live_bytes = 0;   ///< the most planned bytes alive at once (the lower bound)
};

/// Places the blocks that were freed within the record; offsets are
/// multiples of `alignment` (a power of two).
ArenaPlan plan_arena(const std::vector<BlockLife>& blocks, size_t alignment);

/// True if no two planned blocks alive at the same time overlap in the arena
/// and every one lies within it (for tests and debug checks).
bool plan_is_valid(const std::vector<BlockLife>& blocks, const ArenaPlan& plan);

}  // namespace stylize
