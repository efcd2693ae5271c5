#include "memory/segment_plan.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "stylize/network_shape.hpp"

namespace stylize {

std::vector<double> block_saved_bytes(const FeatureExtractor& model, size_t depth, int64_t height, int64_t width,
                                      double act_bytes, std::vector<double>* block_inputs) {
    std::vector<double> blocks{0.0};
    if (block_inputs) block_inputs->assign(1, 0.0);  // the first block's input is the image
    const auto& layers = model.layers();
    const auto shapes = layer_shapes(model, depth, height, width);
    MapShape input{3, height, width};
    for (size_t i = 0; i < shapes.size(); ++i) {
        const auto& l = layers[i];
        const double in = input.elements();
        // A relu's output is also what the next conv or pool saves as its
        // input (the relu runs in place): count that tensor once.
        const bool after_relu = i > 0 && layers[i - 1].kind == LayerKind::Relu;
        if (l.kind == LayerKind::Conv) {
            if (!after_relu) blocks.back() += in * act_bytes;  // conv saves its input
        } else if (l.kind == LayerKind::Relu) {
            blocks.back() += in * act_bytes;  // relu saves its output (same size as its input)
        } else {
            if (!after_relu) blocks.back() += in * act_bytes;  // pool saves its input...
            blocks.back() += shapes[i].elements() * 8;         // ...and int64 indices, one per output
            if (i + 1 < depth) {
                blocks.push_back(0.0);
                if (block_inputs) block_inputs->push_back(shapes[i].elements() * act_bytes);
            }
        }
        input = shapes[i];
    }
    return blocks;
}

SegmentPlan plan_segments(const FeatureExtractor& model, size_t depth, int64_t height, int64_t width,
                          double act_bytes, bool checkpoint) {
    std::vector<double> inputs;  // bytes of each block's input (the previous pool's output)
    const auto blocks = block_saved_bytes(model, depth, height, width, act_bytes, &inputs);
    const auto starts = model.block_starts(depth);
    SegmentPlan plan;
    plan.starts = {0};
    plan.saved_bytes = std::accumulate(blocks.begin(), blocks.end(), 0.0);
    if (!checkpoint || starts.size() < 2 || blocks.size() != starts.size()) return plan;

    double largest = 0, boundary = 0;
    size_t k = 0;  // leading blocks recomputed
    while (k + 1 < blocks.size()) {
        largest = std::max(largest, blocks[k]);
        ++k;
        boundary += inputs[k];
        const double tail = std::accumulate(blocks.begin() + static_cast<std::ptrdiff_t>(k), blocks.end(), 0.0);
        if (tail <= largest) break;
    }
    plan.starts.assign(starts.begin(), starts.begin() + static_cast<std::ptrdiff_t>(k + 1));
    const double tail = std::accumulate(blocks.begin() + static_cast<std::ptrdiff_t>(k), blocks.end(), 0.0);
    plan.saved_bytes = boundary + std::max(largest, tail);
    return plan;
}

}  // namespace stylize
