#pragma once
// How an image is cut into tiles, where each tile's own part lies in every
// layer's feature map, and a no-gradient walk of the network over the tiles.
// Internal to the engine (tiled evaluation, tiled targets).
#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "stylize/model.hpp"

namespace stylize {

/// A tile: its own rows and columns [y0, y1) x [x0, x1) of the image, and
/// the larger part [hy0, hy1) x [hx0, hx1) the network runs on (its halo).
struct Tile {
    int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
    int64_t hy0 = 0, hy1 = 0, hx0 = 0, hx1 = 0;
};

/// Tiles covering height x width, as even as the alignment allows, each at
/// most `tile` on a side (a multiple of `alignment`), with `halo` pixels
/// around (clipped at the image's edges, origins rounded down and ends up
/// to the alignment).
std::vector<Tile> plan_tiles(int64_t height, int64_t width, int64_t tile, int64_t halo, int64_t alignment);

/// A rectangle of a feature map.
struct Window {
    int64_t top = 0, left = 0, height = 0, width = 0;
    bool empty() const { return height <= 0 || width <= 0; }
};

/// Where a tile's own part lies in a layer's map: in the map of the tile's
/// halo region (`in_tile`) and in the whole image's map (`in_full`).
struct TileWindow {
    Window in_tile, in_full;
};

/// The layer's map has `stride` input pixels per feature pixel and is
/// full_height x full_width for the whole image.
TileWindow tile_window(const Tile& tile, int64_t stride, int64_t full_height, int64_t full_width,
                       int64_t image_height, int64_t image_width);

/// `t` (N,C,H,W) restricted to `w`.
torch::Tensor crop(const torch::Tensor& t, const Window& w);

/// Input pixels per feature pixel at the output of each of the first
/// `depth` layers.
std::vector<int64_t> layer_strides(const FeatureExtractor& model, size_t depth);

/// The network's layers in `layers` (sorted, unique indices) over the
/// tiles of `image` (1,3,H,W), without autograd: calls `visit` once per tile
/// with each layer's features restricted to the tile's own part and where
/// that part lies in the whole map (empty parts included).
using TileVisitor = std::function<void(const std::vector<torch::Tensor>& parts, const std::vector<Window>& in_full)>;
void for_each_tile(const FeatureExtractor& model, const torch::Tensor& image, const std::vector<size_t>& layers,
                   int64_t tile, int64_t halo, const TileVisitor& visit);

/// The features of `layers` over the whole image, assembled from tiles.
std::vector<torch::Tensor> extract_tiled(const FeatureExtractor& model, const torch::Tensor& image,
                                         const std::vector<size_t>& layers, int64_t tile, int64_t halo);

}  // namespace stylize
