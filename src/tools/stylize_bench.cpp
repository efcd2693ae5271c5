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

#include "bench_modes.hpp"
#include "json_output.hpp"
#include "options_binding.hpp"
#include "memory_policy.hpp"
#include "thread_pools.hpp"
#include <sys/resource.h>
#include <torch/types.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include "commands/run_command.hpp"
#include "stylize/conv_calibration.hpp"
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

using namespace stylize;
using Clock = std::chrono::steady_clock;
using stylize::cli::Json;

using namespace stylize::bench;


namespace {

// The command line: what to measure and how.
struct BenchArgs {
    std::string model_path;  // "" = the CLI's search order (next to the binary: the project's models/)
    int size = 512, evaluations = 10, warmup = 2, threads = 0, history = 10;
    uint64_t seed = 0;
    Precision precision = Precision::FP32;
    bool json = false, run_ceiling = false, checkpoint = false;
    Layout layout = Layout::Auto;
    ConvAlgorithm conv = ConvAlgorithm::Auto;
    std::string optimizer = "lbfgs";
    cli::MemoryPolicy memory_policy = cli::MemoryPolicy::Recycle;
    std::string pair_a, pair_b, style_loss = to_string(StylizeOptions{}.style_loss);
    int npairs = 0;
    int tile = 0, tile_halo = -1;
    bool exactness = false;
    std::string pooling = "max";
    std::string profile;
    std::string measure_image, measure_content, measure_style;
};

void bind_bench_args(CLI::App& app, BenchArgs& a) {
    app.add_option("--model", a.model_path, "TorchScript VGG19 (default: $STYLIZE_MODEL, then models/ of the project, as the CLI)");
    app.add_option("--size", a.size, "square image side")->capture_default_str();
    app.add_option("--evaluations", a.evaluations, "timed evaluations")->capture_default_str();
    app.add_option("--warmup", a.warmup, "untimed evaluations first")->capture_default_str();
    app.add_option("--threads", a.threads, "0 = all usable cores, as stylize")->capture_default_str();
    app.add_option("--history", a.history, "L-BFGS history")->capture_default_str();
    app.add_option("--seed", a.seed)->capture_default_str();
    app.add_option("--optimizer", a.optimizer)->check(CLI::IsMember({"lbfgs", "adam"}));
    cli::add_choice(app, "--precision", a.precision, "convolution precision",
                    {{"fp32", Precision::FP32}, {"bf16", Precision::BF16}});
    cli::add_choice(app, "--layout", a.layout, "activation memory format",
                    {{"auto", Layout::Auto}, {"channels-last", Layout::ChannelsLast}, {"contiguous", Layout::Contiguous}});
    app.add_flag("--checkpoint", a.checkpoint, "activation checkpointing");
    cli::add_choice(app, "--memory-policy", a.memory_policy, "as the CLI's --memory-policy",
                    {{"recycle", cli::MemoryPolicy::Recycle}, {"system", cli::MemoryPolicy::System}});
    cli::add_choice(app, "--conv-algorithm", a.conv, "how the 3x3 convolutions run",
                    {{"auto", ConvAlgorithm::Auto}, {"direct", ConvAlgorithm::Direct}, {"winograd", ConvAlgorithm::Winograd}});
    app.add_option("--style-loss", a.style_loss, "gram|mean-cov|sliced-wasserstein|histogram (default: the library's)")->capture_default_str();
    app.add_option("--tile", a.tile, "exact tiles of N pixels (0 = untiled)")->capture_default_str();
    app.add_option("--tile-halo", a.tile_halo, "halo around each tile (-1 = exact)")->capture_default_str();
    app.add_option("--pooling", a.pooling, "max|avg (--tile-exactness only)")->check(CLI::IsMember({"max", "avg"}));
    app.add_flag("--tile-exactness", a.exactness,
                 "one evaluation untiled and in --tile tiles: relative errors of the losses and the gradient");
    app.add_option("--pairs", a.npairs, "paired comparison: alternate N evaluations of --a and --b in one process");
    app.add_option("--a", a.pair_a, "configuration A, e.g. layout=contiguous,checkpoint=0,style_loss=gram");
    app.add_option("--b", a.pair_b, "configuration B, e.g. layout=auto");
    app.add_option("--profile", a.profile,
                   "write a Chrome trace of the timed evaluations to this file (tools/profile_table.py sums it)");
    app.add_flag("--json", a.json, "print the measurement as one JSON object (ceiling and pairs always do)");
    app.add_flag("--ceiling", a.run_ceiling, "measure the 3x3 convolution rate instead");
    app.add_option("--measure", a.measure_image,
                   "print the loss terms (default options) of this image as a stylization of --content with "
                   "--style, at the image's size: fast and optimised outputs compared by the same code");
    app.add_option("--content", a.measure_content, "content image (--measure)");
    app.add_option("--style", a.measure_style, "style image (--measure)");
}

// The model as the CLI finds and trims it.
FeatureExtractor load_bench_model(const BenchArgs& a) {
    std::error_code ec;
    const char* env = std::getenv("STYLIZE_MODEL");
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto model = FeatureExtractor::load(
        locate_model(a.model_path, env ? env : "", "", ec ? std::string() : exe.string()).path);
    model.keep_layers(model.depth_for(run_layer_names(StylizeOptions{})));  // as the CLI does
    return model;
}

int measure(FeatureExtractor& model, const BenchArgs& a) {
    StylizeOptions opt;
    if (!a.style_loss.empty()) opt.style_loss = parse_style_loss(a.style_loss);
    const auto l = measure_losses(model, load_image(a.measure_content).rgb, {{load_image(a.measure_style).rgb, 1.0}},
                                  load_image(a.measure_image).rgb, opt);
    print_json({{"impl", "measure"}, {"image", a.measure_image}, {"content", l.content}, {"style", l.style},
                {"tv", l.tv}, {"total", l.total}, {"model_sha256", model.info().sha256}});
    return 0;
}

StylizeOptions timed_options(const BenchArgs& a) {
    StylizeOptions o;
    o.size = 0;
    o.iterations = a.warmup + a.evaluations;
    o.lbfgs_history = a.history;
    o.optimizer = a.optimizer == "adam" ? OptimizerKind::Adam : OptimizerKind::LBFGS;
    o.precision = a.precision;
    o.checkpoint = a.checkpoint;
    o.style_loss = parse_style_loss(a.style_loss);
    o.tile = a.tile;
    o.tile_halo = a.tile_halo;
    return o;
}

// Wall clock, CPU times and page faults at each evaluation, and their
// differences from the first timed one on.
struct Stamps {
    std::vector<double> wall, user, sys;
    std::vector<long> faults;
    void take() {
        wall.push_back(std::chrono::duration<double>(Clock::now().time_since_epoch()).count());
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        user.push_back(static_cast<double>(ru.ru_utime.tv_sec) + 1e-6 * static_cast<double>(ru.ru_utime.tv_usec));
        sys.push_back(static_cast<double>(ru.ru_stime.tv_sec) + 1e-6 * static_cast<double>(ru.ru_stime.tv_usec));
        faults.push_back(ru.ru_minflt + ru.ru_majflt);
    }
    struct PerEval {
        std::vector<double> wall, cpu, user, sys, faults;
    };
    PerEval per_eval(int warmup) const {
        PerEval d;
        for (size_t i = static_cast<size_t>(std::max(warmup, 1)); i < wall.size(); ++i) {
            d.wall.push_back(wall[i] - wall[i - 1]);
            d.user.push_back(user[i] - user[i - 1]);
            d.sys.push_back(sys[i] - sys[i - 1]);
            d.cpu.push_back(d.user.back() + d.sys.back());
            d.faults.push_back(static_cast<double>(faults[i] - faults[i - 1]));
        }
        return d;
    }
};

Json timed_record(const FeatureExtractor& model, const BenchArgs& a, const Result& result, const Stamps::PerEval& d,
                  double gflop) {
    const double t = median(d.wall);
    const auto& l = result.losses;
    const auto layout = a.layout;
    const char* layout_name = layout == Layout::Auto ? "auto" : layout == Layout::ChannelsLast ? "channels-last" : "contiguous";
    return {{"impl", "stylize"}, {"conv_algorithm", model.winograd_layers() > 0 ? "winograd" : "direct"},
            {"winograd_layers", model.winograd_layers()}, {"conv_plan", model.conv_plan()},
            {"layout", layout_name}, {"checkpoint", a.checkpoint},
            {"size", a.size}, {"height", a.size}, {"width", a.size}, {"threads", a.threads},
            {"precision", to_string(a.precision)}, {"style_loss", a.style_loss}, {"tile", a.tile}, {"tile_halo", a.tile_halo},
            {"evaluations", result.evaluations},
            {"seconds_per_eval_median", rounded(t, 6)},
            {"cpu_seconds_per_eval_median", rounded(median(d.cpu), 6)},
            {"peak_rss_mb", rounded(peak_rss_bytes() / 1048576.0, 1)}, {"gflop_per_eval", rounded(gflop, 3)},
            {"user_seconds_per_eval_median", rounded(median(d.user), 6)},
            {"sys_seconds_per_eval_median", rounded(median(d.sys), 6)},
            {"page_faults_per_eval_median", median(d.faults)},
            {"memory_policy", cli::to_string(a.memory_policy)},
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
}

// The default measurement: stylize() on random images, timed per evaluation.
int timed_run(FeatureExtractor& model, const BenchArgs& a) {
    if (a.checkpoint && a.memory_policy == cli::MemoryPolicy::System) cli::return_freed_memory_promptly();
    cli::keep_peak_low(a.checkpoint);  // as the CLI does
    ExtractorConfig cfg;
    cfg.precision = a.precision;
    cfg.layout = a.layout;
    cfg.conv_algorithm = a.conv;
    model.configure(cfg);
    // auto: the plan the CLI would run (measured once, or remembered).
    const auto conv = calibrate_convolutions(model, a.size, cli::cache_folder());
    if (conv.measured) std::fprintf(stderr, "stylize_bench: measured the convolutions in %.1f s\n", conv.seconds);
    const auto o = timed_options(a);
    auto gen = at::detail::createCPUGenerator(a.seed);
    auto content = at::rand({1, 3, a.size, a.size}, gen, at::kFloat);
    auto style = at::rand({1, 3, a.size, a.size}, gen, at::kFloat);
    Stamps stamps;
    Hooks hooks;
    std::unique_ptr<torch::autograd::profiler::RecordProfile> recording;
    hooks.before_evaluation = [&](int index) {
        cli::before_evaluation(index);
        // Record from the first timed evaluation on (after the warm-up).
        if (!a.profile.empty() && !recording && index >= std::max(a.warmup, 1))
            recording = std::make_unique<torch::autograd::profiler::RecordProfile>(a.profile);
    };
    hooks.on_progress = [&](const Progress&) { stamps.take(); };
    const auto result = stylize::stylize(model, content, {{style, 1.0}}, o, hooks);
    recording.reset();  // writes the trace
    const auto d = stamps.per_eval(a.warmup);
    const double t = median(d.wall);
    const double gflop = gflop_per_evaluation(model, o, a.size, a.size);
    if (a.json) {
        print_json(timed_record(model, a, result, d, gflop));
    } else {
        std::printf("%dx%d, %d threads, %s, %s: %.3f s/eval (user %.3f, sys %.3f), peak RSS %.0f MB, %.1f GFLOP/s, "
                    "loss %.6g\n",
                    a.size, a.size, a.threads, model.winograd_layers() > 0 ? "winograd" : "direct",
                    cli::to_string(a.memory_policy), t, median(d.user), median(d.sys), peak_rss_bytes() / 1048576.0,
                    t > 0 ? gflop / t : 0.0, result.losses.total);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"stylize benchmark: seconds per evaluation at a fixed size and seed"};
    BenchArgs a;
    bind_bench_args(app, a);
    CLI11_PARSE(app, argc, argv);
    a.threads = cli::set_thread_pools(a.threads);  // as the CLI does
    if (a.run_ceiling) return ceiling(a.threads, a.precision, a.conv == ConvAlgorithm::Winograd);

    try {
        cli::install_memory_policy(a.memory_policy);  // as the CLI does, before loading
        auto model = load_bench_model(a);
        if (a.npairs > 0) return pairs(model, a.pair_a, a.pair_b, a.size, a.npairs, a.seed);
        if (!a.measure_image.empty()) return measure(model, a);
        if (a.exactness) {
            ExtractorConfig cfg;
            cfg.conv_algorithm = a.conv;
            cfg.pooling = a.pooling == "avg" ? Pooling::Avg : Pooling::Max;
            model.configure(cfg);
            return tile_exactness(model, a.size, a.tile, a.tile_halo, a.seed);
        }
        return timed_run(model, a);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "stylize_bench: %s\n", e.what());
        return 1;
    }
}
