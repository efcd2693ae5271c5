// The recycling memory policy: after the first evaluation, an evaluation
// takes its large blocks from the planned arena and maps none (so faults none
// of them in again), and the arena stays near the most in use at once.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "memory_policy.hpp"
#include "stylize/engine.hpp"

using namespace stylize;

TEST_CASE("recycled memory: later evaluations reuse the large blocks of earlier ones", "[engine]") {
    // Process-wide, as in the CLI; the other tests of this binary run under it too.
    REQUIRE(cli::install_memory_policy(cli::MemoryPolicy::Recycle));
    auto model = FeatureExtractor::load(fixtures::model());
    StylizeOptions o;
    o.size = 256;  // block 1's maps are 2 MB: "large" blocks
    o.iterations = 8;
    std::vector<MemoryStats> stats;
    Hooks hooks;
    hooks.before_evaluation = cli::before_evaluation;
    hooks.on_progress = [&](const Progress&) {
        stats.push_back(cli::memory_stats());
    };
    stylize::stylize(model, fixtures::content_image(192, 256), {{fixtures::style_image(192, 256), 1.0}}, o, hooks);
    REQUIRE(stats.size() == 8);
    const auto& last = stats.back();
    INFO("most in use " << last.peak_live_bytes << " bytes, arena " << last.arena_bytes << ", peak mapped "
                        << last.peak_mapped_bytes << ", maps " << last.maps << ", hits " << last.arena_hits
                        << ", misses " << last.arena_misses << ", plans " << last.plans);
    CHECK(last.peak_live_bytes > (size_t{8} << 20));
    // The first evaluation was recorded and planned; the next ones take
    // their large blocks from the arena: evaluations 4-8 map nothing new,
    // fall back for nothing and make no new plan.
    CHECK(last.arena_bytes > 0);
    CHECK(last.maps == stats[2].maps);
    CHECK(last.plans == stats[2].plans);
    CHECK(last.arena_misses == stats[2].arena_misses);
    CHECK(last.arena_hits > stats[2].arena_hits);
    // The arena is about the most in use at once, and nothing maps much beyond it.
    CHECK(last.arena_bytes <= last.planned_peak_live_bytes + last.planned_peak_live_bytes / 8);
    CHECK(last.peak_mapped_bytes <= last.peak_live_bytes + last.peak_live_bytes / 8 + (size_t{4} << 20));
}
