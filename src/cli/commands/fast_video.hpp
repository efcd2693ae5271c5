#pragma once
// `stylize video INPUT -o OUT --fast-model NET`: every frame through a
// network made by `stylize train` (one forward pass each), written as it is
// done. No temporal loss: the frames are independent.
#include "commands/video_command.hpp"

namespace stylize::cli {

/// Runs the fast video; returns kOk, kInterrupted or kTerminated. Errors propagate.
int fast_video(VideoOptions& o);

}  // namespace stylize::cli
