// The recycling memory policy: after the first evaluations, an evaluation
// maps no new large block (so faults none of them in again), and idle blocks
// stay within the budget.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "memory_policy.hpp"
#include "stylize/engine.hpp"

using namespace stylize;

TEST_CASE("recycled memory: later evaluations reuse the large blocks of earlier ones", "[engine]") {
#if defined(__SANITIZE_ADDRESS__)
    WARN("AddressSanitizer build: the recycling policy is off (the sanitizer checks every tensor)");
    return;
#endif
    // Process-wide, as in the CLI; the other tests of this binary run under it too.
    REQUIRE(cli::install_memory_policy(cli::MemoryPolicy::Recycle));
    auto model = FeatureExtractor::load(fixtures::model());
    StylizeOptions o;
    o.size = 256;  // block 1's maps are 2 MB: "large" blocks
    o.iterations = 8;
    std::vector<cli::MemoryStats> stats;
    Hooks hooks;
    hooks.before_evaluation = cli::before_evaluation;
    hooks.on_progress = [&](const Progress&) {
        stats.push_back(cli::memory_stats());
    };
    stylize::stylize(model, fixtures::content_image(192, 256), {{fixtures::style_image(192, 256), 1.0}}, o, hooks);
    REQUIRE(stats.size() == 8);
    const auto& last = stats.back();
    INFO("peak in use " << last.peak_live_bytes << " bytes, maps " << last.maps << ", reuses " << last.reuses);
    CHECK(last.peak_live_bytes > (size_t{8} << 20));
    // Steady state: evaluations 4-8 map nothing new and reuse every large block.
    CHECK(last.maps == stats[2].maps);
    CHECK(last.reuses > stats[2].reuses);
    // Idle blocks stay within the budget: an eighth above the most in use.
    CHECK(last.mapped_bytes <= last.peak_live_bytes + last.peak_live_bytes / 8 + (size_t{4} << 20));
}
