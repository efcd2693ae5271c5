#pragma once
// The shapes of a network's feature maps for one input size: the one walk
// through the layers that the memory estimate, the checkpointing plan, the
// size checks and the benchmark's cost model all use. Pools follow their own
// kernel and stride (no padding, rounding down, as ATen's pooling does) and
// convolutions their padding (stride 1), so a model that is not VGG19 gets
// its own numbers.
#include <cstdint>
#include <vector>

#include "stylize/model.hpp"

namespace stylize {

/// Shape of a layer's output (batch 1).
struct MapShape {
    int64_t channels = 3, height = 0, width = 0;
    double elements() const { return static_cast<double>(channels) * static_cast<double>(height) * static_cast<double>(width); }
};

/// Output shape of each of the first `depth` layers for a (1,3,height,width)
/// input; element i is layer i's output. A size too small for a pooling
/// layer gives a map of side 0 from there on (see minimum_input_side).
std::vector<MapShape> layer_shapes(const FeatureExtractor& model, size_t depth, int64_t height, int64_t width);

/// Smallest input side for which every layer of the first `depth` produces
/// a map of at least 1x1: 16 for VGG19 up to relu5_1 (four 2x2 pools).
int64_t minimum_input_side(const FeatureExtractor& model, size_t depth);

}  // namespace stylize
