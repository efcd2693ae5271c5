// The memory plan's decision table: fits, checkpoint, tiles, shrink, or a
// refusal that says what would fit. Budgets are placed between the
// estimates of the candidate runs, so each row picks one outcome.
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "stylize/engine.hpp"
#include "stylize/errors.hpp"
#include "stylize/memory_estimate.hpp"
#include "stylize/run_plan.hpp"
#include "stylize/tiling.hpp"

using namespace stylize;

namespace {

struct Setup {
    FeatureExtractor model = FeatureExtractor::load(fixtures::model());
    PlanRequest request;
    Setup() {
        request.content_height = 300;
        request.content_width = 400;
        request.options.size = 400;
        request.idle_overhead = [](double need) { return need / 8; };  // like the recycling allocator's
    }
    double need(bool checkpoint, int tile = 0, int size = 400) const {
        StylizeOptions o = request.options;
        o.checkpoint = checkpoint;
        o.tile = tile;
        const auto [h, w] = output_size(300, 400, size);
        const double n = estimate_memory_bytes(model, h, w, o);
        return n + (!checkpoint || tile > 0 ? n / 8 : 0);
    }
    RunPlan plan(double budget) {
        request.budget_bytes = budget;
        return plan_run(model, request);
    }
};

}  // namespace

TEST_CASE("run plan: a run that fits runs as asked", "[unit]") {
    Setup s;
    const auto p = s.plan(s.need(false) * 1.01);
    CHECK(p.outcome == PlanOutcome::Fits);
    CHECK_FALSE(p.checkpoint);
    CHECK(p.tile == 0);
    CHECK(p.size == 400);
    CHECK(p.need_bytes == Approx(s.need(false)));
    CHECK(p.checked);
    // No budget known: no check.
    const auto unknown = s.plan(0);
    CHECK(unknown.outcome == PlanOutcome::Fits);
    CHECK_FALSE(unknown.checked);
}

TEST_CASE("run plan: checkpointing first, then tiles, then a refusal with the largest size", "[unit]") {
    Setup s;
    const double plain = s.need(false), ckpt = s.need(true);
    REQUIRE(ckpt < plain);
    auto p = s.plan((plain + ckpt) / 2);
    CHECK(p.outcome == PlanOutcome::Checkpointed);
    CHECK(p.checkpoint);
    CHECK(p.planned_bytes == Approx(ckpt));
    CHECK(planned_options(s.request, p).checkpoint);

    // Below the checkpointed need: the largest tile that fits.
    const auto g = tile_geometry(s.model, run_depth(s.model, s.request.options));
    s.request.options.tile_halo = 16;  // a small halo, so that some tile is smaller than the image
    const double budget = ckpt * 0.9;
    p = s.plan(budget);
    REQUIRE(p.outcome == PlanOutcome::Tiled);
    CHECK(p.tile % g.alignment == 0);
    CHECK_FALSE(p.checkpoint);
    CHECK(s.need(false, p.tile) <= budget);
    CHECK(p.planned_bytes <= budget);
    if (p.tile + g.alignment < 400) CHECK(s.need(false, static_cast<int>(p.tile + g.alignment)) > budget);

    // Tiles off, too little: refused with the largest size that fits, which does.
    s.request.tiles = Switch::Off;
    s.request.options.tile_halo = -1;
    p = s.plan(ckpt * 0.5);
    REQUIRE(p.outcome == PlanOutcome::Refused);
    CHECK(p.refusal == Refusal::TooLarge);
    REQUIRE(p.largest_size >= 16);
    CHECK(s.need(true, 0, p.largest_size) <= ckpt * 0.5);
    CHECK(s.need(true, 0, p.largest_size + 1) > ckpt * 0.5);
    // With --auto-shrink it runs at that size, checkpointed.
    s.request.auto_shrink = true;
    const auto shrunk = s.plan(ckpt * 0.5);
    CHECK(shrunk.outcome == PlanOutcome::Shrunk);
    CHECK(shrunk.size == p.largest_size);
    CHECK(shrunk.checkpoint);
    // Nothing fits at all: refused, largest size 0.
    s.request.auto_shrink = false;
    CHECK(s.plan(1).largest_size == 0);
}

TEST_CASE("run plan: asked tiles name the largest tile, or the smallest budget", "[unit]") {
    Setup s;
    s.request.tiles = Switch::On;
    s.request.options.tile = 256;
    s.request.options.tile_halo = 16;
    s.request.checkpoint = Switch::Off;
    const auto fits = s.plan(1e12);
    REQUIRE(fits.outcome == PlanOutcome::Fits);
    REQUIRE(fits.tile > 0);
    const double at_tile = fits.need_bytes;
    auto p = s.plan(at_tile * 0.97);
    REQUIRE(p.outcome == PlanOutcome::Refused);
    REQUIRE(p.refusal == Refusal::TileTooLarge);
    CHECK(p.largest_tile > 0);
    CHECK(p.largest_tile < fits.tile);
    CHECK(s.need(false, p.largest_tile) <= at_tile * 0.97);
    p = s.plan(1);
    REQUIRE(p.refusal == Refusal::NoTileFits);
    CHECK(p.smallest_tile > 0);
    CHECK(p.smallest_budget == Approx(s.need(false, p.smallest_tile)));
    // The smallest budget it names is enough for that tile.
    s.request.options.tile = p.smallest_tile;
    CHECK(s.plan(p.smallest_budget * 1.001).outcome != PlanOutcome::Refused);
}

TEST_CASE("run plan: a shrunk size passes the check it was shrunk for (tiles and checkpointing on)", "[unit]") {
    Setup s;
    s.request.tiles = Switch::On;
    s.request.options.tile = 128;
    s.request.options.tile_halo = 16;
    s.request.checkpoint = Switch::On;
    s.request.auto_shrink = true;
    const double budget = s.plan(1e12).need_bytes * 0.6;
    const auto p = s.plan(budget);
    REQUIRE(p.outcome == PlanOutcome::Shrunk);
    CHECK(p.planned_bytes <= budget);
    // Planning the shrunk run again: it fits as it is.
    s.request.options.size = p.size;
    s.request.auto_shrink = false;
    CHECK(s.plan(budget).outcome == PlanOutcome::Fits);
}

TEST_CASE("run plan: tiles that cannot help are named; bad tile options are refused", "[unit]") {
    Setup s;
    s.request.options.style_loss = StyleLossKind::SlicedWasserstein;
    s.request.checkpoint = Switch::Off;
    const auto p = s.plan(s.need(false) * 0.5);
    REQUIRE(p.outcome == PlanOutcome::Refused);
    CHECK(p.refusal == Refusal::TooLarge);
    CHECK_FALSE(p.why_not_tiled.empty());
    // A halo without tiles, and tiles a sliced-Wasserstein run cannot use.
    s.request.tiles = Switch::Off;
    s.request.options.tile_halo = 16;
    CHECK_THROWS_AS(s.plan(1e12), InvalidArgument);
    s.request.tiles = Switch::On;
    s.request.options.tile = 128;
    CHECK_THROWS_AS(s.plan(1e12), InvalidArgument);
}
