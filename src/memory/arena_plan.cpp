#include "memory/arena_plan.hpp"

#include <algorithm>
#include <numeric>

namespace stylize {
namespace {

bool lifetimes_overlap(const BlockLife& a, const BlockLife& b) {
    return a.allocated_at < b.freed_at && b.allocated_at < a.freed_at;
}

size_t aligned_up(size_t n, size_t alignment) { return (n + alignment - 1) & ~(alignment - 1); }

}  // namespace

ArenaPlan plan_arena(const std::vector<BlockLife>& blocks, size_t alignment) {
    ArenaPlan plan;
    plan.offsets.assign(blocks.size(), ArenaPlan::kUnplanned);
    std::vector<size_t> order;
    for (size_t i = 0; i < blocks.size(); ++i)
        if (blocks[i].freed_at != BlockLife::kNever && blocks[i].bytes > 0) order.push_back(i);
    // Largest first; among equals, the earlier allocation first (a fixed order).
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return blocks[a].bytes > blocks[b].bytes; });

    std::vector<size_t> placed;  // indices, in order of placement
    std::vector<std::pair<size_t, size_t>> taken;  // [offset, end) of the placed blocks alive with this one
    for (const size_t i : order) {
        const size_t bytes = aligned_up(blocks[i].bytes, alignment);
        taken.clear();
        for (const size_t j : placed)
            if (lifetimes_overlap(blocks[i], blocks[j]))
                taken.emplace_back(plan.offsets[j], plan.offsets[j] + aligned_up(blocks[j].bytes, alignment));
        std::sort(taken.begin(), taken.end());
        // The lowest gap that holds it.
        size_t offset = 0;
        for (const auto& [start, end] : taken) {
            if (start >= offset + bytes) break;
            offset = std::max(offset, end);
        }
        plan.offsets[i] = offset;
        plan.arena_bytes = std::max(plan.arena_bytes, offset + bytes);
        placed.push_back(i);
    }

    // The lower bound: the most planned bytes alive at once.
    std::vector<std::pair<uint64_t, int64_t>> events;
    for (const size_t i : order) {
        const auto bytes = static_cast<int64_t>(aligned_up(blocks[i].bytes, alignment));
        events.emplace_back(blocks[i].allocated_at, bytes);
        events.emplace_back(blocks[i].freed_at, -bytes);
    }
    std::sort(events.begin(), events.end());  // a free before an allocation at the same moment
    int64_t live = 0;
    for (const auto& [when, delta] : events) {
        live += delta;
        plan.peak_live_bytes = std::max(plan.peak_live_bytes, static_cast<size_t>(std::max<int64_t>(live, 0)));
    }
    return plan;
}

bool plan_is_valid(const std::vector<BlockLife>& blocks, const ArenaPlan& plan) {
    if (plan.offsets.size() != blocks.size()) return false;
    for (size_t i = 0; i < blocks.size(); ++i) {
        if (plan.offsets[i] == ArenaPlan::kUnplanned) continue;
        if (plan.offsets[i] + blocks[i].bytes > plan.arena_bytes) return false;
        for (size_t j = i + 1; j < blocks.size(); ++j) {
            if (plan.offsets[j] == ArenaPlan::kUnplanned || !lifetimes_overlap(blocks[i], blocks[j])) continue;
            const bool apart = plan.offsets[i] + blocks[i].bytes <= plan.offsets[j] ||
                               plan.offsets[j] + blocks[j].bytes <= plan.offsets[i];
            if (!apart) return false;
        }
    }
    return true;
}

}  // namespace stylize
