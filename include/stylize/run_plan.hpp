#pragma once
// How a run fits in memory: the one decision of whether to checkpoint, tile
// or shrink, from the model, the input size, the options and a budget.
// Pure: no logging, no throwing for a run that does not fit (a refusal is a
// result, with what would fit); the CLI formats it. See
// docs/guides/tiles-and-memory.md.
#include <cstdint>
#include <functional>
#include <string>

#include "stylize/model.hpp"
#include "stylize/options.hpp"

namespace stylize {

/// auto | on | off, for --checkpoint and --tile.
enum class Switch { Auto, On, Off };

struct PlanRequest {
    int64_t content_height = 0, content_width = 0;  ///< the input image
    /// The run: size, losses, layers, tile_halo; options.tile > 0 asks for
    /// those tiles (with tiles == On). checkpoint is set by the plan.
    StylizeOptions options;
    Switch checkpoint = Switch::Auto;
    /// Auto: tile only a run that would not fit otherwise; On: the tile in
    /// options.tile; Off: never.
    Switch tiles = Switch::Auto;
    bool auto_shrink = false;  ///< lower the size rather than refuse
    double budget_bytes = 0;   ///< <= 0: unknown (no check)
    /// Bytes an allocator keeps idle beside a run that needs `need` bytes
    /// (none when null). Not added to checkpointed untiled runs, which keep
    /// no idle blocks.
    std::function<double(double need)> idle_overhead;
};

enum class PlanOutcome {
    Fits,          ///< as asked
    Checkpointed,  ///< checkpointing turned on to fit
    Tiled,         ///< exact tiles turned on to fit
    Shrunk,        ///< the size lowered to fit (auto_shrink)
    Refused,       ///< does not fit; see the refusal fields
};

enum class Refusal {
    None,
    TileTooLarge,  ///< the asked tiles do not fit; largest_tile does
    NoTileFits,    ///< not even the smallest tile fits; smallest_budget would
    TooLarge,      ///< the size does not fit; largest_size does (0: none)
};

struct RunPlan {
    PlanOutcome outcome = PlanOutcome::Fits;
    bool checkpoint = false;
    int tile = 0;  ///< tile side the run uses; 0 = untiled
    int size = 0;  ///< options.size as planned
    int64_t height = 0, width = 0;  ///< output size as first asked
    double need_bytes = 0;  ///< what the run as asked needs (idle overhead included)
    double planned_bytes = 0;  ///< what the planned run needs
    double budget_bytes = 0;
    bool checked = false;  ///< false: no budget known, or a CUDA device
    Refusal refusal = Refusal::None;
    int largest_tile = 0;         ///< TileTooLarge
    double smallest_budget = 0;   ///< NoTileFits: the smallest tile's need
    int smallest_tile = 0;        ///< NoTileFits
    int largest_size = 0;         ///< TooLarge (0: not even 16 px)
    std::string why_not_tiled;    ///< TooLarge with tiles auto: why tiles cannot help
};

/// Plans a run. Throws InvalidArgument only for tiles that cannot work at
/// all (check_tiling) and a halo without tiles.
RunPlan plan_run(const FeatureExtractor& model, const PlanRequest& request);

/// The options of the planned run: request.options with the plan's
/// checkpointing, tile and size.
StylizeOptions planned_options(const PlanRequest& request, const RunPlan& plan);

}  // namespace stylize
