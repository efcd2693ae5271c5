#pragma once
// Exact tiled evaluation (docs/guides/tiles-and-memory.md): the loss and
// gradient of the whole image computed tile by tile, so that an image far
// larger than memory allows can be stylized. What the layers allow for a
// tile, and the checks the CLI and the engine share.
#include <cstdint>

#include "stylize/model.hpp"
#include "stylize/options.hpp"

namespace stylize {

/// What the first `depth` layers of a model ask of tiles.
struct TileGeometry {
    /// Tile origins and sides are multiples of this, so that every pooling
    /// window of a tile is one of the whole image's: the product of the
    /// pools' strides (16 for VGG19 up to relu5_1).
    int64_t alignment = 1;
    /// The halo that makes tiling exact: how far the zero padding at a
    /// tile's edge reaches into the deepest layer's features, in input
    /// pixels (85 for VGG19 up to relu5_1), rounded up to the alignment.
    int64_t exact_halo = 0;
};

TileGeometry tile_geometry(const FeatureExtractor& model, size_t depth);

/// The layers a run of `options` uses: how deep it runs.
size_t run_depth(const FeatureExtractor& model, const StylizeOptions& options);

/// The halo a run uses: options.tile_halo, or the exact one when it is < 0.
int64_t effective_halo(const FeatureExtractor& model, const StylizeOptions& options);

/// The tile side a run uses: options.tile rounded down to the alignment.
int64_t effective_tile(const FeatureExtractor& model, const StylizeOptions& options);

/// Whether a run of `options` evaluates an image of height x width in tiles:
/// tiling is on and the image is larger than one tile.
bool is_tiled(const FeatureExtractor& model, const StylizeOptions& options, int64_t height, int64_t width);

/// Whether the run's losses can be tiled at all: sums over pixels (the Gram
/// and mean-covariance style losses, the content loss), without
/// --normalize-gradients. Empty when they can; otherwise why not.
std::string why_not_tileable(const StylizeOptions& options);

/// Throws InvalidArgument when options.tile is on and cannot work: a tile
/// smaller than the alignment, a halo larger than the tile, or losses that
/// are not sums over pixels; the message names the option and the value
/// that would work.
void check_tiling(const FeatureExtractor& model, const StylizeOptions& options);

}  // namespace stylize
