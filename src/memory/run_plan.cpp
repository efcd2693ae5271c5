#include "stylize/run_plan.hpp"

#include <algorithm>
#include <tuple>

#include "stylize/engine.hpp"
#include "stylize/errors.hpp"
#include "stylize/memory_estimate.hpp"
#include "stylize/tiling.hpp"

namespace stylize {
namespace {

// What a run of `o` at (h, w) needs, with the allocator's idle blocks
// (none for a checkpointed untiled run). The one rule every check uses.
double need_of(const FeatureExtractor& model, int64_t h, int64_t w, const StylizeOptions& o, const PlanRequest& r) {
    const double n = estimate_memory_bytes(model, h, w, o);
    const bool tiled = o.tile > 0;
    return n + (r.idle_overhead && (!o.checkpoint || tiled) ? r.idle_overhead(n) : 0.0);
}

// The smallest tile the layers and the halo allow.
int smallest_tile(const FeatureExtractor& model, const StylizeOptions& o) {
    const auto g = tile_geometry(model, run_depth(model, o));
    return static_cast<int>(
        std::max(g.alignment, (effective_halo(model, o) + g.alignment - 1) / g.alignment * g.alignment));
}

// The largest tile (a multiple of the alignment, no smaller than the halo,
// smaller than the image's long side) whose run fits; 0 when none does.
// `least` gets what the smallest tile needs.
int largest_fitting_tile(const FeatureExtractor& model, int64_t h, int64_t w, StylizeOptions o,
                         const PlanRequest& r, double* least) {
    const auto g = tile_geometry(model, run_depth(model, o));
    o.checkpoint = false;
    const int64_t lowest = smallest_tile(model, o);
    const int64_t highest = (std::max(h, w) - 1) / g.alignment * g.alignment;
    o.tile = static_cast<int>(lowest);
    const double smallest_need = need_of(model, h, w, o, r);
    if (least) *least = smallest_need;
    if (smallest_need > r.budget_bytes || highest < lowest) return 0;
    int64_t lo = lowest / g.alignment, hi = highest / g.alignment;  // in units of the alignment
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo + 1) / 2;
        o.tile = static_cast<int>(mid * g.alignment);
        if (need_of(model, h, w, o, r) <= r.budget_bytes) lo = mid;
        else hi = mid - 1;
    }
    return static_cast<int>(lo * g.alignment);
}

// The largest long side in [16, size] whose run of `o` fits; 0 if none.
int largest_fitting_size(const FeatureExtractor& model, const PlanRequest& r, const StylizeOptions& o) {
    int hi = o.size > 0 ? o.size : static_cast<int>(std::max(r.content_height, r.content_width)), lo = 16;
    auto fits = [&](int size) {
        const auto [h, w] = output_size(r.content_height, r.content_width, size);
        return need_of(model, h, w, o, r) <= r.budget_bytes;
    };
    if (!fits(lo)) return 0;
    while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (fits(mid)) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

}  // namespace

RunPlan plan_run(const FeatureExtractor& model, const PlanRequest& r) {
    StylizeOptions o = r.options;
    o.checkpoint = r.checkpoint == Switch::On;
    if (r.tiles != Switch::On) o.tile = 0;
    if (o.tile > 0) check_tiling(model, o);
    else if (o.tile_halo >= 0 && r.tiles == Switch::Off)
        throw InvalidArgument("--tile-halo needs tiles: give --tile N or --tile auto");
    RunPlan p;
    std::tie(p.height, p.width) = output_size(r.content_height, r.content_width, o.size);
    const int64_t h = p.height, w = p.width;
    // What runs is recorded: a tile no smaller than the output is no tile.
    if (o.tile > 0) o.tile = is_tiled(model, o, h, w) ? static_cast<int>(effective_tile(model, o)) : 0;
    const bool tiled = o.tile > 0;
    p.checkpoint = o.checkpoint;
    p.tile = o.tile;
    p.size = o.size;
    p.budget_bytes = r.budget_bytes;
    if (model.config().device.is_cuda()) return p;  // an out-of-memory error is caught during the run instead
    p.need_bytes = p.planned_bytes = need_of(model, h, w, o, r);
    p.checked = r.budget_bytes > 0;
    if (!p.checked || p.need_bytes <= r.budget_bytes) return p;

    p.outcome = PlanOutcome::Refused;
    if (tiled && !r.auto_shrink) {  // tiles the user chose: which tile would fit, or what budget would
        double least = 0;
        p.largest_tile = largest_fitting_tile(model, h, w, o, r, &least);
        p.refusal = p.largest_tile > 0 ? Refusal::TileTooLarge : Refusal::NoTileFits;
        p.smallest_budget = least;
        p.smallest_tile = smallest_tile(model, o);
        return p;
    }
    if (r.checkpoint == Switch::Auto && !tiled) {
        StylizeOptions with = o;
        with.checkpoint = true;
        const double need = need_of(model, h, w, with, r);
        if (need <= r.budget_bytes) {
            p.outcome = PlanOutcome::Checkpointed;
            p.checkpoint = true;
            p.planned_bytes = need;
            return p;
        }
    }
    if (r.tiles == Switch::Auto && !tiled && why_not_tileable(o).empty()) {
        if (const int fit = largest_fitting_tile(model, h, w, o, r, nullptr); fit > 0) {
            StylizeOptions with = o;
            with.tile = fit;
            with.checkpoint = false;
            p.outcome = PlanOutcome::Tiled;
            p.tile = fit;
            p.checkpoint = false;
            p.planned_bytes = need_of(model, h, w, with, r);
            return p;
        }
    }
    if (r.checkpoint == Switch::Auto && !tiled) o.checkpoint = true;  // shrink with the smaller footprint
    p.largest_size = largest_fitting_size(model, r, o);
    if (r.auto_shrink && p.largest_size >= 16) {
        p.outcome = PlanOutcome::Shrunk;
        p.size = p.largest_size;
        p.checkpoint = o.checkpoint;
        const auto [sh, sw] = output_size(r.content_height, r.content_width, p.size);
        p.planned_bytes = need_of(model, sh, sw, o, r);
        return p;
    }
    p.refusal = Refusal::TooLarge;
    p.planned_bytes = need_of(model, h, w, o, r);  // with checkpointing where auto turned it on
    if (r.tiles == Switch::Auto) p.why_not_tiled = why_not_tileable(o);
    return p;
}

StylizeOptions planned_options(const PlanRequest& request, const RunPlan& plan) {
    StylizeOptions o = request.options;
    o.checkpoint = plan.checkpoint;
    o.tile = plan.tile;
    o.size = plan.size;
    return o;
}

}  // namespace stylize
