#pragma once
// Image similarity for regression checks.
#include <torch/types.h>

namespace stylize {

struct ImageDifference {
    double psnr = 0;          ///< dB over [0,1]; +inf for identical images
    double ssim = 0;          ///< mean SSIM (Gaussian window 11, sigma 1.5) over RGB
    double max_abs_diff = 0;  ///< in [0,1] units (x255 for 8-bit levels)
};

/// Compares two (1,3,H,W) images in [0,1]. Throws InvalidArgument when the
/// shapes differ.
ImageDifference compare_images(const torch::Tensor& a, const torch::Tensor& b);

/// SSIM of the luminances (Rec. 601: 0.299 R + 0.587 G + 0.114 B) of two
/// (1,3,H,W) images in [0,1], same window as compare_images: how much of a
/// photo's structure a stylized image keeps whatever its colours (the
/// project's quality bar asks for at least 0.25). Throws InvalidArgument
/// when the shapes differ.
double luminance_ssim(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace stylize
