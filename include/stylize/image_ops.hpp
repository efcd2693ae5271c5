#pragma once
// Tensor-level image operations used by the engine: resizing and colour.
// Images are (1,3,H,W) fp32 RGB in [0,1] unless stated.
#include <vector>

#include <torch/types.h>

namespace stylize {

/// Resizes (N,C,H,W) to (height,width): area averaging when shrinking,
/// bicubic when growing. Deterministic on the CPU.
torch::Tensor resize_image(const torch::Tensor& image, int64_t height, int64_t width);

/// Resizes so the long side is `long_side`, keeping the aspect ratio (each side >= 1).
torch::Tensor resize_long_side(const torch::Tensor& image, int64_t long_side);

/// The image as a file with `bit_depth` bits per channel holds it: clamped
/// to [0,1] and rounded to a multiple of 1/(2^bit_depth - 1), as save_image
/// rounds. bit_depth 0: only clamped.
torch::Tensor quantise(const torch::Tensor& image, int bit_depth);

/// A contact sheet: a grid of `cell` x `cell` squares, each image fitted
/// inside its square (aspect kept, centred, on mid grey), with a gap of
/// `cell / 16` pixels. Row 0 holds `column_heads` from column 1 on, column 0
/// holds `row_heads` from row 1 on, and `cells[r][c]` goes to row r+1,
/// column c+1; an undefined tensor leaves its square empty. Throws
/// InvalidArgument when `cells` does not match the heads.
torch::Tensor contact_sheet(const std::vector<torch::Tensor>& row_heads, const std::vector<torch::Tensor>& column_heads,
                            const std::vector<std::vector<torch::Tensor>>& cells, int64_t cell);

/// Full-range BT.601 conversions; Y in [0,1], Cb/Cr centred on 0.5.
torch::Tensor rgb_to_ycbcr(const torch::Tensor& rgb);
torch::Tensor ycbcr_to_rgb(const torch::Tensor& ycbcr);

/// The luminance of `rgb` replicated into three channels (a grey RGB image).
torch::Tensor luminance_rgb(const torch::Tensor& rgb);

/// Luminance of `luma_source` combined with the chroma (Cb, Cr) of
/// `chroma_source` (resized to match), back in RGB, clamped to [0,1].
torch::Tensor combine_luminance_chroma(const torch::Tensor& luma_source,
                                       const torch::Tensor& chroma_source);

/// Recolours `source` by an affine map so its per-channel mean and 3x3
/// colour covariance equal those of `reference` (the symmetric square-root
/// "Monge" mapping, as Gatys et al. 2016). Not clamped.
torch::Tensor match_mean_covariance(const torch::Tensor& source, const torch::Tensor& reference);

/// Per-channel histogram matching: each channel of `source` takes the
/// values of `reference`'s at the same quantiles. Not clamped.
torch::Tensor match_histogram(const torch::Tensor& source, const torch::Tensor& reference);

}  // namespace stylize
