#pragma once
// How an evaluation splits the network into segments for activation
// checkpointing, and what each choice keeps in memory. Internal to the engine.
#include <cstdint>
#include <vector>

#include "stylize/model.hpp"

namespace stylize {

struct SegmentPlan {
    /// First layer of each segment; the last segment ends at the depth. One
    /// segment = no checkpointing.
    std::vector<size_t> starts;
    /// Estimated bytes of activations held for the backward pass at the peak:
    /// the segments' inputs plus the largest segment's saved activations.
    double saved_bytes = 0;
};

/// Bytes each pooling block of the first `depth` layers saves for the backward
/// pass at an input of height x width: relu outputs (which are also the next
/// layer's saved input), the inputs of convs and pools not after a relu, and
/// max-pool int64 indices (`act_bytes` per activation element). Checked
/// against measured peak RSS at 512 and 2048 px in docs/BENCHMARKS.md.
/// With `block_inputs`, also the bytes of each block's input (0 for the
/// first, whose input is the caller's image).
std::vector<double> block_saved_bytes(const FeatureExtractor& model, size_t depth, int64_t height, int64_t width,
                                      double act_bytes, std::vector<double>* block_inputs = nullptr);

/// The plan for a run. With checkpointing, the leading pooling blocks are
/// recomputed one at a time and the rest runs as one segment, taking the
/// fewest leading blocks for which that tail saves no more than the largest
/// recomputed block: the early, high-resolution blocks hold most of the
/// memory but cost the least to recompute, so checkpointing the deep blocks
/// too would add time without lowering the peak.
SegmentPlan plan_segments(const FeatureExtractor& model, size_t depth, int64_t height, int64_t width,
                          double act_bytes, bool checkpoint);

}  // namespace stylize
