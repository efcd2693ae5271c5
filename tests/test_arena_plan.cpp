// The arena planner: blocks alive at the same time never share bytes, the
// arena is the most in use at once where lifetimes allow it, and blocks
// that outlive the record are left to the fallback.
#include <catch2/catch.hpp>

#include <random>

#include "memory/arena_plan.hpp"

using stylize::ArenaPlan;
using stylize::BlockLife;
using stylize::plan_arena;
using stylize::plan_is_valid;

namespace {
constexpr size_t kMiB = size_t{1} << 20;
BlockLife life(size_t bytes, uint64_t from, uint64_t to) { return BlockLife{bytes, from, to}; }
}  // namespace

TEST_CASE("arena plan: blocks one after another share one place", "[unit]") {
    const std::vector<BlockLife> blocks = {life(4 * kMiB, 0, 1), life(2 * kMiB, 2, 3), life(4 * kMiB, 4, 5)};
    const auto plan = plan_arena(blocks, 4096);
    CHECK(plan.arena_bytes == 4 * kMiB);
    CHECK(plan.peak_live_bytes == 4 * kMiB);
    CHECK(plan.offsets == std::vector<size_t>{0, 0, 0});
    CHECK(plan_is_valid(blocks, plan));
}

TEST_CASE("arena plan: blocks alive together get disjoint places", "[unit]") {
    const std::vector<BlockLife> blocks = {life(3 * kMiB, 0, 10), life(2 * kMiB, 1, 9), life(kMiB + 1, 2, 8)};
    const auto plan = plan_arena(blocks, 4096);
    CHECK(plan.arena_bytes == 3 * kMiB + 2 * kMiB + kMiB + 4096);  // the odd size rounded to the alignment
    CHECK(plan.peak_live_bytes == plan.arena_bytes);
    CHECK(plan_is_valid(blocks, plan));
    for (const size_t off : plan.offsets) CHECK(off % 4096 == 0);
}

TEST_CASE("arena plan: a block freed before another is allocated lends it its place", "[unit]") {
    // Forward pass: a, b alive; a freed; c fits where a was.
    const std::vector<BlockLife> blocks = {life(4 * kMiB, 0, 3), life(4 * kMiB, 1, 6), life(3 * kMiB, 4, 5)};
    const auto plan = plan_arena(blocks, 4096);
    CHECK(plan.arena_bytes == 8 * kMiB);
    CHECK(plan.offsets[2] == plan.offsets[0]);
    CHECK(plan_is_valid(blocks, plan));
}

TEST_CASE("arena plan: blocks that outlive the record are not planned", "[unit]") {
    const std::vector<BlockLife> blocks = {life(8 * kMiB, 0, BlockLife::kNever), life(2 * kMiB, 1, 2)};
    const auto plan = plan_arena(blocks, 4096);
    CHECK(plan.offsets[0] == ArenaPlan::kUnplanned);
    CHECK(plan.offsets[1] == 0);
    CHECK(plan.arena_bytes == 2 * kMiB);
    const auto none = plan_arena({life(kMiB, 0, BlockLife::kNever)}, 4096);
    CHECK(none.arena_bytes == 0);
}

TEST_CASE("arena plan: random lifetimes give valid plans close to the most in use", "[unit]") {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 20; ++round) {
        // A network-like pattern: a forward pass allocates activations that
        // live until the backward pass frees them in reverse, with
        // short-lived temporaries in between.
        std::vector<BlockLife> blocks;
        uint64_t t = 0;
        std::vector<size_t> stack;
        const int layers = 10 + static_cast<int>(rng() % 30);
        for (int l = 0; l < layers; ++l) {
            const size_t bytes = (1 + rng() % 64) * kMiB;
            stack.push_back(blocks.size());
            blocks.push_back(life(bytes, t++, BlockLife::kNever));
            blocks.push_back(life((1 + rng() % 16) * kMiB, t, t + 1 + rng() % 3));
            t += 4;
        }
        while (!stack.empty()) {
            blocks[stack.back()].freed_at = t++;
            stack.pop_back();
            blocks.push_back(life((1 + rng() % 32) * kMiB, t, t + 2));
            t += 3;
        }
        const auto plan = plan_arena(blocks, 4096);
        INFO("round " << round << ": arena " << plan.arena_bytes / kMiB << " MiB, most in use "
                      << plan.peak_live_bytes / kMiB << " MiB");
        REQUIRE(plan_is_valid(blocks, plan));
        CHECK(plan.arena_bytes >= plan.peak_live_bytes);
        CHECK(plan.arena_bytes <= plan.peak_live_bytes + plan.peak_live_bytes / 4);
    }
}
