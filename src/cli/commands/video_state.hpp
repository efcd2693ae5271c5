#pragma once
// The state a video run carries from one frame to the next: the last
// frame's optimised image before clamping (Result::state). Kept next to the
// frames of a folder output, so that --skip-existing resumes exactly where an
// uninterrupted run would be (the written frame is clamped and rounded, and
// starting from it would change every later frame). Two files, by the
// frame's parity: frame k's state is written before frame k, into the file
// that does not hold frame k-1's, so a kill at any moment leaves the state
// of the last written frame.
#include <cstdint>
#include <optional>
#include <string>

#include <torch/types.h>

namespace stylize::cli {

/// "<folder>/.stylize-video-state-<index % 2>".
std::string video_state_path(const std::string& folder, int64_t index);

/// Writes frame `index`'s state (1,3,H,W) fp32 atomically, replacing frame
/// `index - 2`'s. `run_key` names the run it belongs to (no spaces or newlines).
void save_video_state(const std::string& folder, int64_t index, const torch::Tensor& state,
                      const std::string& run_key);

/// The state saved for frame `index`, if the file holds that frame of that
/// run at that size; nothing otherwise (missing, another frame, another run,
/// another size, damaged).
std::optional<torch::Tensor> load_video_state(const std::string& folder, int64_t index, int64_t height,
                                              int64_t width, const std::string& run_key);

}  // namespace stylize::cli
