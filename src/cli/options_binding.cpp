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

CLI::Option* add_setting_or_words(CLI::App& app, const Setting<int>& s, std::string& value,
                                  const std::vector<std::string>& words) {
    std::string listed;
    for (size_t i = 0; i < words.size(); ++i)
        listed += (i == 0 ? "" : ", ") + words[i];
    const auto range = std::to_string(s.min) + "-" + std::to_string(s.max);
    return app.add_option(s.flag, value, s.help)->check([s, words, listed, range](const std::string& v) {
        for (const auto& w : words)
            if (v == w) return std::string();
        try {
            size_t used = 0;
            const long n = std::stol(v, &used);
            if (used == v.size() && n >= s.min && n <= s.max) return std::string();
        } catch (const std::exception&) {
        }
        return std::string(s.flag) + ": " + v + " is not " + listed + " or a number of pixels (" + range + ")";
    });
}

void bind_loss_options(CLI::App& app, JobOptions& o) {
    auto& e = o.engine;
    const std::string loss = "Loss";
    add_setting(app, settings::content_weight, e.content_weight)->group(loss);
    add_setting(app, settings::style_weight, e.style_weight)->group(loss);
    add_setting(app, settings::tv_weight, e.tv_weight)->group(loss);
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
    add_setting(app, settings::iterations, e.iterations, "-n")->group(optim);
    add_choice(app, "--optimizer", e.optimizer, "L-BFGS (no line search, lr 1) or Adam",
               {{"lbfgs", OptimizerKind::LBFGS}, {"adam", OptimizerKind::Adam}})
        ->group(optim);
    add_setting(app, settings::lbfgs_history, e.lbfgs_history)->group(optim);
    add_setting(app, settings::learning_rate, e.learning_rate)->group(optim);
    add_setting(app, settings::ema_decay, e.ema_decay)->group(optim);
    add_setting(app, settings::early_stop, e.early_stop_tolerance)->group(optim);
    add_setting(app, settings::early_stop_window, e.early_stop_window)->group(optim);
    app.add_option("--seed", e.seed, "Random seed (noise init)")->capture_default_str()->group(optim);

    const std::string geom = "Size and initialisation";
    add_setting(app, settings::size, e.size, "-s")->group(geom);
    add_setting(app, settings::style_scale, e.style_scale)->group(geom);
    add_setting(app, settings::scales, e.scales)->group(geom);
    add_setting(app, settings::scale_factor, e.scale_factor)->group(geom);
    add_setting(app, settings::scale_iterations, e.scale_iterations)->group(geom);
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
    add_setting(app, settings::bit_depth, o.bit_depth)->group(out);
    add_setting(app, settings::jpeg_quality, o.jpeg_quality)->group(out);
    add_setting(app, settings::save_every, o.save_every)->group(out);
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
    add_setting(app, settings::threads, o.threads, "-j")->group(run);
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
    add_setting_or_words(app, settings::tile, o.tile, {"auto", "off"})->group(run);
    add_setting_or_words(app, settings::tile_halo, o.tile_halo, {"exact"})->group(run);
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
    e.style_blend = o.style_blend.empty() ? std::vector<double>{} : parse_number_list(o.style_blend, "--style-blend");
    check_style_count(e, style_count);
    if (!o.init_image.empty()) e.init = InitKind::Image;
    check_mask_options(o, style_count);
    check_setting(settings::bit_depth, o.bit_depth);
    e.output_bit_depth = o.bit_depth;  // the losses reported are the written file's
    check_setting(settings::jpeg_quality, o.jpeg_quality);
    check_setting(settings::save_every, o.save_every);
    validate(e);
}

}  // namespace stylize::cli
