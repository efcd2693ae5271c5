#include "options_binding.hpp"

#include "mask_inputs.hpp"
#include "stylize/errors.hpp"

namespace stylize::cli {

CLI::Option* add_choice(CLI::App& app, const std::string& name, std::string& value, const std::string& description,
                        const std::vector<std::string>& choices) {
    std::vector<std::pair<std::string, std::string>> same;
    for (const auto& c : choices) same.emplace_back(c, c);
    return add_choice(app, name, value, description, same);
}

void bind_loss_options(CLI::App& app, JobOptions& o) {
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
    add_choice(app, "--style-loss", e.style_loss,
               "How style layers are compared. gram: Gram matrices; mean-cov: mean and covariance of the features; "
               "sliced-wasserstein: sorted random projections of the features (Heitz et al. 2021); histogram: the "
               "Gram term plus per-channel histograms (Risser et al. 2017). See docs/guides/styles-and-masks.md",
               {{"gram", StyleLossKind::Gram},
                {"mean-cov", StyleLossKind::MeanCov},
                {"sliced-wasserstein", StyleLossKind::SlicedWasserstein},
                {"histogram", StyleLossKind::Histogram}})
        ->group(loss);
    add_choice(app, "--pooling", e.pooling, "Pooling layers", {{"max", Pooling::Max}, {"avg", Pooling::Avg}})
        ->group(loss);
}

void bind_job_options(CLI::App& app, JobOptions& o) {
    auto& e = o.engine;
    bind_loss_options(app, o);

    const std::string optim = "Optimisation";
    app.add_option("-n,--iterations", e.iterations, "Loss evaluations (at the final scale)")
        ->capture_default_str()->group(optim);
    add_choice(app, "--optimizer", e.optimizer, "L-BFGS (no line search, lr 1) or Adam",
               {{"lbfgs", OptimizerKind::LBFGS}, {"adam", OptimizerKind::Adam}})
        ->group(optim);
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
    add_choice(app, "--init", e.init, "Start image: the content, or uniform noise from --seed (--init-image sets a file)",
               {{"content", InitKind::Content}, {"noise", InitKind::Noise}})
        ->group(geom);
    app.add_option("--init-image", o.init_image, "Start from this image")->group(geom);
    add_choice(app, "--colors", e.color,
               "style: take the style's colours; luminance: transfer on luminance and keep the content's colours; "
               "match: recolour the style to the content's mean/covariance first; "
               "histogram: recolour the style by per-channel histogram matching first",
               {{"style", ColorMode::Style},
                {"luminance", ColorMode::Luminance},
                {"match", ColorMode::MatchMeanCov},
                {"histogram", ColorMode::MatchHistogram}})
        ->group(geom);

    const std::string spatial = "Spatial control";
    app.add_option("--style-region", o.style_regions,
                   "Where each style applies: one grayscale mask over the content per style image, in their order "
                   "(white = this style); repeat the option. Pixels no mask covers keep the content")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->group(spatial);
    app.add_option("--content-mask", o.content_mask,
                   "Colour-coded map of the content's regions (flat colours); needs one --style-mask per style")
        ->group(spatial);
    app.add_option("--style-mask", o.style_masks,
                   "Colour-coded map of a style image's regions, one per style image in their order: each region of "
                   "the output takes its style only from the same colour in the style images")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->group(spatial);

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
    add_choice(app, "--precision", o.job.engine.precision,
               "Convolution precision (Gram matrices, losses, image and optimiser state stay fp32; tf32 needs CUDA)",
               {{"fp32", Precision::FP32}, {"tf32", Precision::TF32}, {"bf16", Precision::BF16}})
        ->group(run);
    app.add_option("-j,--threads", o.threads, "CPU threads (0 = all cores)")->capture_default_str()->group(run);
    app.add_option("--max-pixels", o.max_pixels, "Refuse input images with more pixels than this")
        ->capture_default_str()->group(run);
    app.add_option("--memory-limit", o.memory_limit,
                   "Memory the run may use, in bytes (default: what the system has available)")->group(run);
    add_choice(app, "--layout", o.layout,
               "Activation memory format; auto = channels-last for layers up to 128 channels, NCHW above",
               {{"auto", Layout::Auto}, {"contiguous", Layout::Contiguous}, {"channels-last", Layout::ChannelsLast}})
        ->group(run);
    add_choice(app, "--conv-algorithm", o.conv_algorithm,
               "3x3 convolutions on the CPU. winograd: oneDNN's Winograd F(4x4,3x3) kernels, about 1.8x faster "
               "per evaluation than direct (needs fp32, an AVX-512 CPU and a build with oneDNN; results differ "
               "from direct by rounding). direct: ATen's convolutions. auto = winograd where it can run",
               {{"auto", ConvAlgorithm::Auto}, {"winograd", ConvAlgorithm::Winograd}, {"direct", ConvAlgorithm::Direct}})
        ->group(run);
    app.add_flag("--reproducible", o.reproducible,
                 "The same bytes on every x86-64 CPU with AVX2: pins ATen, oneDNN and OpenBLAS to their AVX2 "
                 "kernels and uses direct convolutions (slower; see docs/guides/batch-and-ci.md)")
        ->group(run);
    add_choice(app, "--memory-policy", o.memory_policy,
               "Large blocks of memory. recycle: freed blocks stay mapped and the next evaluation reuses them "
               "(no page faults after the first). system: glibc's default, which unmaps large blocks on free",
               {{"recycle", MemoryPolicy::Recycle}, {"system", MemoryPolicy::System}})
        ->group(run);
    add_choice(app, "--checkpoint", o.checkpoint,
               "Activation checkpointing: keep only the inputs of the early pooling blocks and recompute them in "
               "the backward pass. on: lower peak memory (at 512 px 0.83 GB instead of 1.1) for about 1.5x the time. "
               "auto: on only when the run would not fit in memory otherwise",
               {"auto", "on", "off"})
        ->group(run);
    app.add_option("--tile", o.tile,
                   "Exact tiled evaluation for images larger than memory allows: N = tiles of N pixels (rounded "
                   "down to a multiple of 16), auto = the largest tile that fits, only when the run would not fit "
                   "otherwise (after --checkpoint auto), off = never. Same result as untiled up to rounding. "
                   "Default: auto")
        ->check([](const std::string& v) {
            if (v == "auto" || v == "off") return std::string();
            try {
                size_t used = 0;
                const long n = std::stol(v, &used);
                if (used == v.size() && n >= 1 && n <= 16384) return std::string();
            } catch (const std::exception&) {
            }
            return "--tile: " + v + " is not auto, off or a number of pixels (1-16384)";
        })
        ->group(run);
    app.add_option("--tile-halo", o.tile_halo,
                   "Pixels of context around each tile. exact = the receptive field of the deepest layer used (96 "
                   "for VGG19 up to relu5_1); smaller is faster but no longer exact (docs/guides/tiles-and-memory.md). Default: exact")
        ->check([](const std::string& v) {
            if (v == "exact") return std::string();
            try {
                size_t used = 0;
                const long n = std::stol(v, &used);
                if (used == v.size() && n >= 0 && n <= 16384) return std::string();
            } catch (const std::exception&) {
            }
            return "--tile-halo: " + v + " is not exact or a number of pixels (0-16384)";
        })
        ->group(run);
    app.add_flag("--sidecar", o.sidecar, "Write OUTPUT.json next to each output: parameters, seed, model hash, "
                 "tool and LibTorch versions, losses")->group("Output");
    app.add_flag("--auto-shrink", o.auto_shrink,
                 "If the run would not fit in memory, lower --size until it does")->group(run);

    const std::string log = "Messages";
    add_choice(app, "--progress", o.progress,
               "auto: a live line on a terminal, log lines otherwise; json: one object per evaluation on stdout",
               {"auto", "line", "log", "json", "none"})
        ->group(log);
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
    check_mask_options(o, style_count);
    if (o.bit_depth != 8 && o.bit_depth != 16)
        throw InvalidArgument("--bit-depth must be 8 or 16, got " + std::to_string(o.bit_depth));
    e.output_bit_depth = o.bit_depth;  // the losses reported are the written file's
    if (o.jpeg_quality < 1 || o.jpeg_quality > 100)
        throw InvalidArgument("--jpeg-quality must be between 1 and 100, got " + std::to_string(o.jpeg_quality));
    if (o.save_every < 0) throw InvalidArgument("--save-every must be >= 0, got " + std::to_string(o.save_every));
    validate(e);
}

}  // namespace stylize::cli
