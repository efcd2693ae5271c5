#pragma once
// The frames of `stylize video`, in and out. In: the input opened with the
// run's pixel limit, its frame count and rate as the options settle them.
// Out: numbered images in a folder, or a video file written under its
// .partial name and renamed when the last frame is in (so an interrupted run
// never leaves a file that looks finished).
#include <memory>
#include <optional>
#include <string>

#include <torch/types.h>

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

private:
    VideoOutputKind kind_;
    std::string output_, extension_, partial_;
    SaveOptions so_;
    std::optional<VideoWriter> writer_;
};

}  // namespace stylize::cli
