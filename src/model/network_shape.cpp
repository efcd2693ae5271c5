#include "stylize/network_shape.hpp"

#include <algorithm>

namespace stylize {
namespace {

int64_t pooled(int64_t side, int kernel, int stride) {
    return side < kernel ? 0 : (side - kernel) / stride + 1;
}

int64_t convolved(int64_t side, const Layer& l) {
    const int64_t k = l.weight.size(2);
    return std::max<int64_t>(0, side + 2 * l.padding - k + 1);
}

}  // namespace

std::vector<MapShape> layer_shapes(const FeatureExtractor& model, size_t depth, int64_t height, int64_t width) {
    const auto& layers = model.layers();
    std::vector<MapShape> out;
    MapShape m{3, height, width};
    for (size_t i = 0; i < depth && i < layers.size(); ++i) {
        const auto& l = layers[i];
        if (l.kind == LayerKind::Conv) {
            m.channels = l.weight.size(0);
            m.height = convolved(m.height, l);
            m.width = convolved(m.width, l);
        } else if (l.kind == LayerKind::Pool) {
            m.height = pooled(m.height, l.pool_kernel, l.pool_stride);
            m.width = pooled(m.width, l.pool_kernel, l.pool_stride);
        }
        out.push_back(m);
    }
    return out;
}

int64_t minimum_input_side(const FeatureExtractor& model, size_t depth) {
    // Walk back from a 1x1 map at the deepest layer to the input side it needs.
    const auto& layers = model.layers();
    int64_t need = 1;
    for (size_t i = std::min(depth, layers.size()); i-- > 0;) {
        const auto& l = layers[i];
        if (l.kind == LayerKind::Pool) need = (need - 1) * l.pool_stride + l.pool_kernel;
        else if (l.kind == LayerKind::Conv) need = std::max<int64_t>(1, need - 2 * l.padding + l.weight.size(2) - 1);
    }
    return need;
}

}  // namespace stylize
