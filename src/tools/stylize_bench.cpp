// stylize_bench: seconds per evaluation, peak RSS and achieved GFLOP/s of the
// engine at a fixed size and seed; or, with --ceiling, the machine's own rate
// for a large 3x3 convolution (forward + input-gradient backward) at the same
// dtype and thread count. One JSON object on stdout. See docs/BENCHMARKS.md.
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
#include "blocked_layout.hpp"
#include "stylize/runtime_info.hpp"
#include "winograd_conv.hpp"
#include "evaluator.hpp"
#include "loss_terms.hpp"
#include "style_statistic.hpp"
#include "stylize/tiling.hpp"

using namespace stylize;
using Clock = std::chrono::steady_clock;
using stylize::cli::Json;

namespace {

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
    std::vector<std::string> names;
    for (const auto& l : o.content_layers) names.push_back(l.name);
    for (const auto& l : o.style_layers) names.push_back(l.name);
    const size_t depth = model.depth_for(names);
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
    std::unique_ptr<stylize::detail::WinogradConv> wino;
    if (winograd && !stylize::detail::winograd_available()) {
        // No AVX-512 or no oneDNN in this build: nothing to measure.
        print_json({{"impl", "ceiling"}, {"conv_algorithm", "winograd"}, {"threads", threads}, {"available", false}});
        return 0;
    }
    if (winograd) {
        wino = std::make_unique<stylize::detail::WinogradConv>(w, at::zeros({c}), stylize::detail::make_scratch_arena());
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
        std::vector<std::string> names;
        for (const auto& l : defaults.style_layers) names.push_back(l.name);
        for (const auto& f : model.extract(style, names)) style_t.push_back(statistic->target({{f, {}, 1.0}}));
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

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"stylize benchmark: seconds per evaluation at a fixed size and seed"};
    std::string model_path;  // "" = the CLI's search order (next to the binary: the project's models/)
    int size = 512, evaluations = 10, warmup = 2, threads = 0, history = 10;
    uint64_t seed = 0;
    Precision precision = Precision::FP32;
    bool json = false, run_ceiling = false, checkpoint = false;
    Layout layout = Layout::Auto;
    ConvAlgorithm conv = ConvAlgorithm::Auto;
    std::string optimizer = "lbfgs";
    app.add_option("--model", model_path, "TorchScript VGG19 (default: $STYLIZE_MODEL, then models/ of the project, as the CLI)");
    app.add_option("--size", size, "square image side")->capture_default_str();
    app.add_option("--evaluations", evaluations, "timed evaluations")->capture_default_str();
    app.add_option("--warmup", warmup, "untimed evaluations first")->capture_default_str();
    app.add_option("--threads", threads, "0 = LibTorch default")->capture_default_str();
    app.add_option("--history", history, "L-BFGS history")->capture_default_str();
    app.add_option("--seed", seed)->capture_default_str();
    app.add_option("--optimizer", optimizer)->check(CLI::IsMember({"lbfgs", "adam"}));
    app.add_option("--precision", precision)
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, Precision>{{"fp32", Precision::FP32}, {"bf16", Precision::BF16}}));
    app.add_option("--layout", layout, "auto|channels-last|contiguous")
        ->transform(CLI::CheckedTransformer(std::map<std::string, Layout>{
            {"auto", Layout::Auto}, {"channels-last", Layout::ChannelsLast}, {"contiguous", Layout::Contiguous}}));
    app.add_flag("--checkpoint", checkpoint, "activation checkpointing");
    cli::MemoryPolicy memory_policy = cli::MemoryPolicy::Recycle;
    app.add_option("--memory-policy", memory_policy, "recycle|system (as the CLI's --memory-policy)")
        ->transform(CLI::CheckedTransformer(std::map<std::string, cli::MemoryPolicy>{
            {"recycle", cli::MemoryPolicy::Recycle}, {"system", cli::MemoryPolicy::System}}));
    app.add_option("--conv-algorithm", conv, "auto|direct|winograd")
        ->transform(CLI::CheckedTransformer(std::map<std::string, ConvAlgorithm>{
            {"auto", ConvAlgorithm::Auto}, {"direct", ConvAlgorithm::Direct}, {"winograd", ConvAlgorithm::Winograd}}));
    std::string pair_a, pair_b, style_loss = to_string(StylizeOptions{}.style_loss);
    int npairs = 0;
    app.add_option("--style-loss", style_loss, "gram|mean-cov|sliced-wasserstein|histogram (default: the library's)")->capture_default_str();
    int tile = 0, tile_halo = -1;
    app.add_option("--tile", tile, "exact tiles of N pixels (0 = untiled)")->capture_default_str();
    app.add_option("--tile-halo", tile_halo, "halo around each tile (-1 = exact)")->capture_default_str();
    bool exactness = false;
    std::string pooling = "max";
    app.add_option("--pooling", pooling, "max|avg (--tile-exactness only)")->check(CLI::IsMember({"max", "avg"}));
    app.add_flag("--tile-exactness", exactness,
                 "one evaluation untiled and in --tile tiles: relative errors of the losses and the gradient");
    app.add_option("--pairs", npairs, "paired comparison: alternate N evaluations of --a and --b in one process");
    app.add_option("--a", pair_a, "configuration A, e.g. layout=contiguous,checkpoint=0,style_loss=gram");
    app.add_option("--b", pair_b, "configuration B, e.g. layout=auto");
    std::string profile;
    app.add_option("--profile", profile,
                   "write a Chrome trace of the timed evaluations to this file (tools/profile_table.py sums it)");
    app.add_flag("--json", json, "print the measurement as one JSON object (ceiling and pairs always do)");
    app.add_flag("--ceiling", run_ceiling, "measure the 3x3 convolution rate instead");
    std::string measure_image, measure_content, measure_style;
    app.add_option("--measure", measure_image,
                   "print the loss terms (default options) of this image as a stylization of --content with "
                   "--style, at the image's size: fast and optimised outputs compared by the same code");
    app.add_option("--content", measure_content, "content image (--measure)");
    app.add_option("--style", measure_style, "style image (--measure)");
    CLI11_PARSE(app, argc, argv);
    threads = cli::set_thread_pools(threads);  // as the CLI does
    if (run_ceiling) return ceiling(threads, precision, conv == ConvAlgorithm::Winograd);

    try {
        cli::install_memory_policy(memory_policy);  // as the CLI does, before loading
        std::error_code ec;
        const char* env = std::getenv("STYLIZE_MODEL");
        const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
        auto model = FeatureExtractor::load(
            locate_model(model_path, env ? env : "", "", ec ? std::string() : exe.string()).path);
        {
            const StylizeOptions defaults;
            std::vector<std::string> names;
            for (const auto* list : {&defaults.content_layers, &defaults.style_layers})
                for (const auto& l : *list) names.push_back(l.name);
            model.keep_layers(model.depth_for(names));  // as the CLI does
        }
        if (npairs > 0) return pairs(model, pair_a, pair_b, size, npairs, seed);
        if (!measure_image.empty()) {
            StylizeOptions opt;
            if (!style_loss.empty()) opt.style_loss = parse_style_loss(style_loss);
            const auto l = measure_losses(model, load_image(measure_content).rgb, {{load_image(measure_style).rgb, 1.0}},
                                          load_image(measure_image).rgb, opt);
            print_json({{"impl", "measure"}, {"image", measure_image}, {"content", l.content}, {"style", l.style},
                        {"tv", l.tv}, {"total", l.total}, {"model_sha256", model.info().sha256}});
            return 0;
        }
        if (exactness) {
            ExtractorConfig cfg;
            cfg.conv_algorithm = conv;
            cfg.pooling = pooling == "avg" ? Pooling::Avg : Pooling::Max;
            model.configure(cfg);
            return tile_exactness(model, size, tile, tile_halo, seed);
        }
        if (checkpoint && memory_policy == cli::MemoryPolicy::System) cli::return_freed_memory_promptly();
        cli::keep_peak_low(checkpoint);  // as the CLI does
        ExtractorConfig cfg;
        cfg.precision = precision;
        cfg.layout = layout;
        cfg.conv_algorithm = conv;
        model.configure(cfg);
        StylizeOptions o;
        o.size = 0;
        o.iterations = warmup + evaluations;
        o.lbfgs_history = history;
        o.optimizer = optimizer == "adam" ? OptimizerKind::Adam : OptimizerKind::LBFGS;
        o.precision = precision;
        o.checkpoint = checkpoint;
        o.style_loss = parse_style_loss(style_loss);
        o.tile = tile;
        o.tile_halo = tile_halo;
        auto gen = at::detail::createCPUGenerator(seed);
        auto content = at::rand({1, 3, size, size}, gen, at::kFloat);
        auto style = at::rand({1, 3, size, size}, gen, at::kFloat);
        std::vector<double> stamps, user_stamps, sys_stamps;
        std::vector<long> fault_stamps;
        Hooks hooks;
        std::unique_ptr<torch::autograd::profiler::RecordProfile> recording;
        hooks.before_evaluation = [&](int index) {
            cli::before_evaluation(index);
            // Record from the first timed evaluation on (after the warm-up).
            if (!profile.empty() && !recording && index >= std::max(warmup, 1))
                recording = std::make_unique<torch::autograd::profiler::RecordProfile>(profile);
        };
        hooks.on_progress = [&](const Progress&) {
            stamps.push_back(std::chrono::duration<double>(Clock::now().time_since_epoch()).count());
            rusage ru{};
            getrusage(RUSAGE_SELF, &ru);
            user_stamps.push_back(static_cast<double>(ru.ru_utime.tv_sec) + 1e-6 * static_cast<double>(ru.ru_utime.tv_usec));
            sys_stamps.push_back(static_cast<double>(ru.ru_stime.tv_sec) + 1e-6 * static_cast<double>(ru.ru_stime.tv_usec));
            fault_stamps.push_back(ru.ru_minflt + ru.ru_majflt);
        };
        const auto result = stylize::stylize(model, content, {{style, 1.0}}, o, hooks);
        recording.reset();  // writes the trace
        std::vector<double> per_eval, cpu_per_eval, user_per_eval, sys_per_eval, faults_per_eval;
        for (size_t i = static_cast<size_t>(std::max(warmup, 1)); i < stamps.size(); ++i) {
            per_eval.push_back(stamps[i] - stamps[i - 1]);
            user_per_eval.push_back(user_stamps[i] - user_stamps[i - 1]);
            sys_per_eval.push_back(sys_stamps[i] - sys_stamps[i - 1]);
            cpu_per_eval.push_back(user_per_eval.back() + sys_per_eval.back());
            faults_per_eval.push_back(static_cast<double>(fault_stamps[i] - fault_stamps[i - 1]));
        }
        const double t = median(per_eval);
        const double gflop = gflop_per_evaluation(model, o, size, size);
        const auto& l = result.losses;
        const char* layout_name = layout == Layout::Auto ? "auto" : layout == Layout::ChannelsLast ? "channels-last" : "contiguous";
        const Json record = {{"impl", "stylize"}, {"conv_algorithm", model.winograd_layers() > 0 ? "winograd" : "direct"},
                    {"winograd_layers", model.winograd_layers()}, {"layout", layout_name}, {"checkpoint", checkpoint},
                    {"size", size}, {"height", size}, {"width", size}, {"threads", threads},
                    {"precision", to_string(precision)}, {"style_loss", style_loss}, {"tile", tile}, {"tile_halo", tile_halo},
                    {"evaluations", result.evaluations},
                    {"seconds_per_eval_median", rounded(t, 6)},
                    {"cpu_seconds_per_eval_median", rounded(median(cpu_per_eval), 6)},
                    {"peak_rss_mb", rounded(peak_rss_bytes() / 1048576.0, 1)}, {"gflop_per_eval", rounded(gflop, 3)},
                    {"user_seconds_per_eval_median", rounded(median(user_per_eval), 6)},
                    {"sys_seconds_per_eval_median", rounded(median(sys_per_eval), 6)},
                    {"page_faults_per_eval_median", median(faults_per_eval)},
                    {"memory_policy", cli::to_string(memory_policy)},
                    {"recycled_peak_mb", rounded(cli::memory_stats().peak_mapped_bytes / 1048576.0, 1)},
                    {"large_live_peak_mb", rounded(cli::memory_stats().peak_live_bytes / 1048576.0, 1)},
                    {"large_blocks_mapped", cli::memory_stats().maps},
                    {"large_blocks_reused", cli::memory_stats().reuses},
                    {"arena_mb", rounded(cli::memory_stats().arena_bytes / 1048576.0, 1)},
                    {"arena_hits", cli::memory_stats().arena_hits},
                    {"arena_misses", cli::memory_stats().arena_misses},
                    {"arena_plans", cli::memory_stats().plans},
                    {"gflops", rounded(t > 0 ? gflop / t : 0.0, 2)}, {"loss_total", l.total},
                    {"loss_content", l.content}, {"loss_style", l.style}, {"loss_tv", l.tv}};
        if (json) {
            print_json(record);
        } else {
            std::printf("%dx%d, %d threads, %s, %s: %.3f s/eval (user %.3f, sys %.3f), peak RSS %.0f MB, %.1f GFLOP/s, "
                        "loss %.6g\n",
                        size, size, threads, model.winograd_layers() > 0 ? "winograd" : "direct",
                        cli::to_string(memory_policy), t, median(user_per_eval), median(sys_per_eval),
                        peak_rss_bytes() / 1048576.0, t > 0 ? gflop / t : 0.0, l.total);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "stylize_bench: %s\n", e.what());
        return 1;
    }
}
