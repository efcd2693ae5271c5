#include "commands/video_frames.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "exit_codes.hpp"
#include "stylize/errors.hpp"

namespace fs = std::filesystem;

namespace stylize::cli {

InputFrames open_input_frames(const VideoOptions& o) {
    LoadOptions lo;
    lo.max_pixels = o.run.max_pixels;
    InputFrames in;
    in.source = open_frames(o.input, lo);
    in.info = in.source->info();
    in.total = o.max_frames > 0 ? std::min(o.max_frames, in.info.frame_count) : in.info.frame_count;
    in.fps = o.fps > 0 ? o.fps : in.info.fps > 0 ? in.info.fps : 25.0;
    return in;
}

bool next_frame(const VideoOptions& o, InputFrames& in, int64_t index, torch::Tensor& frame) {
    return (o.max_frames == 0 || index < o.max_frames) && in.source->next(frame);
}

FrameOutput::FrameOutput(const VideoOptions& o, int64_t width, int64_t height, double fps)
    : skip_existing_(o.skip_existing), kind_(video_output_kind(o.output)), output_(o.output), extension_("." + o.frame_format) {
    so_.bit_depth = o.run.job.bit_depth;
    so_.jpeg_quality = o.run.job.jpeg_quality;
    if (kind_ == VideoOutputKind::Folder) {
        std::error_code ec;
        fs::create_directories(output_, ec);
        if (!fs::is_directory(output_, ec)) throw ImageError(output_ + ": cannot create the output folder");
        // Writable? (A failed write later would lose a frame's work.)
        write_file_atomically((fs::path(output_) / ".stylize-write-test").string(), "");
        fs::remove(fs::path(output_) / ".stylize-write-test", ec);
        // Half-written frames and states of a killed earlier run.
        remove_stale_temporaries(output_);
    } else {
        partial_ = partial_path(output_);
        writer_.emplace(partial_, fps, width, height);
    }
}

std::string FrameOutput::frame_file(int64_t index) const { return frame_path(output_, index, extension_); }

void FrameOutput::write(int64_t index, const torch::Tensor& image) {
    if (is_folder()) save_image(frame_file(index), image, so_);
    else writer_->write(image);
}

void FrameOutput::finish() {
    if (!writer_) return;
    writer_->close();
    std::error_code ec;
    fs::rename(partial_, output_, ec);
    if (ec) throw ImageError(output_ + ": cannot rename " + partial_ + " to it (" + ec.message() + ")");
}

std::string FrameOutput::abandon() {
    if (writer_) writer_->close();
    return is_folder() ? output_ : partial_;
}

bool FrameOutput::keeps(int64_t index) const {
    std::error_code ec;
    return skip_existing_ && fs::exists(frame_file(index), ec);
}

FrameReport::FrameReport(const std::string& path) {
    if (path.empty()) return;
    out_.open(path, std::ios::trunc);
    if (!out_) throw ImageError("--report " + path + ": cannot write");
}

Json FrameReport::line(const InputFrames& in, const FrameOutput& output, int64_t index) {
    return {{"frame", index + 1}, {"input", in.source->frame_name(index)}, {"output", output.where(index)}};
}

void FrameReport::write(const Json& line) {
    if (out_.is_open()) out_ << dump_json(line) << "\n" << std::flush;
}

int interrupted_after(int signal, FrameOutput& output, int64_t index, int64_t total, const std::string& hint) {
    const auto where = output.abandon();
    spdlog::error("interrupted by {} after frame {}/{}; the frames so far are in {}{}",
                  signal == SIGTERM ? "SIGTERM" : "SIGINT", index + 1, total, where, hint);
    return signal == SIGTERM ? kTerminated : kInterrupted;
}

void finish_frames(const VideoOptions& o, FrameOutput& output, int64_t frames) {
    if (frames == 0) throw ImageError(o.input + ": the video has no frames");
    output.finish();
}

}  // namespace stylize::cli
