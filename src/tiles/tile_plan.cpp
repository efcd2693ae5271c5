#include "tiles/tile_plan.hpp"

#include <algorithm>

#include "stylize/network_shape.hpp"
#include "stylize/tiling.hpp"

namespace stylize {
namespace {

int64_t round_down(int64_t v, int64_t a) { return v / a * a; }
int64_t round_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

// [0, n) cut into pieces of at most `tile` (a multiple of `a`), as even as
// the alignment allows: the starts, and n at the end.
std::vector<int64_t> cuts(int64_t n, int64_t tile, int64_t a) {
    const int64_t pieces = std::max<int64_t>(1, (n + tile - 1) / tile);
    const int64_t step = std::min(tile, round_up((n + pieces - 1) / pieces, a));
    std::vector<int64_t> c;
    for (int64_t v = 0; v < n; v += step) c.push_back(v);
    c.push_back(n);
    return c;
}

}  // namespace

std::vector<Tile> plan_tiles(int64_t height, int64_t width, int64_t tile, int64_t halo, int64_t alignment) {
    const auto rows = cuts(height, tile, alignment), cols = cuts(width, tile, alignment);
    std::vector<Tile> tiles;
    for (size_t i = 0; i + 1 < rows.size(); ++i)
        for (size_t j = 0; j + 1 < cols.size(); ++j) {
            Tile t;
            t.y0 = rows[i];
            t.y1 = rows[i + 1];
            t.x0 = cols[j];
            t.x1 = cols[j + 1];
            t.hy0 = round_down(std::max<int64_t>(0, t.y0 - halo), alignment);
            t.hx0 = round_down(std::max<int64_t>(0, t.x0 - halo), alignment);
            t.hy1 = std::min(height, round_up(t.y1 + halo, alignment));
            t.hx1 = std::min(width, round_up(t.x1 + halo, alignment));
            tiles.push_back(t);
        }
    return tiles;
}

TileWindow tile_window(const Tile& t, int64_t stride, int64_t full_height, int64_t full_width, int64_t image_height,
                       int64_t image_width) {
    // Origins are multiples of the alignment, hence of every stride; a part
    // that reaches the image's end takes the map's rounded-down end.
    const int64_t top = t.y0 / stride, left = t.x0 / stride;
    const int64_t bottom = t.y1 == image_height ? full_height : t.y1 / stride;
    const int64_t right = t.x1 == image_width ? full_width : t.x1 / stride;
    TileWindow w;
    w.in_full = {top, left, bottom - top, right - left};
    w.in_tile = {top - t.hy0 / stride, left - t.hx0 / stride, bottom - top, right - left};
    return w;
}

torch::Tensor crop(const torch::Tensor& t, const Window& w) {
    return t.narrow(2, w.top, w.height).narrow(3, w.left, w.width);
}

std::vector<int64_t> layer_strides(const FeatureExtractor& model, size_t depth) {
    std::vector<int64_t> out;
    int64_t s = 1;
    const auto& layers = model.layers();
    for (size_t i = 0; i < depth && i < layers.size(); ++i) {
        if (layers[i].kind == LayerKind::Pool) s *= layers[i].pool_stride;
        out.push_back(s);
    }
    return out;
}

void for_each_tile(const FeatureExtractor& model, const torch::Tensor& image, const std::vector<size_t>& layers,
                   int64_t tile, int64_t halo, const TileVisitor& visit) {
    torch::NoGradGuard no_grad;
    if (layers.empty()) return;
    const size_t depth = layers.back() + 1;
    const int64_t h = image.size(2), w = image.size(3);
    const auto geometry = tile_geometry(model, depth);
    const auto strides = layer_strides(model, depth);
    const auto shapes = layer_shapes(model, depth, h, w);
    for (const auto& t : plan_tiles(h, w, tile, halo, geometry.alignment)) {
        const auto part = image.narrow(2, t.hy0, t.hy1 - t.hy0).narrow(3, t.hx0, t.hx1 - t.hx0);
        std::vector<torch::Tensor> feats;
        model.run_layers(model.prepare(part), 0, depth, layers, &feats);
        std::vector<torch::Tensor> parts;
        std::vector<Window> in_full;
        for (size_t k = 0; k < layers.size(); ++k) {
            const auto& m = shapes[layers[k]];
            const auto tw = tile_window(t, strides[layers[k]], m.height, m.width, h, w);
            parts.push_back(tw.in_tile.empty() ? torch::Tensor() : crop(feats[k], tw.in_tile));
            in_full.push_back(tw.in_full);
        }
        feats.clear();
        visit(parts, in_full);
    }
}

std::vector<torch::Tensor> extract_tiled(const FeatureExtractor& model, const torch::Tensor& image,
                                         const std::vector<size_t>& layers, int64_t tile, int64_t halo) {
    torch::NoGradGuard no_grad;
    std::vector<size_t> sorted = layers;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    if (sorted.empty()) return {};
    const auto shapes = layer_shapes(model, sorted.back() + 1, image.size(2), image.size(3));
    std::vector<torch::Tensor> full;
    for (size_t i : sorted)
        full.push_back(torch::zeros({1, shapes[i].channels, shapes[i].height, shapes[i].width},
                                    image.options().dtype(torch::kFloat)));
    for_each_tile(model, image, sorted, tile, halo,
                  [&](const std::vector<torch::Tensor>& parts, const std::vector<Window>& in_full) {
                      for (size_t k = 0; k < parts.size(); ++k)
                          if (parts[k].defined()) crop(full[k], in_full[k]).copy_(parts[k]);
                  });
    std::vector<torch::Tensor> out;
    for (size_t i : layers)
        out.push_back(full[static_cast<size_t>(std::find(sorted.begin(), sorted.end(), i) - sorted.begin())]);
    return out;
}

}  // namespace stylize
