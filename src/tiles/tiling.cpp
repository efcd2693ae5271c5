#include "stylize/tiling.hpp"

#include <algorithm>

#include "stylize/errors.hpp"

namespace stylize {

TileGeometry tile_geometry(const FeatureExtractor& model, size_t depth) {
    // Walking forward with s input pixels per feature pixel: a k x k
    // convolution with padding p lets the zero padding at a tile's edge
    // reach max(p, k-1-p) feature pixels further in; a pooling window of k
    // reaches k-1 pixels ahead.
    TileGeometry g;
    int64_t s = 1, reach = 0;
    const auto& layers = model.layers();
    for (size_t i = 0; i < depth && i < layers.size(); ++i) {
        const auto& l = layers[i];
        if (l.kind == LayerKind::Conv) {
            const int64_t k = l.weight.size(2), p = l.padding;
            reach += std::max(p, k - 1 - p) * s;
        } else if (l.kind == LayerKind::Pool) {
            reach += (l.pool_kernel - 1) * s;
            s *= l.pool_stride;
        }
    }
    g.alignment = s;
    g.exact_halo = (reach + s - 1) / s * s;
    return g;
}

size_t run_depth(const FeatureExtractor& model, const StylizeOptions& opt) {
    return model.depth_for(run_layer_names(opt));
}

int64_t effective_halo(const FeatureExtractor& model, const StylizeOptions& opt) {
    return opt.tile_halo >= 0 ? opt.tile_halo : tile_geometry(model, run_depth(model, opt)).exact_halo;
}

int64_t effective_tile(const FeatureExtractor& model, const StylizeOptions& opt) {
    if (opt.tile <= 0) return 0;
    const int64_t a = tile_geometry(model, run_depth(model, opt)).alignment;
    return std::max<int64_t>(a, opt.tile / a * a);
}

bool is_tiled(const FeatureExtractor& model, const StylizeOptions& opt, int64_t height, int64_t width) {
    const int64_t t = effective_tile(model, opt);
    return t > 0 && (height > t || width > t);
}

std::string why_not_tileable(const StylizeOptions& opt) {
    if (opt.style_loss == StyleLossKind::SlicedWasserstein || opt.style_loss == StyleLossKind::Histogram)
        return std::string("--style-loss ") + to_string(opt.style_loss) +
               " compares sorted values of the whole image, which tiles cannot give exactly; use --style-loss "
               "mean-cov or gram";
    if (opt.normalize_gradients)
        return "--normalize-gradients scales each layer's gradient by its norm over the whole image; drop it";
    return {};
}

void check_tiling(const FeatureExtractor& model, const StylizeOptions& opt) {
    if (opt.tile <= 0) return;
    const auto g = tile_geometry(model, run_depth(model, opt));
    if (opt.tile < g.alignment)
        throw InvalidArgument("--tile " + std::to_string(opt.tile) + " is smaller than the layers allow: the smallest "
                              "tile is " + std::to_string(g.alignment) + " (the pooling layers' total stride)");
    const int64_t tile = effective_tile(model, opt);
    if (opt.tile_halo < 0 && g.exact_halo > tile)
        throw InvalidArgument("--tile " + std::to_string(opt.tile) + " is smaller than the exact halo (" +
                              std::to_string(g.exact_halo) + " px, how far the deepest layer used sees): the "
                              "smallest tile is " + std::to_string(g.exact_halo) +
                              " (or give a smaller --tile-halo, which is no longer exact)");
    if (opt.tile_halo > tile)
        throw InvalidArgument("--tile-halo " + std::to_string(opt.tile_halo) + " is larger than the tile (" +
                              std::to_string(tile) + "): the largest halo for this tile is " + std::to_string(tile) +
                              ", or raise --tile to at least " +
                              std::to_string((opt.tile_halo + g.alignment - 1) / g.alignment * g.alignment));
    const auto why = why_not_tileable(opt);
    if (!why.empty()) throw InvalidArgument("--tile: " + why);
}

}  // namespace stylize
