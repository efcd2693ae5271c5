#pragma once
// `stylize video INPUT STYLE... -o OUTPUT`: stylizes the frames of a video
// file, a folder of frames or a glob, one after another. Each frame after the
// first starts from the previous stylized frame warped onto it by the optical
// flow of the content frames, and a temporal loss keeps it close to that
// warped frame where the flow is reliable (temporal.hpp). The library does
// the flow, warping, masks and losses; this file only sequences frames.
#include <string>
#include <vector>

#include "commands/run_command.hpp"
#include "stylize/optical_flow.hpp"
#include "stylize/temporal.hpp"

namespace stylize::cli {

/// Default weight of the temporal loss, with the still-image losses
/// (docs/BENCHMARKS.md, "Video defaults judged by another network").
constexpr double kDefaultTemporalWeight = 30.0;
/// Default evaluations for frames that start from the warped previous frame.
constexpr int kDefaultFrameIterations = 100;

struct VideoOptions {
    std::string input;                ///< video file, folder of frames, or glob
    std::vector<std::string> styles;
    std::string output;               ///< video file (.avi .mp4 .mov .mkv) or folder
    double temporal_weight = kDefaultTemporalWeight;
    int frame_iterations = kDefaultFrameIterations;
    std::string frame_init = "warped";  ///< warped | content
    FlowMethod flow = FlowMethod::DIS;
    WarpInterpolation warp = WarpInterpolation::Bilinear;
    double fps = 0;                   ///< 0 = the input's (25 for folders)
    int64_t max_frames = 0;           ///< 0 = all
    std::string frame_format = "png"; ///< folder outputs: png | jpg
    bool skip_existing = false;       ///< folder outputs: keep finished frames (resume)
    std::string report;               ///< JSON lines, one per frame
    std::string fast_model;           ///< a network from stylize train: one forward pass per frame, no styles
    RunOptions run;                   ///< process options and the still-image options
};

void setup_video_command(CLI::App& app, VideoOptions& o);

/// Runs the video; returns kOk, kInterrupted or kTerminated. Errors propagate.
int video_command(VideoOptions& o);

/// Checks the options that need no file; throws InvalidArgument naming the option.
void check_video_options(const VideoOptions& o);

}  // namespace stylize::cli
