#pragma once
// Loss terms of Gatys-style transfer. Each layer's term is divided by its
// target's squared magnitude, so a term is a relative error (0 = matched,
// about 1 = unrelated) and the same weights work across models and sizes.
#include <torch/types.h>

#include <utility>

namespace stylize {

/// Gram matrix of a (1,C,H,W) feature map: F F^T / (H W), shape (C,C), fp32.
torch::Tensor gram_matrix(const torch::Tensor& features);

/// Mean (C,1) and second moment F F^T / (H W) (C,C) of a (1,C,H,W) map,
/// computed like gram_matrix; the backward is one product.
std::pair<torch::Tensor, torch::Tensor> mean_and_second_moment(const torch::Tensor& features);

/// ||a - target||^2 / ||target||^2 (target detached).
torch::Tensor relative_squared_error(const torch::Tensor& a, const torch::Tensor& target);
/// The same with ||target||^2 given, for targets reused every evaluation.
torch::Tensor relative_squared_error(const torch::Tensor& a, const torch::Tensor& target, double target_sq_norm);

/// ||t||^2, the denominator relative_squared_error uses.
double squared_norm(const torch::Tensor& t);

/// Total variation: mean squared difference between neighbouring pixels,
/// horizontally plus vertically, of a (1,3,H,W) image.
torch::Tensor total_variation(const torch::Tensor& image);

/// Identity forward; backward divides the incoming gradient by its L1 norm
/// (jcjohnson/neural-style's -normalize_gradients, per loss layer).
torch::Tensor normalize_gradient(const torch::Tensor& x);

}  // namespace stylize
