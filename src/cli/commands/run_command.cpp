#include "commands/run_command.hpp"

#include <csignal>
#include <cmath>
#include <filesystem>
#include <thread>

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include "exit_codes.hpp"
#include "mask_inputs.hpp"
#include "memory_policy.hpp"
#include "thread_pools.hpp"
#include "progress_printer.hpp"
#include "signals.hpp"
#include "stylize/errors.hpp"
#include "stylize/conv_calibration.hpp"
#include "stylize/model_loader.hpp"
#include "stylize/process_settings.hpp"
#include "stylize/runtime_info.hpp"
#include "stylize/tiling.hpp"

namespace fs = std::filesystem;

namespace stylize::cli {

void setup_run_command(CLI::App& app, RunOptions& o) {
    app.add_option("content", o.content, "Content image")->required();
    app.add_option("styles", o.styles, "Style image(s); several are blended (see --style-blend)")->required();
    // A flag given twice takes its last value, so scripts can override defaults.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("-o,--output", o.output, "Output image (.png .jpg .webp .tif .bmp)")->required();
    bind_job_options(app, o.job);
    bind_process_options(app, o);
}

std::string partial_path(const std::string& output) {
    const fs::path p(output);
    return (p.parent_path() / (p.stem().string() + ".partial" + p.extension().string())).string();
}

std::string intermediate_path(const std::string& output, int evaluation) {
    const fs::path p(output);
    char num[16];
    std::snprintf(num, sizeof num, "%05d", evaluation);
    return (p.parent_path() / (p.stem().string() + "." + num + p.extension().string())).string();
}

void check_output_path(const std::string& output, const std::vector<std::string>& inputs, int bit_depth) {
    if (output.empty()) throw InvalidArgument("--output: empty path");
    if (!is_supported_output(output))
        throw InvalidArgument("--output " + output + ": unsupported format '" + fs::path(output).extension().string() +
                              "' (use .png, .jpg, .webp, .tif or .bmp)");
    if (bit_depth == 16 && !output_format(output).sixteen_bit)
        throw InvalidArgument("--bit-depth 16 needs a .png or .tif output, not " + output);
    std::error_code ec;
    if (fs::is_directory(output, ec)) throw InvalidArgument("--output " + output + " is a directory");
    for (const auto& in : inputs) {
        if (in.empty()) continue;
        std::error_code e1;
        const bool same = fs::exists(output, e1) ? fs::equivalent(output, in, e1)
                                                 : fs::weakly_canonical(output, e1) == fs::weakly_canonical(in, e1);
        if (same) throw InvalidArgument("--output " + output + " is an input image; refusing to overwrite it");
    }
}

namespace {

// Path of the running executable (/proc/self/exe), or "" if unknown.
std::string executable_path() {
    std::error_code ec;
    const auto p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : p.string();
}

// The longer side the runs work at (0, the content's own size, counts as 512).
int64_t largest_size(const std::vector<const StylizeOptions*>& runs) {
    int64_t side = 0;
    for (const auto* run : runs) side = std::max<int64_t>(side, run->size > 0 ? run->size : 512);
    return side;
}

void describe_conv_plan(const ConvCalibration& c, ConvAlgorithm requested) {
    if (c.measured)
        spdlog::info("convolutions at {} px: plan {} ('w' Winograd, 'd' direct), predicted {:.0f} ms per "
                     "evaluation (all Winograd {:.0f}, all direct {:.0f}); measured in {:.1f} s",
                     c.side, c.plan, c.plan_ms, c.winograd_ms, c.direct_ms, c.seconds);
    else if (!c.key.empty())
        spdlog::debug("convolutions at {} px: plan {} ('w' Winograd, 'd' direct), as measured before on this CPU",
                      c.side, c.plan);
    else
        spdlog::debug("convolutions: plan {} ('w' Winograd, 'd' direct; --conv-algorithm {})", c.plan,
                      to_string(requested));
}

}  // namespace

std::string cache_folder() {
    if (const char* dir = std::getenv("STYLIZE_CACHE_DIR")) {
        const std::string d = dir;
        return d == "none" ? std::string() : d;
    }
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return (fs::path(xdg) / "stylize").string();
    if (const char* home = std::getenv("HOME"); home && *home) return (fs::path(home) / ".cache" / "stylize").string();
    return "";
}

FeatureExtractor load_configured_model(const RunOptions& o, const std::vector<const StylizeOptions*>& runs) {
    ModelRequest request;
    request.path = o.model;
    const char* env = std::getenv("STYLIZE_MODEL");
    request.env_path = env ? env : "";
    request.install_dir = STYLIZE_INSTALL_MODEL_DIR;
    request.executable_path = executable_path();
    request.cache_dir = cache_folder();
    auto loaded = load_model(request);
    auto model = std::move(loaded.model);
    const auto& info = model.info();
    spdlog::debug("model {} ({}, sha256 {}{})", info.path, info.source.empty() ? info.weights : info.source,
                  info.sha256.substr(0, 12), loaded.digest_from_cache ? ", remembered for this unchanged file" : "");
    for (const auto& w : loaded.warnings) spdlog::warn("{}", w);
    // Only as deep as the deepest layer a run uses (names the model lacks
    // are reported by the run itself, with the option that names them).
    size_t depth = 0;
    for (const auto* run : runs)
        for (const auto& name : run_layer_names(*run))
            if (model.has_layer(name)) depth = std::max(depth, model.layer_index(name) + 1);
    model.keep_layers(depth);
    ExtractorConfig cfg;
    cfg.device = resolve_device(o.job.engine.device);
    cfg.layout = o.layout;
    cfg.conv_algorithm = o.conv_algorithm;
    if (o.reproducible) {
        if (o.conv_algorithm == ConvAlgorithm::Winograd)
            throw InvalidArgument("--reproducible uses direct convolutions; drop --conv-algorithm winograd");
        cfg.conv_algorithm = ConvAlgorithm::Direct;  // Winograd kernels exist for AVX-512 only
    }
    cfg.precision = o.job.engine.precision;
    cfg.pooling = o.job.engine.pooling;
    if (cfg.precision == Precision::TF32 && !cfg.device.is_cuda())
        throw InvalidArgument("--precision tf32 needs a CUDA device; on the CPU use fp32 or bf16");
    model.configure(cfg);
    if (cfg.device.is_cuda()) apply_cuda_math_settings(cfg.precision);
    describe_conv_plan(calibrate_convolutions(model, largest_size(runs), request.cache_dir, [](int64_t side) {
                           spdlog::info("measuring the faster convolution for each layer at {} px (once for "
                                        "this CPU, model and size; remembered in the cache folder)",
                                        side);
                       }),
                       cfg.conv_algorithm);
    if (!cfg.device.is_cuda()) {
        __builtin_cpu_init();
        if (cfg.precision == Precision::BF16 && !__builtin_cpu_supports("avx512bf16"))
            spdlog::warn("--precision bf16: this CPU has no AVX512_BF16, so bf16 convolutions are emulated and "
                         "about 2.3x slower than fp32 (docs/BENCHMARKS.md); fp32 is the faster choice here");
        const auto blas = detect_blas();
        if (blas.reference)
            spdlog::warn("LibTorch is using the slow reference BLAS ({}); install OpenBLAS "
                         "(apt-get install libopenblas0-pthread) for ~10x faster Gram matrices", blas.library);
    }
    return model;
}

ProgressMode progress_mode(const RunOptions& o) {
    if (o.quiet) return ProgressMode::None;
    if (o.progress == "line") return ProgressMode::Line;
    if (o.progress == "log") return ProgressMode::Log;
    if (o.progress == "json") return ProgressMode::Json;
    if (o.progress == "none") return ProgressMode::None;
    return ProgressMode::Auto;
}

namespace {

long mib(double bytes) { return static_cast<long>(bytes / 1048576); }

Switch switch_of(const std::string& value) {
    return value == "on" ? Switch::On : value == "off" ? Switch::Off : Switch::Auto;
}

}  // namespace

PlanRequest plan_request(int64_t height, int64_t width, const StylizeOptions& opt, const RunOptions& o) {
    PlanRequest r;
    r.content_height = height;
    r.content_width = width;
    r.options = opt;
    r.checkpoint = switch_of(o.checkpoint);
    r.tiles = o.tile == "auto" ? Switch::Auto : o.tile == "off" ? Switch::Off : Switch::On;
    r.options.tile = r.tiles == Switch::On ? std::stoi(o.tile) : 0;
    r.options.tile_halo = o.tile_halo == "exact" ? -1 : std::stoi(o.tile_halo);
    r.auto_shrink = o.auto_shrink;
    r.budget_bytes = o.memory_limit > 0 ? o.memory_limit : available_memory_bytes();
    const auto policy = o.memory_policy;
    r.idle_overhead = [policy](double need) { return policy_overhead_bytes(policy, need); };
    return r;
}

void fit_to_memory(const FeatureExtractor& model, int64_t height, int64_t width, StylizeOptions& opt,
                   const RunOptions& o) {
    const auto request = plan_request(height, width, opt, o);
    const auto p = plan_run(model, request);
    const auto need = p.need_bytes, have = p.budget_bytes;
    const std::string run = "a " + std::to_string(p.width) + "x" + std::to_string(p.height) + " run";
    if (p.checked)
        spdlog::debug("memory estimate {:.0f} MiB, available {:.0f} MiB{}", need / 1048576, have / 1048576,
                      p.tile > 0 ? " (tiled)" : "");
    switch (p.outcome) {
    case PlanOutcome::Fits: break;
    case PlanOutcome::Checkpointed:
        spdlog::info("{} needs about {:.0f} MiB, {:.0f} MiB are available: activation checkpointing on (about "
                     "{:.0f} MiB, slower)", run, need / 1048576, have / 1048576, p.planned_bytes / 1048576);
        break;
    case PlanOutcome::Tiled:
        spdlog::info("{} needs about {:.0f} MiB, {:.0f} MiB are available: exact tiles of {} px on (about {:.0f} "
                     "MiB, slower; --tile off to refuse instead)", run, need / 1048576, have / 1048576, p.tile,
                     p.planned_bytes / 1048576);
        break;
    case PlanOutcome::Shrunk:
        spdlog::warn("{} needs about {:.0f} MiB but {:.0f} MiB are available: --auto-shrink lowers --size to {}", run,
                     need / 1048576, have / 1048576, p.size);
        break;
    case PlanOutcome::Refused: {
        const std::string tiles = "--tile " + std::to_string(p.tile) + ": " + run + " in these tiles needs about " +
                                  std::to_string(mib(need)) + " MiB but " + std::to_string(mib(have)) +
                                  " MiB are available";
        if (p.refusal == Refusal::TileTooLarge)
            throw OutOfMemory(tiles + "; the largest tile that fits is --tile " + std::to_string(p.largest_tile), need,
                              have);
        if (p.refusal == Refusal::NoTileFits)
            throw OutOfMemory(tiles + ", too little even for the smallest tile; the smallest "
                                  "--memory-limit that works is about " + std::to_string(mib(p.smallest_budget) + 1) +
                                  " MiB (with --tile " + std::to_string(p.smallest_tile) +
                                  "; or lower --size or --lbfgs-history)", need, have);
        throw OutOfMemory("a " + std::to_string(p.width) + "x" + std::to_string(p.height) + " run needs about " +
                              std::to_string(mib(p.planned_bytes)) + " MiB but " + std::to_string(mib(have)) +
                              " MiB are available; the largest --size that fits is " + std::to_string(p.largest_size) +
                              " (or pass --auto-shrink, or lower --lbfgs-history" +
                              (p.why_not_tiled.empty() ? std::string() : "; tiles cannot help: " + p.why_not_tiled) +
                              ")", p.planned_bytes, have);
    }
    }
    opt = planned_options(request, p);
}

std::string targets_key(const JobSpec& job) {
    const auto& e = job.options.engine;
    std::string key;
    for (const auto& s : job.styles) key += s + "\x1f";
    key += job.options.style_blend + "|" + job.options.style_layers + "|" + std::to_string(e.style_scale) + "|" +
           to_string(e.color) + "|" + to_string(e.pooling) + "|" + to_string(e.style_loss);
    // Targets made by tiles differ by rounding (and with an inexact halo by
    // more): the tile a job runs with is part of the key.
    key += "|tile:" + std::to_string(e.tile) + ":" + std::to_string(e.tile_halo);
    // Region targets depend on the style masks, and a colour-coded map's
    // region order on the content map.
    for (const auto& m : mask_files(job.options)) key += "|mask:" + m;
    // Colour matching makes the targets depend on the content too.
    if (e.color == ColorMode::MatchMeanCov || e.color == ColorMode::MatchHistogram) key += "|" + job.content;
    return key;
}

std::vector<StyleImage> load_styles(const std::vector<std::string>& paths, const LoadOptions& lo) {
    std::vector<StyleImage> styles;
    for (const auto& s : paths) styles.push_back({load_image(s, lo).rgb, 1.0});
    return styles;
}

RuntimeFailure torch_failure(const c10::Error& e, const StylizeOptions& opt, const std::string& where) {
    const std::string what = e.what();
    if (what.find("out of memory") != std::string::npos)
        return RuntimeFailure("out of memory on " + opt.device + " " + where + "; lower --size (now " +
                              std::to_string(opt.size) + ") or --lbfgs-history");
    return RuntimeFailure("LibTorch failed " + where + ": " + what.substr(0, what.find('\n')));
}

std::vector<std::string> job_inputs(const JobSpec& job) {
    std::vector<std::string> inputs{job.content, job.options.init_image};
    inputs.insert(inputs.end(), job.styles.begin(), job.styles.end());
    for (const auto& m : mask_files(job.options)) inputs.push_back(m);
    return inputs;
}

void check_job_output(const JobSpec& job) { check_output_path(job.output, job_inputs(job), job.options.bit_depth); }

namespace {

// A job's images, loaded and checked against the pixel limit.
struct JobImages {
    LoadedImage content;
    std::vector<StyleImage> styles;
    torch::Tensor init;
    std::optional<SpatialControl> spatial;
};

JobImages load_job_images(const JobSpec& job, const RunOptions& o) {
    LoadOptions lo;
    lo.max_pixels = o.max_pixels;
    JobImages in;
    in.content = load_image(job.content, lo);
    in.styles = load_styles(job.styles, lo);
    if (!job.options.init_image.empty()) in.init = load_image(job.options.init_image, lo).rgb;
    in.spatial = load_spatial_control(job.options, in.content, job.styles, in.styles, lo);
    return in;
}

SaveOptions save_options(const JobOptions& o) {
    SaveOptions so;
    so.bit_depth = o.bit_depth;
    so.jpeg_quality = o.jpeg_quality;
    return so;
}

// What the run reports to: the progress printer, signals, the memory
// policy, and --save-every's intermediate images.
Hooks job_hooks(const JobSpec& job, ProgressPrinter& printer) {
    Hooks hooks;
    hooks.on_progress = [&printer](const Progress& p) { printer(p); };
    hooks.should_cancel = [] { return pending_signal() != 0; };
    hooks.before_evaluation = before_evaluation;
    if (job.options.save_every > 0) {
        hooks.intermediate_every = job.options.save_every;
        hooks.on_intermediate = [output = job.output, so = save_options(job.options)](const torch::Tensor& img,
                                                                                      int evaluation) {
            save_image(intermediate_path(output, evaluation), img, so);
        };
    }
    return hooks;
}

// What the run's end leaves: the image (and its sidecar), or the image so
// far at the partial path on a signal, or the last finite image and an error.
int write_job_result(FeatureExtractor& model, const JobSpec& job, const RunOptions& o, const torch::Tensor& alpha,
                     JobResult& out) {
    const auto& result = out.result;
    const auto so = save_options(job.options);
    switch (result.stop_reason) {
        case StopReason::Completed:
        case StopReason::Converged:
            // The sidecar first: a process killed between the two leaves no
            // output, so a resumed batch runs the job again and writes both.
            if (o.sidecar) write_provenance(job, model, result);
            save_image(job.output, result.image, so, alpha);
            if (result.stop_reason == StopReason::Converged)
                spdlog::info("stopped early after {} evaluations: {}", result.evaluations, result.stop_detail);
            spdlog::info("wrote {} ({}x{}, {} evaluations, {:.1f}s, loss {:.4g})", job.output, result.image.size(3),
                         result.image.size(2), result.evaluations, result.seconds, result.losses.total);
            out.status = "ok";
            return kOk;
        case StopReason::Cancelled: {
            const int sig = pending_signal();
            out.partial = partial_path(job.output);
            save_image(out.partial, result.image, so, alpha);
            spdlog::error("interrupted by {} after {} evaluations; wrote the current image to {}",
                          sig == SIGTERM ? "SIGTERM" : "SIGINT", result.evaluations, out.partial);
            out.status = "interrupted";
            return sig == SIGTERM ? kTerminated : kInterrupted;
        }
        case StopReason::NonFinite: {
            std::string kept;
            if (result.evaluations > 0) {
                out.partial = partial_path(job.output);
                save_image(out.partial, result.image, so, alpha);
                kept = "; wrote the last finite image to " + out.partial;
            }
            throw RuntimeFailure(result.stop_detail + kept +
                                 (job.options.engine.optimizer == OptimizerKind::Adam
                                      ? "; try a lower --learning-rate"
                                      : "; try lower loss weights or --optimizer adam"));
        }
    }
    return kInternal;
}

}  // namespace

int run_job(FeatureExtractor& model, JobSpec& job, const RunOptions& o, JobResult& out, TargetCache* cache) {
    auto& opt = job.options.engine;
    check_layers(model, opt);
    if (opt.pooling != model.config().pooling) {
        auto cfg = model.config();
        cfg.pooling = opt.pooling;
        model.configure(cfg);
    }
    const auto in = load_job_images(job, o);
    fit_to_memory(model, in.content.rgb.size(2), in.content.rgb.size(3), opt, o);
    if (opt.checkpoint && o.memory_policy == MemoryPolicy::System && return_freed_memory_promptly())
        spdlog::debug("checkpointing: freed memory goes back to the system at once (glibc mmap threshold 1 MiB)");
    keep_peak_low(opt.checkpoint);  // recycle: checkpointed runs keep no idle blocks

    ProgressPrinter printer(progress_mode(o), stderr, stdout, job.progress_prefix);
    const auto hooks = job_hooks(job, printer);
    try {
        std::vector<StyleTargets>* targets = cache ? &(*cache)[targets_key(job)] : nullptr;
        out.result = stylize::stylize(model, in.content.rgb, in.styles, opt, hooks, in.init, targets, nullptr,
                                      in.spatial ? &*in.spatial : nullptr);
    } catch (const c10::Error& e) {
        printer.finish();
        throw torch_failure(e, opt, "during the run");
    }
    printer.finish();
    release_idle_memory();

    torch::Tensor alpha = in.content.alpha;
    if (alpha.defined()) alpha = at::adaptive_avg_pool2d(alpha, {out.result.image.size(2), out.result.image.size(3)});
    return write_job_result(model, job, o, alpha, out);
}

void apply_threads(int threads) { set_thread_pools(threads); }

void check_process_options(const RunOptions& o) {
    if (o.max_pixels < 1) throw InvalidArgument("--max-pixels must be >= 1, got " + std::to_string(o.max_pixels));
    if (!std::isfinite(o.memory_limit) || o.memory_limit < 0)
        throw InvalidArgument("--memory-limit must be a number of bytes >= 0");
    check_setting(settings::threads, o.threads);
}

int run_command(RunOptions& o) {
    check_process_options(o);
    JobSpec job;
    job.content = o.content;
    job.styles = o.styles;
    job.output = o.output;
    job.options = o.job;
    // Everything that can be checked without the model fails fast, before loading it.
    finalize_job_options(job.options, job.styles.size());
    check_job_output(job);
    for (const auto& in : job_inputs(job))
        if (!in.empty()) check_image_file(in);
    apply_threads(o.threads);
    install_memory_policy(o.memory_policy);
    auto model = load_configured_model(o, {&job.options.engine});
    release_idle_memory();  // loading's temporaries
    install_signal_handlers();
    JobResult result;
    return run_job(model, job, o, result, nullptr);
}

}  // namespace stylize::cli
