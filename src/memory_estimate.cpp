#include "stylize/memory_estimate.hpp"

#include <algorithm>

#include "segment_plan.hpp"
#include "style_statistic.hpp"
#include "stylize/network_shape.hpp"
#include "winograd_conv.hpp"

namespace stylize {

double estimate_memory_bytes(const FeatureExtractor& model, int64_t height, int64_t width,
                             const StylizeOptions& opt) {
    std::vector<std::string> names;
    for (const auto& l : opt.content_layers) names.push_back(l.name);
    for (const auto& l : opt.style_layers) names.push_back(l.name);
    const size_t depth = model.depth_for(names);
    const double act_bytes = opt.precision == Precision::BF16 ? 2.0 : 4.0;
    const auto shapes = layer_shapes(model, depth, height, width);
    double peak_layer = 0, grams = 0, sorting = 0, weights = 0, scratch = 0, unblocked = 0;
    bool blocked = false;
    MapShape input{3, height, width};
    for (size_t i = 0; i < shapes.size(); ++i) {
        const auto& l = model.layers()[i];
        const auto& m = shapes[i];
        if (l.kind == LayerKind::Conv) {
            weights += static_cast<double>(l.weight.numel()) * act_bytes;
            if (l.winograd) {
                // Its weights in oneDNN's blocked format, and the shared scratchpad.
                weights += static_cast<double>(l.weight.numel()) * 4;
                scratch = std::max(scratch, static_cast<double>(l.winograd->scratchpad_bytes(input.height, input.width)));
                blocked = true;
            }
        }
        const double c = static_cast<double>(m.channels);
        peak_layer = std::max(peak_layer, m.elements() * act_bytes);
        for (const auto& sl : opt.style_layers) {
            if (sl.name != l.name) continue;
            grams += 2 * c * c * 4;  // target and current Gram (or covariance)
            if (opt.style_loss == StyleLossKind::SlicedWasserstein || opt.style_loss == StyleLossKind::Histogram) {
                // The style's pool of feature vectors (the style is about the
                // output's size), and while the term runs: projections,
                // sorted values, their indices, the resampled target.
                const double n = static_cast<double>(m.height * m.width);
                grams += c * std::min(n, static_cast<double>(kMaxSamples)) * 4;
                sorting = std::max(sorting, c * (n * 24 + std::min(n, static_cast<double>(kMaxSamples)) * 8));
            }
        }
        // A feature kept from a channel-blocked run is an unblocked copy.
        if (blocked && std::find(names.begin(), names.end(), l.name) != names.end()) unblocked += m.elements() * 4;
        input = m;
    }
    // Activations kept for the backward pass (with checkpointing: the
    // segments' inputs plus the largest segment).
    const double saved = plan_segments(model, depth, height, width, act_bytes, opt.checkpoint).saved_bytes;
    // Backward holds about two layer-sized gradients at a time; content targets are small.
    const double pixels = static_cast<double>(height * width);
    const double image_state = 3 * pixels * 4 * 8;  // image, grad, copies, EMA, resize buffers
    const double optimiser = opt.optimizer == OptimizerKind::LBFGS ? 2.0 * opt.lbfgs_history * 3 * pixels * 4
                                                                   : 2.0 * 3 * pixels * 4;
    return saved + 3 * peak_layer + grams + sorting + weights + scratch + unblocked + image_state + optimiser;
}

}  // namespace stylize
