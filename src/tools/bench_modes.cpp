// stylize_bench's measurements behind stylize_bench's modes other than the plain
// timing: the machine's convolution ceiling, paired configurations in one
// process, and the exactness of tiles; and the helpers they share with it.
#include "bench_modes.hpp"

#include <algorithm>
#include <filesystem>
#include <chrono>
#include <cmath>
#include <memory>
#include <ctime>
#include <cstdio>
#include <thread>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include "json_output.hpp"
#include "options_binding.hpp"
#include "memory_policy.hpp"
#include "thread_pools.hpp"
#include <sys/resource.h>
#include <torch/types.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include "stylize/engine.hpp"
#include "stylize/fast_training.hpp"
#include "stylize/image_io.hpp"
#include "stylize/model_loader.hpp"
#include "stylize/network_shape.hpp"
#include "model/blocked_layout.hpp"
#include "stylize/runtime_info.hpp"
#include "model/onednn_conv.hpp"
#include "run/evaluator.hpp"
#include "loss/loss_terms.hpp"
#include "loss/style_statistic.hpp"
#include "stylize/tiling.hpp"


namespace stylize::bench {

using Clock = std::chrono::steady_clock;
using stylize::cli::Json;

// x to `digits` decimals: measurements are printed no finer than they mean.
double rounded(double x, int digits) {
    const double scale = std::pow(10.0, digits);
    return std::round(x * scale) / scale;
}

void print_json(const Json& j) { std::printf("%s\n", stylize::cli::dump_json(j).c_str()); }

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Cost model: convolutions forward and input-gradient backward (2x forward),
// Gram matrices forward (2 C^2 HW) and backward (twice that).
double gflop_per_evaluation(const FeatureExtractor& model, const StylizeOptions& o, int64_t h, int64_t w) {
    const size_t depth = model.depth_for(run_layer_names(o));
    const auto shapes = layer_shapes(model, depth, h, w);
    double flop = 0, c = 3;
    for (size_t i = 0; i < shapes.size(); ++i) {
        const auto& l = model.layers()[i];
        const double hw = static_cast<double>(shapes[i].height * shapes[i].width);
        if (l.kind == LayerKind::Conv) {
            const double cout = static_cast<double>(l.weight.size(0));
            const double k = static_cast<double>(l.weight.size(2) * l.weight.size(3));
            flop += 2 * (2 * c * cout * k * hw);
            c = cout;
        }
        for (const auto& s : o.style_layers)
            if (s.name == l.name) flop += 3 * (2 * c * c * hw);
    }
    return flop / 1e9;
}

// The 3x3 convolution rate, forward + input-gradient backward. Direct:
// ATen's convolution, the rate the cost-model floor is computed from.
// Winograd: the same convolution through oneDNN's Winograd kernels, as an
// effective (direct-equivalent) rate.
int ceiling(int threads, Precision precision, bool winograd) {
    const auto dtype = precision == Precision::BF16 ? at::kBFloat16 : at::kFloat;
    const int64_t c = 256, s = 64;
    auto x = at::randn({1, c, s, s}).to(dtype).contiguous(at::MemoryFormat::ChannelsLast).requires_grad_(true);
    auto w = (at::randn({c, c, 3, 3}) * 0.02).to(dtype).contiguous(at::MemoryFormat::ChannelsLast);
    std::unique_ptr<stylize::detail::OneDnnConv> wino;
    if (winograd && !stylize::detail::winograd_available()) {
        // No AVX-512 or no oneDNN in this build: nothing to measure.
        print_json({{"impl", "ceiling"}, {"conv_algorithm", "winograd"}, {"threads", threads}, {"available", false}});
        return 0;
    }
    if (winograd) {
        wino = std::make_unique<stylize::detail::OneDnnConv>(w, at::zeros({c}), stylize::detail::OneDnnKernel::WinogradF32,
                                                            stylize::detail::make_scratch_arena());
        x = stylize::detail::to_blocked(x.detach()).requires_grad_(true);
    }
    std::vector<double> times;
    for (int i = 0; i < 12; ++i) {
        const auto t0 = Clock::now();
        auto y = wino ? (*wino)(x, false) : at::conv2d(x, w, {}, {1, 1}, {1, 1});
        y.backward(at::ones_like(y));
        x.mutable_grad().reset();
        times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    times.erase(times.begin(), times.begin() + 2);  // warm-up
    const double t = median(times);
    const double gflop = 2 * (2.0 * c * c * 9 * s * s) / 1e9;
    print_json({{"impl", "ceiling"}, {"conv_algorithm", winograd ? "winograd" : "direct"}, {"threads", threads},
                {"precision", to_string(precision)}, {"gflops", rounded(gflop / t, 2)}, {"seconds", rounded(t, 6)}});
    return 0;
}

// One configuration of a paired comparison: "layout=auto,checkpoint=1".
struct Config {
    Layout layout = Layout::Auto;
    ConvAlgorithm conv = ConvAlgorithm::Auto;
    bool checkpoint = false;
    StyleLossKind style_loss = StyleLossKind::Gram;
    int tile = 0, tile_halo = -1;
    std::string text;
};

StyleLossKind parse_style_loss(const std::string& v) {
    for (auto k : {StyleLossKind::Gram, StyleLossKind::MeanCov, StyleLossKind::SlicedWasserstein,
                   StyleLossKind::Histogram})
        if (v == to_string(k)) return k;
    throw std::invalid_argument("bad style loss '" + v + "'");
}

Config parse_config(const std::string& text) {
    Config c;
    c.text = text;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto eq = item.find('=');
        const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
        if (key == "layout" && value == "auto") c.layout = Layout::Auto;
        else if (key == "layout" && value == "contiguous") c.layout = Layout::Contiguous;
        else if (key == "layout" && value == "channels-last") c.layout = Layout::ChannelsLast;
        else if (key == "conv" && value == "auto") c.conv = ConvAlgorithm::Auto;
        else if (key == "conv" && value == "direct") c.conv = ConvAlgorithm::Direct;
        else if (key == "conv" && value == "winograd") c.conv = ConvAlgorithm::Winograd;
        else if (key == "checkpoint") c.checkpoint = value == "1" || value == "on";
        else if (key == "style_loss") c.style_loss = parse_style_loss(value);
        else if (key == "tile") c.tile = std::stoi(value);
        else if (key == "tile_halo") c.tile_halo = value == "exact" ? -1 : std::stoi(value);
        else throw std::invalid_argument("bad configuration item '" + item + "'");
    }
    return c;
}

// Alternates single evaluations of configurations A and B in one process
// (A B B A A B ...), each timed between the first and second evaluation of a
// 2-evaluation run that reuses the style targets, and reports the ratio per
// pair: slow drifts of a shared machine cancel in a ratio of neighbours.
int pairs(FeatureExtractor& model, const std::string& a_text, const std::string& b_text, int size, int npairs,
          uint64_t seed) {
    const Config cfg[2] = {parse_config(a_text), parse_config(b_text)};
    auto gen = at::detail::createCPUGenerator(seed);
    auto content = at::rand({1, 3, size, size}, gen, at::kFloat);
    auto style = at::rand({1, 3, size, size}, gen, at::kFloat);
    std::vector<StyleTargets> cache[4];
    auto one = [&](const Config& c) {
        ExtractorConfig ec;
        ec.layout = c.layout;
        ec.conv_algorithm = c.conv;
        model.configure(ec);
        StylizeOptions o;
        o.size = 0;
        o.iterations = 2;
        o.checkpoint = c.checkpoint;
        o.style_loss = c.style_loss;
        o.tile = c.tile;
        o.tile_halo = c.tile_halo;
        std::vector<Clock::time_point> stamps;
        Hooks hooks;
        hooks.on_progress = [&](const Progress&) { stamps.push_back(Clock::now()); };
        hooks.before_evaluation = cli::before_evaluation;
        // Targets differ per style loss: each configuration keeps its own.
        stylize::stylize(model, content, {{style, 1.0}}, o, hooks, {}, &cache[static_cast<size_t>(c.style_loss)]);
        return std::chrono::duration<double>(stamps.at(1) - stamps.at(0)).count();
    };
    one(cfg[0]);  // warm-up both
    one(cfg[1]);
    std::vector<double> ta, tb, ratio;
    for (int i = 0; i < npairs; ++i) {
        const bool a_first = i % 2 == 0;
        const double first = one(cfg[a_first ? 0 : 1]);
        const double second = one(cfg[a_first ? 1 : 0]);
        ta.push_back(a_first ? first : second);
        tb.push_back(a_first ? second : first);
        ratio.push_back(tb.back() / ta.back());
    }
    auto list = [](const std::vector<double>& v) {
        Json out = Json::array();
        for (double x : v) out.push_back(rounded(x, 6));
        return out;
    };
    print_json({{"impl", "pairs"}, {"size", size}, {"a", cfg[0].text}, {"b", cfg[1].text}, {"pairs", npairs},
                {"a_median", rounded(median(ta), 4)}, {"b_median", rounded(median(tb), 4)},
                {"b_over_a_median", rounded(median(ratio), 4)},
                {"b_over_a_min", rounded(*std::min_element(ratio.begin(), ratio.end()), 4)},
                {"b_over_a_max", rounded(*std::max_element(ratio.begin(), ratio.end()), 4)},
                {"a_seconds", list(ta)}, {"b_seconds", list(tb)}});
    return 0;
}

// One evaluation of the default losses (content at relu4_2, mean-cov at the
// five style layers, TV) untiled and in tiles, at a random image between
// the content and the style: the relative differences of the losses and of
// the gradient, and the seconds of each. With tile 0, the second evaluation
// is untiled with direct convolutions instead: the rounding of the
// convolution algorithm itself, to compare with.
int tile_exactness(FeatureExtractor& model, int size, int tile, int halo, uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    const auto content = at::rand({1, 3, size, size}, gen, at::kFloat);
    const auto style = at::rand({1, 3, size, size}, gen, at::kFloat);
    const auto image = (content * 0.5 + style * 0.5).contiguous();
    const StylizeOptions defaults;
    const auto geometry = tile_geometry(model, model.layer_index("relu5_1") + 1);
    const int64_t halo_px = halo >= 0 ? halo : geometry.exact_halo;
    tile = static_cast<int>(tile / geometry.alignment * geometry.alignment);  // as the engine rounds
    auto statistic = std::make_shared<const MeanCovStatistic>();
    std::vector<torch::Tensor> content_t, style_t;
    {
        torch::NoGradGuard no_grad;
        content_t = model.extract(content, {"relu4_2"});
        for (const auto& f : model.extract(style, layer_names(defaults.style_layers)))
            style_t.push_back(statistic->target({{f, {}, 1.0}}));
    }
    auto run = [&](int64_t t) {
        FeatureLosses terms;
        terms.push_back(std::make_unique<ContentLoss>(model.layer_index("relu4_2"), content_t[0], 1.0, false));
        for (size_t i = 0; i < style_t.size(); ++i)
            terms.push_back(std::make_unique<StyleLoss>(model.layer_index(defaults.style_layers[i].name), statistic,
                                                        style_t[i], defaults.style_weight / 5, false));
        ImageLosses image_terms;
        image_terms.push_back(std::make_unique<TVLoss>(1.0));
        auto ev = make_evaluator(model, std::move(terms), std::move(image_terms), false, size, size, t, halo_px);
        auto x = image.clone().requires_grad_(true);
        const auto t0 = Clock::now();
        const auto losses = ev->evaluate(x);
        const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        return std::make_tuple(losses, x.grad().clone(), seconds);
    };
    const auto [lp, gp, sp] = run(0);
    if (tile == 0) {  // the reference: the same evaluation with direct convolutions
        auto cfg = model.config();
        cfg.conv_algorithm = ConvAlgorithm::Direct;
        model.configure(cfg);
    }
    const auto [lt, gt, st] = run(tile);
    auto rel = [](double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-30); };
    print_json({{"impl", "tile_exactness"}, {"size", size}, {"tile", tile}, {"tile_halo", halo_px},
                {"content_rel_error", rel(lt.content, lp.content)}, {"style_rel_error", rel(lt.style, lp.style)},
                {"total_rel_error", rel(lt.total, lp.total)},
                {"grad_rel_error", ((gt - gp).norm() / gp.norm()).item<double>()},
                {"untiled_seconds", rounded(sp, 3)}, {"tiled_seconds", rounded(st, 3)}});
    return 0;
}

}  // namespace stylize::bench
