#include "commands/video_command.hpp"

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>

#include <spdlog/spdlog.h>

#include "exit_codes.hpp"
#include "commands/fast_video.hpp"
#include "commands/video_frames.hpp"
#include "json_output.hpp"
#include "mask_inputs.hpp"
#include "memory_policy.hpp"
#include "progress_printer.hpp"
#include "provenance.hpp"
#include "signals.hpp"
#include "model/sha256.hpp"
#include "commands/video_state.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/temporal.hpp"
#include "stylize/video_io.hpp"

namespace fs = std::filesystem;

namespace stylize::cli {
namespace {

using Clock = std::chrono::steady_clock;


// Between two frames: the flows of the content frames, the reliable pixels,
// and the previous frame's state (its unclamped optimised image) warped onto
// the current one.
struct Transition {
    torch::Tensor backward, mask, warped;
};

Transition transition(OpticalFlow& flow, const torch::Tensor& previous_content, const torch::Tensor& content,
                      const torch::Tensor& previous_state, WarpInterpolation interpolation) {
    torch::NoGradGuard no_grad;
    const int64_t h = previous_state.size(2), w = previous_state.size(3);
    const auto prev = resize_image(previous_content, h, w).clamp(0, 1);
    const auto cur = resize_image(content, h, w).clamp(0, 1);
    Transition t;
    t.backward = flow.compute(cur, prev);
    t.mask = reliable_mask(t.backward, flow.compute(prev, cur));
    t.warped = warp_image(previous_state, t.backward, interpolation);
    return t;
}

// The output as written (rounded to the bit depth): what the warping error
// of the next frame compares with, whether the frame was written by this run
// or read back on resuming.
torch::Tensor as_written(const torch::Tensor& image, int bit_depth) { return quantise(image, bit_depth); }

std::string eta_text(double seconds) { return seconds < 0 ? "?" : format_duration(seconds); }

// What a saved state belongs to: the inputs, the model and every option that
// shapes the frames. A state left by another run is not used on resuming.
std::string run_key(const JobSpec& job, const FeatureExtractor& model, const VideoOptions& o) {
    auto record = provenance_record(job, model, nullptr);
    record["video"] = {{"temporal_weight", o.temporal_weight}, {"frame_iterations", o.frame_iterations},
                       {"frame_init", o.frame_init}, {"flow", to_string(o.flow)}, {"warp", to_string(o.warp)}};
    return detail::sha256_hex(dump_json(record));
}

Json losses_json(const LossTerms& l) {
    return {{"total", l.total}, {"content", l.content}, {"style", l.style}, {"tv", l.tv}, {"temporal", l.temporal}};
}

}  // namespace

void setup_video_command(CLI::App& app, VideoOptions& o) {
    app.add_option("input", o.input, "Video file, folder of frames, or glob (quoted)")->required();
    app.add_option("styles", o.styles,
                   "Style image(s); several are blended (see --style-blend). None with --fast-model");
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("-o,--output", o.output, "Output video (.avi .mp4 .mov .mkv) or folder of numbered frames")
        ->required();
    const std::string group = "Video";
    app.add_option("--temporal-weight", o.temporal_weight,
                   "Weight of the temporal loss against the warped previous frame (0 = off)")
        ->capture_default_str()->group(group);
    app.add_option("--frame-iterations", o.frame_iterations,
                   "Evaluations for each frame that starts from the warped previous frame")
        ->capture_default_str()->group(group);
    add_choice(app, "--frame-init", o.frame_init,
               "Frames after the first start from the warped previous frame, or from scratch as --init says",
               {"warped", "content"})->group(group);
    add_choice(app, "--flow", o.flow, "Optical flow of the content frames",
               {{"dis", FlowMethod::DIS}, {"farneback", FlowMethod::Farneback}})->group(group);
    add_choice(app, "--warp", o.warp, "How the previous frame is resampled along the flow",
               {{"bilinear", WarpInterpolation::Bilinear}, {"nearest", WarpInterpolation::Nearest}})->group(group);
    app.add_option("--fps", o.fps, "Output frame rate (0 = the input's; 25 for folders)")
        ->capture_default_str()->group(group);
    app.add_option("--max-frames", o.max_frames, "Stylize at most this many frames (0 = all)")
        ->capture_default_str()->group(group);
    add_choice(app, "--frame-format", o.frame_format, "Image format of folder outputs", {"png", "jpg"})->group(group);
    app.add_flag("--skip-existing", o.skip_existing,
                 "Folder outputs: keep frames already written and go on from them (resume)")->group(group);
    app.add_option("--report", o.report, "Write one JSON line per frame to this file")->group(group);
    app.add_option("--fast-model", o.fast_model,
                   "A network made by stylize train: each frame is one forward pass (fast mode) instead of an "
                   "optimisation; no temporal loss, so more flicker (docs/guides/fast-mode.md)")
        ->group(group);
    bind_job_options(app, o.run.job);
    bind_process_options(app, o.run);
}

void check_video_options(const VideoOptions& o) {
    check_process_options(o.run);
    if (!std::isfinite(o.temporal_weight) || o.temporal_weight < 0)
        throw InvalidArgument("--temporal-weight must be a finite number >= 0");
    if (o.frame_iterations < 1) throw InvalidArgument("--frame-iterations must be >= 1");
    if (!std::isfinite(o.fps) || o.fps < 0 || o.fps > 1000) throw InvalidArgument("--fps must be in [0, 1000]");
    if (o.max_frames < 0) throw InvalidArgument("--max-frames must be >= 0");
    const auto kind = video_output_kind(o.output);
    if (o.skip_existing && kind != VideoOutputKind::Folder)
        throw InvalidArgument("--skip-existing needs a folder output (numbered frames), not the video file " +
                              o.output);
    if (o.run.job.save_every > 0)
        throw InvalidArgument("--save-every is for single images; stylize video writes every frame as it finishes");
    if (o.run.job.bit_depth == 16 && (kind != VideoOutputKind::Folder || o.frame_format != "png"))
        throw InvalidArgument("--bit-depth 16 needs a folder output with --frame-format png");
    // Never write over the input, nor among the input frames.
    std::error_code ec;
    auto same = [&](const std::string& a, const std::string& b) {
        return fs::exists(a, ec) && fs::exists(b, ec) ? fs::equivalent(a, b, ec)
                                                      : fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
    };
    if (kind == VideoOutputKind::VideoFile && (same(o.input, o.output) || same(o.input, partial_path(o.output))))
        throw InvalidArgument("--output " + o.output + " would overwrite the input video; choose another name");
    if (kind == VideoOutputKind::Folder && (fs::is_directory(o.input, ec) || is_glob(o.input))) {
        const std::string input_folder =
            fs::is_directory(o.input, ec) ? o.input : fs::path(o.input).parent_path().string();
        if (same(input_folder.empty() ? "." : input_folder, o.output))
            throw InvalidArgument("--output " + o.output + " is the folder of the input frames; choose another folder");
    }
}

namespace {

// What a frame hands to the next: its content, its output as written, and
// its state (the unclamped optimised image).
struct FrameChain {
    torch::Tensor content, output, state;
};

// Frame `index` is already written (--skip-existing): the next frame needs
// its state, saved beside the frames; a folder without it (an older run,
// another tool) resumes from the written frame, close but not the same bytes.
void resume_from_written(const VideoOptions& o, const FrameOutput& output, int64_t index, const torch::Tensor& frame,
                         int64_t out_h, int64_t out_w, const std::string& key, const LoadOptions& lo,
                         FrameChain& chain) {
    std::error_code ec;
    chain.output = as_written(load_image(output.frame_file(index), lo).rgb, o.run.job.bit_depth);
    auto state = load_video_state(o.output, index, out_h, out_w, key);
    chain.state = state ? *state : chain.output;
    if (!state && o.max_frames != index + 1 && !fs::exists(output.frame_file(index + 1), ec))
        spdlog::warn("{}: no saved state of this run for it; going on from the written frame (close to, but not the "
                     "same bytes as, an uninterrupted run)", output.frame_file(index));
    if (chain.output.size(2) != out_h || chain.output.size(3) != out_w)
        throw ImageError(output.frame_file(index) + ": an existing frame of " + std::to_string(chain.output.size(3)) +
                         "x" + std::to_string(chain.output.size(2)) + ", but this run makes " + std::to_string(out_w) +
                         "x" + std::to_string(out_h) + "; remove the folder or drop --skip-existing");
    chain.content = frame;
}

// stylize() for one frame, with LibTorch's failures as the CLI's errors.
Result stylize_frame(FeatureExtractor& model, const torch::Tensor& frame, const std::vector<StyleImage>& styles,
                     const StylizeOptions& options, const Hooks& hooks, const torch::Tensor& init,
                     std::vector<StyleTargets>* cache, const TemporalGuide* guide, int64_t index) {
    try {
        return stylize::stylize(model, frame, styles, options, hooks, init, cache, guide);
    } catch (const c10::Error& e) {
        throw torch_failure(e, options, "on frame " + std::to_string(index + 1));
    }
}

// One provenance record for the whole video: the still-image options plus
// the video's own, next to the output (a folder: inside it).
void write_video_sidecar(const VideoOptions& o, const JobSpec& job, const FeatureExtractor& model,
                         const FrameOutput& output, int64_t frames, int stylized, int skipped, double fps) {
    auto record = provenance_record(job, model, nullptr);
    record["video"] = {{"frames", frames},       {"stylized", stylized},          {"kept", skipped},
                       {"fps", fps},             {"temporal_weight", o.temporal_weight},
                       {"frame_iterations", o.frame_iterations}, {"frame_init", o.frame_init},
                       {"flow", to_string(o.flow)}, {"warp", to_string(o.warp)}};
    const auto path = output.is_folder() ? (fs::path(o.output) / "stylize.json").string() : o.output + ".json";
    write_file_atomically(path, dump_json(record) + "\n");
}

// The still-image job a video's frames share, checked.
JobSpec video_job(const VideoOptions& o) {
    JobSpec job;
    job.content = o.input;
    job.styles = o.styles;
    job.output = o.output;
    job.options = o.run.job;
    finalize_job_options(job.options, job.styles.size());
    if (has_masks(job.options))
        throw InvalidArgument("--style-region, --content-mask and --style-mask are for still images: a fixed mask "
                              "does not follow the motion of a video");
    for (const auto& s : job.styles) check_image_file(s);
    if (!job.options.init_image.empty()) check_image_file(job.options.init_image);
    return job;
}

// Where a frame starts from: after the first, the previous frame's state
// warped onto this one (the temporal loss's target and, with warped init,
// the start: reliable pixels from the warped frame, the rest from this
// frame's content).
struct FrameStart {
    StylizeOptions options;
    std::optional<Transition> transition;
    TemporalGuide guide;
    torch::Tensor init;
};

FrameStart frame_start(const VideoOptions& o, const StylizeOptions& opt, OpticalFlow& flow, const FrameChain& chain,
                       const torch::Tensor& frame, const torch::Tensor& init_file, int64_t out_h, int64_t out_w,
                       Json& line) {
    FrameStart f{opt, std::nullopt, {}, init_file};
    if (!chain.state.defined()) return f;
    const auto flow_start = Clock::now();
    f.transition = transition(flow, chain.content, frame, chain.state, o.warp);
    line["flow_seconds"] = seconds_since(flow_start);
    f.guide = {f.transition->warped, f.transition->mask, o.temporal_weight};
    if (o.frame_init == "warped") {
        const auto cur = resize_image(frame, out_h, out_w).clamp(0, 1);
        f.init = f.transition->mask * f.transition->warped + (1 - f.transition->mask) * cur;
        f.options.init = InitKind::Image;
        f.options.scales = 1;
        f.options.iterations = o.frame_iterations;
    }
    return f;
}

// The whole video's ETA from the frames done so far: the first frame
// (more evaluations, or the same) and the later ones.
struct VideoEta {
    double first_seconds = -1, later_seconds = 0;
    int later_frames = 0;
    void add(double seconds) {
        if (first_seconds < 0) first_seconds = seconds;
        else later_seconds += seconds, ++later_frames;
    }
    // "[frame 3/24, ETA 5m10s] "
    std::string prefix(int64_t index, int64_t total, double later_ratio) const {
        double eta = -1;
        const int64_t left = std::max<int64_t>(1, total - index);
        if (later_frames > 0) eta = left * later_seconds / later_frames;
        else if (first_seconds > 0) eta = left * first_seconds * later_ratio;
        char text[96];
        std::snprintf(text, sizeof text, "[frame %lld/%lld, ETA %s] ", static_cast<long long>(index + 1),
                      static_cast<long long>(std::max(total, index + 1)), eta_text(eta).c_str());
        return text;
    }
};

// The end of a run: what was read against what the container said, and
// where the audio went.
void report_video_end(const VideoOptions& o, const VideoInfo& info, const FrameOutput& output, int64_t frames,
                      int stylized, int skipped, int64_t out_w, int64_t out_h, double fps, double seconds) {
    if (info.video_file && o.max_frames == 0 && frames < info.frame_count * 9 / 10)
        spdlog::warn("{}: read {} frames but the container says {}; the video may be truncated or damaged", o.input,
                     frames, info.frame_count);
    spdlog::info("wrote {} ({} frame(s): {} stylized, {} kept; {}x{}, {:g} fps, {})", o.output, frames, stylized,
                 skipped, out_w, out_h, fps, format_duration(seconds));
    if (info.video_file && !output.is_folder())
        spdlog::info("the audio is not carried over (OpenCV cannot); to copy it from the input: "
                     "ffmpeg -i '{}' -i '{}' -map 0:v -map 1:a? -c:v copy -shortest '{}'",
                     o.output, o.input, fs::path(o.output).replace_extension(".audio.mp4").string());
}

}  // namespace

// Longer than most functions here: it is the order of the steps above (set
// up, then per frame: resume or start, stylize, write, report, interrupt),
// which reads best in one place.
int video_command(VideoOptions& o) {
    check_video_options(o);
    if (!o.fast_model.empty()) return fast_video(o);
    if (o.styles.empty()) throw InvalidArgument("styles is required: stylize video INPUT STYLE... (or --fast-model NET)");
    JobSpec job = video_job(o);

    LoadOptions lo;  // styles, init image, frames read back on resuming
    lo.max_pixels = o.run.max_pixels;
    auto input = open_input_frames(o);
    const auto& info = input.info;
    const int64_t total = input.total;
    const double fps = input.fps;
    auto& opt = job.options.engine;

    apply_threads(o.run.threads);
    install_memory_policy(o.run.memory_policy);
    auto model = load_configured_model(o.run, {&opt});
    release_idle_memory();
    install_signal_handlers();
    check_layers(model, opt);
    fit_to_memory(model, info.height, info.width, opt, o.run);  // every frame has the first one's size
    keep_peak_low(opt.checkpoint);
    const auto [out_h, out_w] = output_size(info.height, info.width, opt.size);
    FrameOutput output(o, out_w, out_h, fps);

    const auto styles = load_styles(job.styles, lo);
    torch::Tensor init_file;
    if (!job.options.init_image.empty()) init_file = load_image(job.options.init_image, lo).rgb;

    FrameReport report(o.report);

    // Style targets are the same for every frame, unless colour matching
    // makes them depend on each frame's content.
    std::vector<StyleTargets> style_cache;
    const bool cache_targets = opt.color != ColorMode::MatchMeanCov && opt.color != ColorMode::MatchHistogram;
    auto flow = make_optical_flow(o.flow);
    const std::string key = run_key(job, model, o);
    const bool warped_init = o.frame_init == "warped";
    spdlog::info("video: {} frame(s) of {}x{} -> {}x{} at {:g} fps, temporal weight {:g}, {} evaluations per later "
                 "frame, flow {}, warp {}",
                 total, info.width, info.height, out_w, out_h, fps, o.temporal_weight,
                 warped_init ? o.frame_iterations : opt.iterations, to_string(o.flow), to_string(o.warp));

    torch::Tensor frame;
    FrameChain chain;
    const auto start = Clock::now();
    VideoEta eta;
    int stylized = 0, skipped = 0;
    int64_t index = 0;
    for (; next_frame(o, input, index, frame); ++index) {
        auto line = FrameReport::line(input, output, index);
        if (output.keeps(index)) {
            resume_from_written(o, output, index, frame, out_h, out_w, key, lo, chain);
            ++skipped;
            line["status"] = "skipped";
            report.write(line);
            continue;
        }

        auto start_point = frame_start(o, opt, *flow, chain, frame, init_file, out_h, out_w, line);
        const auto& tr = start_point.transition;
        const double later_ratio = warped_init ? static_cast<double>(o.frame_iterations) / opt.iterations : 1.0;
        ProgressPrinter printer(progress_mode(o.run), stderr, stdout, eta.prefix(index, total, later_ratio));
        Hooks hooks;  // no should_cancel: SIGINT finishes the current frame
        hooks.on_progress = [&](const Progress& p) { printer(p); };
        hooks.before_evaluation = before_evaluation;

        const auto frame_began = Clock::now();
        Result result;
        try {
            result = stylize_frame(model, frame, styles, start_point.options, hooks, start_point.init,
                                   cache_targets ? &style_cache : nullptr,
                                   tr && o.temporal_weight > 0 ? &start_point.guide : nullptr, index);
        } catch (...) {
            printer.finish();
            throw;
        }
        printer.finish();
        release_idle_memory();
        if (result.stop_reason == StopReason::NonFinite)
            throw RuntimeFailure("frame " + std::to_string(index + 1) + ": " + result.stop_detail +
                                 "; try a lower --temporal-weight or --style-weight");
        // The state first: a frame on disk always has its state (a kill in
        // between leaves a state without its frame, which is redone).
        if (output.is_folder()) save_video_state(o.output, index, result.state, key);
        output.write(index, result.image);
        const double secs = seconds_since(frame_began);
        eta.add(secs);
        ++stylized;

        line["status"] = "ok";
        line["evaluations"] = result.evaluations;
        line["seconds"] = secs;
        line["losses"] = losses_json(result.losses);
        if (tr) {
            line["warping_error"] =
                warping_error(as_written(result.image, o.run.job.bit_depth), chain.output, tr->backward, tr->mask);
            line["reliable_fraction"] = tr->mask.mean().item<double>();
        }
        report.write(line);
        spdlog::debug("frame {}/{}: {:.1f}s, loss {:.4g}", index + 1, total, secs, result.losses.total);

        chain = {frame, as_written(result.image, o.run.job.bit_depth), result.state};
        const bool last = (o.max_frames > 0 && index + 1 >= o.max_frames) ||
                          (!info.video_file && index + 1 >= info.frame_count);
        if (const int sig = pending_signal(); sig && !last)
            return interrupted_after(sig, output, index, total,
                                     output.is_folder() ? " (rerun with --skip-existing to go on)" : " (playable)");
    }
    finish_frames(o, output, index);
    if (o.run.sidecar) write_video_sidecar(o, job, model, output, index, stylized, skipped, fps);
    report_video_end(o, info, output, index, stylized, skipped, out_w, out_h, fps, seconds_since(start));
    return kOk;
}

}  // namespace stylize::cli
