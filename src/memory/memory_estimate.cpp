#include "stylize/memory_estimate.hpp"

#include <algorithm>

#include "memory/segment_plan.hpp"
#include "loss/style_statistic.hpp"
#include "stylize/network_shape.hpp"
#include "stylize/tiling.hpp"
#include "model/onednn_conv.hpp"

namespace stylize {

namespace {

// What the network's pass over an input of height x width holds at its peak.
double network_bytes(const FeatureExtractor& model, int64_t height, int64_t width, const StylizeOptions& opt) {
    const auto names = run_layer_names(opt);
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
            // The layer's copy in the run's precision (a bf16 kernel's layer
            // keeps the fp32 master instead, counted with the kernel below).
            if (!l.bf16) weights += static_cast<double>(l.weight.numel()) * act_bytes;
            if (l.winograd) {
                // Its weights in oneDNN's blocked format, and the shared scratchpad.
                weights += static_cast<double>(l.weight.numel()) * 4;
                scratch = std::max(scratch, static_cast<double>(l.winograd->scratchpad_bytes(input.height, input.width)));
                blocked = true;
            }
            if (l.bf16) {
                // Its weights converted twice to bf16 (the forward and the
                // backward kernels' formats), and the shared scratchpad.
                weights += static_cast<double>(l.weight.numel()) * 2 * 2;
                scratch = std::max(scratch, static_cast<double>(l.bf16->scratchpad_bytes(input.height, input.width)));
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
    return saved + 3 * peak_layer + grams + sorting + weights + scratch + unblocked;
}

// The image, its gradient and copies, and the optimiser's state.
double image_bytes(int64_t height, int64_t width, const StylizeOptions& opt) {
    const double pixels = static_cast<double>(height * width);
    const double image_state = 3 * pixels * 4 * 8;  // image, grad, copies, EMA, resize buffers
    const double optimiser = opt.optimizer == OptimizerKind::LBFGS ? 2.0 * opt.lbfgs_history * 3 * pixels * 4
                                                                   : 2.0 * 3 * pixels * 4;
    return image_state + optimiser;
}

}  // namespace

double estimate_memory_bytes(const FeatureExtractor& model, int64_t height, int64_t width,
                             const StylizeOptions& opt) {
    if (!is_tiled(model, opt, height, width))
        return network_bytes(model, height, width, opt) + image_bytes(height, width, opt);
    // Tiled: the network runs on one tile and its halo at a time (without
    // checkpointing); the image, the optimiser's state, the content targets
    // and the region masks stay whole.
    const size_t depth = run_depth(model, opt);
    const auto g = tile_geometry(model, depth);
    const int64_t tile = effective_tile(model, opt);
    const int64_t halo = (effective_halo(model, opt) + g.alignment - 1) / g.alignment * g.alignment;
    StylizeOptions per_tile = opt;
    per_tile.checkpoint = false;
    per_tile.tile = 0;
    const double net = network_bytes(model, std::min(height, tile + 2 * halo), std::min(width, tile + 2 * halo), per_tile);
    const auto shapes = layer_shapes(model, depth, height, width);
    double whole = 0;
    for (const auto& l : opt.content_layers)
        if (model.has_layer(l.name)) whole += shapes[model.layer_index(l.name)].elements() * 4;
    // Region masks at each style layer's resolution, and at the image's.
    const double regions = opt.style_layers.empty() ? 0 : static_cast<double>(height * width) * 4 * 2;
    return net + whole + regions + image_bytes(height, width, opt);
}

}  // namespace stylize
