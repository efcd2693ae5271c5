#include "options_binding.hpp"

#include <map>

#include "stylize/errors.hpp"

namespace stylize::cli {

void bind_job_options(CLI::App& app, JobOptions& o) {
    auto& e = o.engine;
    const std::string loss = "Loss";
    app.add_option("--content-weight", e.content_weight, "Weight of the content loss")
        ->capture_default_str()->group(loss);
    app.add_option("--style-weight", e.style_weight, "Weight of the style loss")
        ->capture_default_str()->group(loss);
    app.add_option("--tv-weight", e.tv_weight, "Weight of the total-variation (smoothness) loss")
        ->capture_default_str()->group(loss);
    app.add_option("--content-layers", o.content_layers, "Content layers, NAME[:WEIGHT],...")
        ->capture_default_str()->group(loss);
    app.add_option("--style-layers", o.style_layers, "Style layers, NAME[:WEIGHT],... (weights normalised)")
        ->capture_default_str()->group(loss);
    app.add_option("--style-blend", o.style_blend, "Blend weights of the style images, W1,W2,... (normalised)")
        ->group(loss);
    app.add_flag("--normalize-gradients", e.normalize_gradients,
                 "Divide each loss layer's gradient by its L1 norm")->group(loss);
    app.add_option("--pooling", e.pooling, "Pooling layers: max|avg")
        ->transform(CLI::CheckedTransformer(std::map<std::string, Pooling>{{"max", Pooling::Max}, {"avg", Pooling::Avg}},
                                            CLI::ignore_case))
        ->default_str("max")->group(loss);

    const std::string optim = "Optimisation";
    app.add_option("-n,--iterations", e.iterations, "Loss evaluations (at the final scale)")
        ->capture_default_str()->group(optim);
    app.add_option("--optimizer", e.optimizer, "lbfgs|adam")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, OptimizerKind>{{"lbfgs", OptimizerKind::LBFGS}, {"adam", OptimizerKind::Adam}},
            CLI::ignore_case))
        ->default_str("lbfgs")->group(optim);
    app.add_option("--lbfgs-history", e.lbfgs_history, "L-BFGS correction pairs kept")
        ->capture_default_str()->group(optim);
    app.add_option("--learning-rate", e.learning_rate, "Adam step size (image in [0,1])")
        ->capture_default_str()->group(optim);
    app.add_option("--ema-decay", e.ema_decay, "Adam iterate averaging decay, e.g. 0.99 (0 = off)")
        ->capture_default_str()->group(optim);
    app.add_option("--early-stop", e.early_stop_tolerance,
                   "Stop when the loss improves by less than this fraction over the window (0 = off)")
        ->capture_default_str()->group(optim);
    app.add_option("--early-stop-window", e.early_stop_window, "Evaluations the early-stop test looks back")
        ->capture_default_str()->group(optim);
    app.add_option("--seed", e.seed, "Random seed (noise init)")->capture_default_str()->group(optim);

    const std::string geom = "Size and initialisation";
    app.add_option("-s,--size", e.size, "Long side of the output in pixels (0 = content's size)")
        ->capture_default_str()->group(geom);
    app.add_option("--style-scale", e.style_scale, "Style image size relative to the output")
        ->capture_default_str()->group(geom);
    app.add_option("--scales", e.scales, "Coarse-to-fine scales (1 = single scale)")
        ->capture_default_str()->group(geom);
    app.add_option("--scale-factor", e.scale_factor, "Size ratio between scales")
        ->capture_default_str()->group(geom);
    app.add_option("--scale-iterations", e.scale_iterations, "Evaluations at each scale before the last")
        ->capture_default_str()->group(geom);
    app.add_option("--init", e.init, "Start from: content|noise (--init-image sets a file)")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, InitKind>{{"content", InitKind::Content}, {"noise", InitKind::Noise}},
            CLI::ignore_case))
        ->default_str("content")->group(geom);
    app.add_option("--init-image", o.init_image, "Start from this image")->group(geom);
    app.add_option("--colors", e.color,
                   "style: take the style's colours; luminance: keep the content's colours; "
                   "match: recolour the style to the content's mean/covariance first; "
                   "histogram: likewise by histogram")
        ->transform(CLI::CheckedTransformer(std::map<std::string, ColorMode>{{"style", ColorMode::Style},
                                                                              {"luminance", ColorMode::Luminance},
                                                                              {"match", ColorMode::MatchMeanCov},
                                                                              {"histogram", ColorMode::MatchHistogram}},
                                            CLI::ignore_case))
        ->default_str("style")->group(geom);

    const std::string out = "Output";
    app.add_option("--bit-depth", o.bit_depth, "8, or 16 for .png/.tif")->capture_default_str()->group(out);
    app.add_option("--jpeg-quality", o.jpeg_quality, "JPEG quality 1-100")->capture_default_str()->group(out);
    app.add_option("--save-every", o.save_every, "Also write the image every N evaluations (0 = never)")
        ->capture_default_str()->group(out);
}

void bind_process_options(CLI::App& app, RunOptions& o) {
    const std::string run = "Model and device";
    app.add_option("-m,--model", o.model,
                   "TorchScript VGG19 file (default: $STYLIZE_MODEL, then the install folder, then models/)")
        ->group(run);
    app.add_option("--device", o.job.engine.device, "auto|cpu|cuda|cuda:N")->capture_default_str()->group(run);
    app.add_option("--precision", o.job.engine.precision,
                   "Convolution precision fp32|tf32|bf16 (losses, image and optimiser stay fp32)")
        ->transform(CLI::CheckedTransformer(std::map<std::string, Precision>{{"fp32", Precision::FP32},
                                                                              {"tf32", Precision::TF32},
                                                                              {"bf16", Precision::BF16}},
                                            CLI::ignore_case))
        ->default_str("fp32")->group(run);
    app.add_option("-j,--threads", o.threads, "CPU threads (0 = all cores)")->capture_default_str()->group(run);
    app.add_option("--max-pixels", o.max_pixels, "Refuse input images with more pixels than this")
        ->capture_default_str()->group(run);
    app.add_option("--memory-limit", o.memory_limit,
                   "Memory the run may use, in bytes (default: what the system has available)")->group(run);
    app.add_option("--layout", o.layout,
                   "Activation memory format: auto (channels-last up to 128 channels, NCHW above)|channels-last|contiguous")
        ->transform(CLI::CheckedTransformer(std::map<std::string, Layout>{{"auto", Layout::Auto},
                                                                           {"channels-last", Layout::ChannelsLast},
                                                                           {"contiguous", Layout::Contiguous}},
                                            CLI::ignore_case))
        ->default_str("auto")->group(run);
    app.add_option("--conv-algorithm", o.conv_algorithm,
                   "3x3 convolutions on the CPU: auto (winograd where it can run)|winograd (oneDNN Winograd "
                   "F(4x4,3x3), about 2x faster per layer; fp32, AVX-512)|direct")
        ->transform(CLI::CheckedTransformer(std::map<std::string, ConvAlgorithm>{{"auto", ConvAlgorithm::Auto},
                                                                                  {"direct", ConvAlgorithm::Direct},
                                                                                  {"winograd", ConvAlgorithm::Winograd}},
                                            CLI::ignore_case))
        ->default_str("auto")->group(run);
    app.add_option("--memory-policy", o.memory_policy,
                   "Large blocks of memory: recycle (keep freed blocks mapped and reuse them in the next "
                   "evaluation; fastest)|system (glibc's default: unmapped on free, faulted in again)")
        ->transform(CLI::CheckedTransformer(std::map<std::string, MemoryPolicy>{{"recycle", MemoryPolicy::Recycle},
                                                                                 {"system", MemoryPolicy::System}},
                                            CLI::ignore_case))
        ->default_str("recycle")->group(run);
    app.add_option("--checkpoint", o.checkpoint,
                   "Activation checkpointing: recompute each pooling block in the backward pass instead of "
                   "keeping its activations (about 3x less memory, about 1.3x the time). auto: only when the "
                   "run would not fit in memory otherwise")
        ->check(CLI::IsMember({"off", "on", "auto"}))->capture_default_str()->group(run);
    app.add_flag("--sidecar", o.sidecar, "Write OUTPUT.json next to each output: parameters, seed, model hash, "
                 "versions")->group("Output");
    app.add_flag("--auto-shrink", o.auto_shrink,
                 "If the run would not fit in memory, lower --size until it does")->group(run);

    const std::string log = "Messages";
    app.add_option("--progress", o.progress, "auto|line|log|json|none (json: one object per evaluation on stdout)")
        ->check(CLI::IsMember({"auto", "line", "log", "json", "none"}))
        ->capture_default_str()->group(log);
    app.add_flag("-q,--quiet", o.quiet, "No progress or info messages (warnings and errors only)")->group(log);
    app.add_flag("-v,--verbose", o.verbose, "More detail: model, layers, timings")->group(log);
}

void finalize_job_options(JobOptions& o, size_t style_count) {
    auto& e = o.engine;
    e.content_layers = o.content_layers.empty() ? std::vector<WeightedLayer>{}
                                                : parse_layer_list(o.content_layers, "--content-layers");
    e.style_layers = parse_layer_list(o.style_layers, "--style-layers");
    e.style_blend.clear();
    if (!o.style_blend.empty()) {
        e.style_blend = parse_number_list(o.style_blend, "--style-blend");
        if (e.style_blend.size() != style_count)
            throw InvalidArgument("--style-blend has " + std::to_string(e.style_blend.size()) + " weights for " +
                                  std::to_string(style_count) + " style images");
    }
    if (!o.init_image.empty()) e.init = InitKind::Image;
    if (o.bit_depth != 8 && o.bit_depth != 16)
        throw InvalidArgument("--bit-depth must be 8 or 16, got " + std::to_string(o.bit_depth));
    if (o.jpeg_quality < 1 || o.jpeg_quality > 100)
        throw InvalidArgument("--jpeg-quality must be between 1 and 100, got " + std::to_string(o.jpeg_quality));
    if (o.save_every < 0) throw InvalidArgument("--save-every must be >= 0, got " + std::to_string(o.save_every));
    validate(e);
}

}  // namespace stylize::cli
