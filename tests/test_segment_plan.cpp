#include <catch2/catch.hpp>
#include <torch/types.h>

#include <numeric>

#include "fixtures.hpp"
#include "memory/segment_plan.hpp"

using namespace stylize;


TEST_CASE("block activation bytes of VGG19 at 512x512 by hand", "[unit]") {
    const auto model = fixtures::vgg19_stack();
    const size_t depth = model.layer_index("relu5_1") + 1;
    std::vector<double> inputs;
    const auto blocks = block_saved_bytes(model, depth, 512, 512, 4.0, &inputs);
    REQUIRE(blocks.size() == 5);
    REQUIRE(inputs.size() == 5);
    CHECK(inputs[0] == 0);                                // the image, the caller's
    CHECK(inputs[1] == Approx(4.0 * 64 * 256 * 256));     // pool1's output
    CHECK(inputs[4] == Approx(4.0 * 512 * 32 * 32));      // pool4's output
    const double px = 512.0 * 512.0;
    // Block 1: conv1_1's input (3 ch), relu1_1's output (= conv1_2's input),
    // relu1_2's output (= pool1's input), pool1's int64 indices at a quarter
    // of the pixels.
    CHECK(blocks[0] == Approx(4 * px * (3 + 64 * 2) + 8 * 64 * px / 4));
    // Block 5 is conv5_1's input and relu5_1's output at 32x32, 512 channels.
    CHECK(blocks[4] == Approx(4.0 * 2 * 512 * 32 * 32));
}

TEST_CASE("checkpointing recomputes only the leading blocks that hold the memory", "[unit]") {
    const auto model = fixtures::vgg19_stack();
    const size_t depth = model.layer_index("relu5_1") + 1;
    const auto off = plan_segments(model, depth, 512, 512, 4.0, false);
    CHECK(off.starts == std::vector<size_t>{0});
    const auto blocks = block_saved_bytes(model, depth, 512, 512, 4.0);
    CHECK(off.saved_bytes == Approx(std::accumulate(blocks.begin(), blocks.end(), 0.0)));

    const auto on = plan_segments(model, depth, 512, 512, 4.0, true);
    // Blocks 1 and 2 are recomputed; blocks 3-5 (70% of the convolution work,
    // a third of the memory) run as one segment.
    CHECK(on.starts == std::vector<size_t>{0, model.layer_index("pool1") + 1, model.layer_index("pool2") + 1});
    CHECK(on.saved_bytes < 0.5 * off.saved_bytes);
    CHECK(on.saved_bytes >= blocks[0]);
    // The rule does not depend on the size (up to rounding at the pools).
    CHECK(plan_segments(model, depth, 2048, 2048, 4.0, true).starts == on.starts);
}

TEST_CASE("a network without pooling has nothing to checkpoint", "[unit]") {
    const auto model = fixtures::vgg19_stack();
    const auto plan = plan_segments(model, 4, 64, 64, 4.0, true);  // conv1_1..relu1_2
    CHECK(plan.starts == std::vector<size_t>{0});
}
