#include "commands/fast_video.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "exit_codes.hpp"
#include "commands/video_frames.hpp"
#include "json_output.hpp"
#include "memory_policy.hpp"
#include "progress_printer.hpp"
#include "signals.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/transform_net.hpp"
#include "stylize/video_io.hpp"

namespace stylize::cli {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

int fast_video(VideoOptions& o) {
    if (!o.styles.empty())
        throw InvalidArgument("--fast-model " + o.fast_model + " carries its style; give no style images with it");
    auto opt = o.run.job.engine;
    if (opt.size != 0 && opt.size < kTransformNetMinSide)
        throw InvalidArgument("--size must be 0 or at least " + std::to_string(kTransformNetMinSide));
    auto input = open_input_frames(o);
    const auto& info = input.info;
    const int64_t total = input.total;
    const double fps = input.fps;
    apply_threads(o.run.threads);
    install_memory_policy(o.run.memory_policy);
    auto net = TransformNet::load(o.fast_model);
    const auto device = resolve_device(opt.device);
    net.to(device);
    // As `stylize apply --precision auto` (--precision here is the optimisation's).
    net.set_precision(fast_apply_precision(device));
    install_signal_handlers();
    const auto [out_h, out_w] = output_size(info.height, info.width, opt.size);
    FrameOutput output(o, out_w, out_h, fps);
    FrameReport report(o.report);
    spdlog::info("video: {} frame(s) of {}x{} -> {}x{} at {:g} fps, fast mode ({})", total, info.width, info.height,
                 out_w, out_h, fps, o.fast_model);
    const auto start = Clock::now();
    torch::Tensor frame;
    int64_t index = 0;
    int skipped = 0;
    for (; next_frame(o, input, index, frame); ++index) {
        auto line = FrameReport::line(input, output, index);
        if (output.keeps(index)) {
            ++skipped;
            line["status"] = "skipped";
        } else {
            const auto t0 = Clock::now();
            output.write(index, net.stylize(resize_image(frame, out_h, out_w).clamp(0, 1)));
            line["status"] = "ok";
            line["seconds"] = seconds_since(t0);
        }
        report.write(line);
        if ((index + 1) % 10 == 0)
            spdlog::info("video: frame {}/{}, ETA {}", index + 1, total,
                         format_duration(seconds_since(start) / static_cast<double>(index + 1 - skipped + 1e-9) *
                                         static_cast<double>(std::max<int64_t>(0, total - index - 1))));
        if (const int sig = pending_signal()) return interrupted_after(sig, output, index, total, "");
    }
    finish_frames(o, output, index);
    spdlog::info("wrote {} ({} frame(s), {} kept; {}x{}, {:g} fps, fast mode, {})", o.output, index, skipped, out_w,
                 out_h, fps, format_duration(seconds_since(start)));
    return kOk;
}

}  // namespace stylize::cli
