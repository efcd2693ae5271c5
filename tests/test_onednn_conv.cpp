// Channel-blocked layout and stylize's oneDNN convolutions (Winograd fp32,
// direct bf16), against ATen's.
#include <algorithm>
#include <cstdlib>

#include <catch2/catch.hpp>
#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/types.h>

#include "model/blocked_layout.hpp"
#include "fixtures.hpp"
#include "stylize/errors.hpp"
#include "stylize/model.hpp"
#include "model/onednn_conv.hpp"

using namespace stylize;

namespace {
std::string joined(const std::vector<int>& v) {
    std::string out;
    for (int x : v) out += (out.empty() ? "" : " ") + std::to_string(x);
    return out;
}

double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>() / (b.abs().max().item<double>() + 1e-12);
}

// Two extractors on the same image: the features for `names` and the input
// gradient of the sum of their mean squares.
struct TwoRuns {
    std::vector<torch::Tensor> a, b;
    torch::Tensor grad_a, grad_b;
};
TwoRuns run_both(const FeatureExtractor& ea, const FeatureExtractor& eb, const std::vector<std::string>& names) {
    const auto img = fixtures::content_image(40, 56);
    auto ia = img.clone().requires_grad_(true), ib = img.clone().requires_grad_(true);
    TwoRuns r{ea.extract(ia, names), eb.extract(ib, names), {}, {}};
    torch::Tensor la = torch::zeros({}), lb = torch::zeros({});
    for (size_t i = 0; i < r.a.size() && i < r.b.size(); ++i) {
        la = la + r.a[i].pow(2).mean();
        lb = lb + r.b[i].pow(2).mean();
    }
    la.backward();
    lb.backward();
    r.grad_a = ia.grad();
    r.grad_b = ib.grad();
    return r;
}

// Relative to the whole map (bf16 rounding flips a few ReLU masks deep in a
// network; the largest single difference says little then).
double norm_err(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).norm().item<double>() / (b.norm().item<double>() + 1e-12);
}
}  // namespace

TEST_CASE("blocked layout round-trips and pools like ATen, with gradients", "[unit]") {
    torch::manual_seed(3);
    const auto x = torch::randn({1, 32, 10, 14});
    for (auto fmt : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
        const auto b = stylize::detail::to_blocked(x.contiguous(fmt));
        CHECK(b.sizes() == torch::IntArrayRef({1, 2, 10, 14, 16}));
        CHECK(b.is_contiguous());
        // Channel 16*k+j of pixel (h,w) is at [0,k,h,w,j].
        CHECK(b[0][1][3][5][7].item().toFloat() == x[0][23][3][5].item().toFloat());
        const auto back = stylize::detail::from_blocked(b, fmt);
        CHECK(back.is_contiguous(fmt));
        CHECK(torch::equal(back, x));
    }
    for (bool max : {true, false}) {
        auto a = x.clone().requires_grad_(true), c = x.clone().requires_grad_(true);
        const auto want = max ? at::max_pool2d(a, {2, 2}, {2, 2}) : at::avg_pool2d(a, {2, 2}, {2, 2});
        const auto got = stylize::detail::from_blocked(stylize::detail::pool_blocked(stylize::detail::to_blocked(c), max, 2, 2),
                                              at::MemoryFormat::Contiguous);
        REQUIRE(got.sizes() == want.sizes());
        CHECK(torch::equal(got, want));
        const auto g = torch::randn(want.sizes());
        (want * g).sum().backward();
        (got * g).sum().backward();
        CHECK(torch::allclose(a.grad(), c.grad()));
    }
    CHECK_THROWS(stylize::detail::to_blocked(torch::zeros({1, 8, 4, 4})));
}

TEST_CASE("Winograd convolution matches ATen's forward and input gradient", "[unit]") {
    if (!winograd_supported()) {
        WARN("no oneDNN Winograd kernels in this build or on this CPU: not tested here");
        return;
    }
    torch::manual_seed(5);
    // Odd sizes: the 4x4 output tiles overhang the edges.
    const auto w = torch::randn({48, 32, 3, 3}) * 0.1, b = torch::randn({48});
    const stylize::detail::OneDnnConv conv(w, b, stylize::detail::OneDnnKernel::WinogradF32,
                                           stylize::detail::make_scratch_arena());
    for (bool relu : {false, true}) {
        for (auto hw : {std::pair<int64_t, int64_t>{13, 22}, {32, 8}}) {
            const auto x = torch::randn({1, 32, hw.first, hw.second});
            auto xa = x.clone().requires_grad_(true);
            auto want = at::conv2d(xa, w, b, {1, 1}, {1, 1});
            if (relu) want = at::relu(want);
            auto xb = stylize::detail::to_blocked(x).requires_grad_(true);
            const auto y5 = conv(xb, relu);
            const auto got = stylize::detail::from_blocked(y5, at::MemoryFormat::Contiguous);
            CHECK(rel_err(got, want) < 1e-4);
            if (relu) CHECK(got.min().item<double>() >= 0);
            const auto g = torch::randn(want.sizes());
            (want * g).sum().backward();
            (got * g).sum().backward();
            const auto dx = stylize::detail::from_blocked(xb.grad(), at::MemoryFormat::Contiguous);
            CHECK(rel_err(dx, xa.grad()) < 1e-4);
        }
    }
    // The second shape replaced the first in the cache; the first still works.
    const auto x = torch::randn({1, 32, 13, 22});
    CHECK(rel_err(stylize::detail::from_blocked(conv(stylize::detail::to_blocked(x), false), at::MemoryFormat::Contiguous),
                  at::conv2d(x, w, b, {1, 1}, {1, 1})) < 1e-4);
    // A fused ReLU's output modified in place before backward is refused.
    auto xb = stylize::detail::to_blocked(x).requires_grad_(true);
    auto y = conv(xb, true);
    y.mul_(2);
    CHECK_THROWS(y.sum().backward());
    CHECK_THROWS(conv(torch::zeros({1, 1, 4, 4, 16}), false));  // 16 channels, not 32
}

TEST_CASE("Winograd extractor gives the direct extractor's features and gradients", "[model]") {
    auto direct = FeatureExtractor::load(fixtures::model());
    ExtractorConfig cfg;
    cfg.conv_algorithm = ConvAlgorithm::Direct;
    direct.configure(cfg);
    CHECK(direct.winograd_layers() == 0);
    auto wino = FeatureExtractor::load(fixtures::model());
    cfg.conv_algorithm = ConvAlgorithm::Winograd;
    if (!winograd_supported()) {
        CHECK_THROWS_AS(wino.configure(cfg), InvalidArgument);
        WARN("no oneDNN Winograd kernels in this build or on this CPU: not tested here");
        return;
    }
    wino.configure(cfg);
    // The narrow model has 8, 16, 32, 64, 64 channels: conv1_1, conv1_2 and
    // conv2_1 take 3 or 8 input channels and stay direct.
    CHECK(wino.winograd_layers() == 13);
    CHECK(!wino.layers()[wino.layer_index("conv2_1")].winograd);
    CHECK(wino.layers()[wino.layer_index("conv2_2")].winograd);
    const std::vector<std::string> names{"relu1_1", "relu2_1", "conv3_1", "relu3_1", "relu4_2", "relu5_1"};
    const auto r = run_both(direct, wino, names);
    const auto &fa = r.a, &fb = r.b;
    REQUIRE(fa.size() == fb.size());
    for (size_t i = 0; i < fa.size(); ++i) {
        CHECK(fb[i].sizes() == fa[i].sizes());
        CHECK(rel_err(fb[i], fa[i]) < 1e-4);
    }
    CHECK(fb[2].min().item<double>() < 0);  // conv3_1 kept: its ReLU was not fused
    CHECK(rel_err(r.grad_b, r.grad_a) < 1e-3);
    // bf16 and the CUDA device run direct; asking for Winograd there is an error.
    cfg.precision = Precision::BF16;
    CHECK_THROWS_AS(wino.configure(cfg), InvalidArgument);
    cfg.conv_algorithm = ConvAlgorithm::Auto;
    wino.configure(cfg);
    CHECK(wino.winograd_layers() == 0);
    CHECK(!wino.layers()[wino.layer_index("conv2_2")].winograd);
}

TEST_CASE("oneDNN bf16 convolution matches ATen's forward and input gradient", "[unit]") {
    if (!stylize::detail::bf16_conv_available()) {
        WARN("no oneDNN bf16 convolution kernels in this build or on this CPU: not tested here");
        CHECK_THROWS(stylize::detail::OneDnnConv(torch::zeros({16, 16, 3, 3}), torch::zeros({16}),
                                                 stylize::detail::OneDnnKernel::DirectBf16,
                                                 stylize::detail::make_scratch_arena()));
        return;
    }
    torch::manual_seed(7);
    const auto w = torch::randn({48, 32, 3, 3}) * 0.1, b = torch::randn({48});
    const stylize::detail::OneDnnConv conv(w, b, stylize::detail::OneDnnKernel::DirectBf16,
                                           stylize::detail::make_scratch_arena());
    CHECK(conv.kernel() == stylize::detail::OneDnnKernel::DirectBf16);
    const auto wb = w.to(torch::kBFloat16), bb = b.to(torch::kBFloat16);
    for (bool relu : {false, true}) {
        for (auto format : {at::MemoryFormat::ChannelsLast, at::MemoryFormat::Contiguous}) {
            const auto x = torch::randn({1, 32, 13, 22}).to(torch::kBFloat16).contiguous(format);
            // ATen's bf16 convolution (oneDNN's kernels, reordering per call)
            // and fp32 on the same bf16 values.
            auto xa = x.clone().requires_grad_(true), xf = x.to(torch::kFloat).requires_grad_(true);
            auto want = at::conv2d(xa, wb, bb, {1, 1}, {1, 1});
            auto exact = at::conv2d(xf, w, b, {1, 1}, {1, 1});
            auto xb = x.clone().requires_grad_(true);
            const auto got = conv(xb, relu);
            if (relu) {
                // ReLU with the mask of the output under test: where rounding
                // puts an output just either side of zero, the gradients
                // would differ by a whole weight.
                const auto mask = (got > 0).to(torch::kFloat).detach();
                want = want * mask.to(torch::kBFloat16), exact = exact * mask;
            }
            CHECK(got.scalar_type() == torch::kBFloat16);
            CHECK(got.is_contiguous(at::MemoryFormat::ChannelsLast));
            CHECK(rel_err(got.to(torch::kFloat), want.to(torch::kFloat)) < 1e-2);
            CHECK(rel_err(got.to(torch::kFloat), exact) < 1e-2);
            if (relu) CHECK(got.min().item<double>() >= 0);
            const auto g = torch::randn(want.sizes()).to(torch::kBFloat16);
            (want.to(torch::kFloat) * g.to(torch::kFloat)).sum().backward();
            (exact * g.to(torch::kFloat)).sum().backward();
            (got.to(torch::kFloat) * g.to(torch::kFloat)).sum().backward();
            REQUIRE(xb.grad().defined());
            CHECK(xb.grad().scalar_type() == torch::kBFloat16);
            CHECK(rel_err(xb.grad().to(torch::kFloat), xa.grad().to(torch::kFloat)) < 2e-2);
            CHECK(rel_err(xb.grad().to(torch::kFloat), xf.grad()) < 2e-2);
        }
    }
    // A fused ReLU's output modified in place before backward is refused;
    // fp32 or a wrong channel count is an error.
    auto xb = torch::randn({1, 32, 9, 9}).to(torch::kBFloat16).requires_grad_(true);
    auto y = conv(xb, true);
    y.mul_(2);
    CHECK_THROWS(y.sum().backward());
    CHECK_THROWS(conv(torch::zeros({1, 32, 4, 4}), false));
    CHECK_THROWS(conv(torch::zeros({1, 16, 4, 4}).to(torch::kBFloat16), false));
}

TEST_CASE("bf16 extractor runs no reorder-per-call convolution where the CPU has bf16 kernels", "[model]") {
    auto fp32 = FeatureExtractor::load(fixtures::model());
    ExtractorConfig cfg;
    cfg.conv_algorithm = ConvAlgorithm::Direct;
    fp32.configure(cfg);
    auto bf16 = FeatureExtractor::load(fixtures::model());
    cfg.precision = Precision::BF16;
    cfg.layout = Layout::Contiguous;  // the oneDNN layers run channels-last whatever the setting
    bf16.configure(cfg);
    const bool kernels = stylize::detail::bf16_conv_available();
    int own = 0;
    for (const auto& l : bf16.layers()) own += l.bf16 != nullptr;
    // conv1_1, conv1_2 and conv2_1 take 3 or 8 input channels: ATen's.
    CHECK(own == (kernels ? 13 : 0));
    CHECK(!bf16.layers()[bf16.layer_index("conv2_1")].bf16);
    if (!kernels) WARN("no oneDNN bf16 convolution kernels in this build or on this CPU: ATen's bf16 path only");
    const std::vector<std::string> names{"relu1_1", "relu2_2", "conv3_1", "relu4_2", "relu5_1"};
    const auto r = run_both(fp32, bf16, names);
    const auto &fa = r.a, &fb = r.b;
    REQUIRE(fa.size() == fb.size());
    for (size_t i = 0; i < fa.size(); ++i) {
        CHECK(fb[i].scalar_type() == torch::kFloat);
        CHECK(fb[i].sizes() == fa[i].sizes());
        CAPTURE(names[i], norm_err(fb[i], fa[i]));
        CHECK(norm_err(fb[i], fa[i]) < 3e-2);  // 0.003-0.011 here
    }
    CHECK(fb[2].min().item<double>() < 0);  // conv3_1 kept: its ReLU was not fused
    // 0.18 here, as with ATen's bf16 convolutions (the same figure to 4
    // digits): this narrow random model's deep input gradient is that far
    // from fp32's in bf16, whichever kernels run it.
    CAPTURE(norm_err(r.grad_b, r.grad_a));
    CHECK(norm_err(r.grad_b, r.grad_a) < 0.3);
}

TEST_CASE("Winograd kernels get the same work schedule whatever the thread count", "[unit]") {
    // oneDNN picks the schedule and blocking from the thread count at
    // creation, and they differ in rounding; the scratchpad a shape asks for
    // tells the schedules apart (one thread's 64 -> 128 layer at 64x64
    // pixels asked for 14.5 MB here, two threads' for 8.4 MB).
    if (!winograd_supported()) {
        WARN("no oneDNN Winograd kernels in this build or on this CPU: not tested here");
        return;
    }
    torch::manual_seed(5);
    const int saved = at::get_num_threads();
    for (const auto& layer : std::vector<std::pair<int64_t, int64_t>>{{64, 64}, {64, 128}, {128, 128}, {128, 256}}) {
        const stylize::detail::OneDnnConv conv(torch::randn({layer.second, layer.first, 3, 3}),
                                               torch::zeros({layer.second}), stylize::detail::OneDnnKernel::WinogradF32,
                                               stylize::detail::make_scratch_arena());
        for (int side : {32, 48, 64, 80, 96, 128, 136, 256}) {
            std::vector<size_t> bytes;
            for (int threads : {1, 2, 3, 4, 8}) {
                at::set_num_threads(threads);
                bytes.push_back(conv.scratchpad_bytes(side, side));
            }
            INFO(layer.first << " -> " << layer.second << " channels at " << side << " px: scratchpad bytes "
                             << bytes[0] << " " << bytes[1] << " " << bytes[2] << " " << bytes[3] << " " << bytes[4]);
            CHECK(std::all_of(bytes.begin(), bytes.end(), [&](size_t b) { return b == bytes[0]; }));
        }
    }
    // And the bytes of the 64 -> 128 layer at 80x80 pixels (a 160 px run),
    // whose schedule for 4 threads differed from that for 1 to 3 on the AMD
    // EPYC (there without changing these bytes; whole runs at 160 px did
    // change, docs/BENCHMARKS.md).
    const stylize::detail::OneDnnConv conv(torch::randn({128, 64, 3, 3}) * 0.05, torch::randn({128}) * 0.1,
                                           stylize::detail::OneDnnKernel::WinogradF32, stylize::detail::make_scratch_arena());
    const auto x = torch::rand({1, 64, 80, 80});
    const auto g = torch::randn({1, 128, 80, 80});
    std::vector<torch::Tensor> first;
    for (int threads : {1, 2, 4, 8}) {
        at::set_num_threads(threads);
        auto xb = stylize::detail::to_blocked(x).requires_grad_(true);
        const auto y = conv(xb, true);
        (y * stylize::detail::to_blocked(g)).sum().backward();
        const std::vector<torch::Tensor> got{y.detach(), xb.grad()};
        if (first.empty()) first = got;
        INFO(threads << " threads");
        CHECK(torch::equal(got[0], first[0]));
        CHECK(torch::equal(got[1], first[1]));
    }
    at::set_num_threads(saved);
}

TEST_CASE("Winograd, direct and bf16 extractors give the same bytes for 1, 2 and 3 threads at every size", "[model]") {
    // VGG19's first layers at their real widths (the heaviest of an
    // evaluation, and where oneDNN picks a work schedule by shape and thread
    // count), seeded random weights; a forward and an input-gradient backward
    // per size, 64-512 px in steps of 16 for the default path (Winograd
    // where the CPU has it), 32 for bf16, 64 for the direct one
    // (STYLIZE_SWEEP_STEP sets all).
    torch::manual_seed(3);
    auto model = fixtures::vgg_stack({64, 64, 0, 128, 128}, 2, 2, 0.05);
    const char* step_env = std::getenv("STYLIZE_SWEEP_STEP");
    const int step_set = step_env && *step_env ? std::atoi(step_env) : 0;
    const std::vector<std::string> names{"relu1_2", "relu2_2"};
    const int saved = at::get_num_threads();
    for (const auto precision : {Precision::FP32, Precision::BF16})
    for (const auto algorithm : {ConvAlgorithm::Auto, ConvAlgorithm::Direct}) {
        if (precision == Precision::BF16 && algorithm == ConvAlgorithm::Direct) continue;  // the same as auto
        ExtractorConfig cfg;
        cfg.conv_algorithm = algorithm;
        cfg.precision = precision;
        model.configure(cfg);
        std::vector<int> differ;
        // bf16's kernels are set up for the thread count (they split only
        // outputs across threads): every other size of the default's.
        const int step = step_set > 0                                 ? step_set
                         : precision == Precision::BF16              ? 32
                         : algorithm == ConvAlgorithm::Auto          ? 16
                                                                     : 64;
        for (int size = 64; size <= 512; size += step) {
            torch::manual_seed(size);
            const auto image = torch::rand({1, 3, size, size - 8});
            std::vector<torch::Tensor> first;
            for (int threads : {1, 2, 3}) {
                at::set_num_threads(threads);
                auto x = image.clone().requires_grad_(true);
                auto f = model.extract(x, names);
                torch::autograd::backward({f[0], f[1]}, {torch::ones_like(f[0]).mul_(0.5), torch::ones_like(f[1])});
                std::vector<torch::Tensor> got{f[0].detach(), f[1].detach(), x.grad()};
                if (first.empty()) first = got;
                else if (!torch::equal(got[0], first[0]) || !torch::equal(got[1], first[1]) ||
                         !torch::equal(got[2], first[2]))
                    differ.push_back(size * 10 + threads);
            }
        }
        at::set_num_threads(saved);
        INFO((precision == Precision::BF16 ? "bf16 " : "fp32 ") << (algorithm == ConvAlgorithm::Auto ? "auto" : "direct")
             << " (Winograd layers: " << model.winograd_layers() << "): size*10+threads that differ from 1 thread: "
             << joined(differ));
        CHECK(differ.empty());
    }
}
