#pragma once
// The frames of `stylize video`, in and out. In: the input opened with the
// run's pixel limit, its frame count and rate as the options settle them.
// Out: numbered images in a folder, or a video file written under its
// .partial name and renamed when the last frame is in (so an interrupted run
// never leaves a file that looks finished).
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <torch/types.h>

#include "json_output.hpp"
#include "stylize/image_io.hpp"
#include "stylize/video_io.hpp"
#include "commands/run_command.hpp"
#include "commands/video_command.hpp"

namespace stylize::cli {

struct InputFrames {
    std::unique_ptr<FrameSource> source;
    VideoInfo info;
    int64_t total = 0;  ///< frames to stylize (--max-frames applied)
    double fps = 25;    ///< of the output: --fps, else the input's, else 25
};

/// Opens o.input; throws ImageError naming it.
InputFrames open_input_frames(const VideoOptions& o);

/// Reads frame `index` into `frame`; false after the last (--max-frames, or
/// the end of the input: the container's frame count can be approximate).
bool next_frame(const VideoOptions& o, InputFrames& in, int64_t index, torch::Tensor& frame);

class FrameOutput {
public:
    /// Creates the folder (checking it is writable) or opens the video file.
    FrameOutput(const VideoOptions& o, int64_t width, int64_t height, double fps);

    bool is_folder() const { return kind_ == VideoOutputKind::Folder; }
    std::string frame_file(int64_t index) const;
    /// Where frame `index` is recorded (for the report).
    std::string where(int64_t index) const { return is_folder() ? frame_file(index) : output_; }

    void write(int64_t index, const torch::Tensor& image);
    /// The video file under its final name (folders: nothing to do).
    void finish();
    /// Closes a video file left at its .partial name (playable: the frames so
    /// far); returns where the frames are.
    std::string abandon();

    /// --skip-existing and frame `index` is already written (resume).
    bool keeps(int64_t index) const;

private:
    bool skip_existing_;
    VideoOutputKind kind_;
    std::string output_, extension_, partial_;
    SaveOptions so_;
    std::optional<VideoWriter> writer_;
};

/// --report: one JSON line per frame, flushed as each frame ends.
class FrameReport {
public:
    /// Opens (truncates) `path`; "" = no report. Throws ImageError.
    explicit FrameReport(const std::string& path);
    /// {"frame": index + 1, "input": ..., "output": ...}: the start of frame `index`'s line.
    static Json line(const InputFrames& in, const FrameOutput& output, int64_t index);
    void write(const Json& line);

private:
    std::ofstream out_;
};

/// After a signal: closes the output, logs where the frames so far are
/// (with `hint`) and returns the exit code.
int interrupted_after(int signal, FrameOutput& output, int64_t index, int64_t total, const std::string& hint);

/// After the last frame: refuses an input without frames, then puts the
/// output under its final name.
void finish_frames(const VideoOptions& o, FrameOutput& output, int64_t frames);

}  // namespace stylize::cli
