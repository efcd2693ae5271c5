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

#include "stylize/engine.hpp"
#include "stylize/fast_training.hpp"
#include "stylize/image_io.hpp"
#include "stylize/model_loader.hpp"
#include "stylize/network_shape.hpp"
#include "model/blocked_layout.hpp"
#include "stylize/runtime_info.hpp"
#include "model/winograd_conv.hpp"
#include "run/evaluator.hpp"
#include "loss/loss_terms.hpp"
#include "loss/style_statistic.hpp"
#include "stylize/tiling.hpp"

using namespace stylize;
using Clock = std::chrono::steady_clock;
using stylize::cli::Json;

using namespace stylize::bench;


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
    cli::add_choice(app, "--precision", precision, "convolution precision",
                    {{"fp32", Precision::FP32}, {"bf16", Precision::BF16}});
    cli::add_choice(app, "--layout", layout, "activation memory format",
                    {{"auto", Layout::Auto}, {"channels-last", Layout::ChannelsLast}, {"contiguous", Layout::Contiguous}});
    app.add_flag("--checkpoint", checkpoint, "activation checkpointing");
    cli::MemoryPolicy memory_policy = cli::MemoryPolicy::Recycle;
    cli::add_choice(app, "--memory-policy", memory_policy, "as the CLI's --memory-policy",
                    {{"recycle", cli::MemoryPolicy::Recycle}, {"system", cli::MemoryPolicy::System}});
    cli::add_choice(app, "--conv-algorithm", conv, "how the 3x3 convolutions run",
                    {{"auto", ConvAlgorithm::Auto}, {"direct", ConvAlgorithm::Direct}, {"winograd", ConvAlgorithm::Winograd}});
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
