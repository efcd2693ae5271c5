#pragma once
// What the recycling allocator (src/memory/recycling_allocator.hpp) reports about
// the large blocks of memory it holds.
#include <cstddef>

namespace stylize {

struct MemoryStats {
    size_t mapped_bytes = 0;    ///< large blocks mapped now (in use + idle + arena)
    size_t idle_bytes = 0;      ///< of which idle fallback blocks, kept for reuse
    size_t peak_mapped_bytes = 0;
    size_t peak_live_bytes = 0;  ///< most large-block bytes requested and in use at once
    size_t reuses = 0, maps = 0, unmaps = 0;  ///< fallback requests served from the cache; mappings made; unmapped
    size_t arena_bytes = 0;      ///< the current plan's arena (0: none mapped)
    size_t planned_peak_live_bytes = 0;  ///< the most bytes in use at once in the recorded evaluation
    size_t arena_hits = 0, arena_misses = 0;  ///< requests served at their planned place / that fell back unplanned
    size_t plans = 0;            ///< plans made
};

}  // namespace stylize
