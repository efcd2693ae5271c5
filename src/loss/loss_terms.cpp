#include "loss/loss_terms.hpp"

#include <stdexcept>

#include <ATen/ATen.h>

#include "loss/fixed_order_sum.hpp"
#include "stylize/losses.hpp"
#include "stylize/temporal.hpp"

namespace stylize {

ContentLoss::ContentLoss(size_t layer, torch::Tensor target, double weight, bool normalize_gradients)
    : layer_(layer), target_(std::move(target)), norm_(squared_norm(target_)), weight_(weight),
      normalize_gradients_(normalize_gradients) {}

torch::Tensor ContentLoss::operator()(const torch::Tensor& features) const {
    const auto f = normalize_gradients_ ? normalize_gradient(features) : features;
    return relative_squared_error(f, target_, norm_) * weight_;
}

StyleLoss::StyleLoss(size_t layer, std::shared_ptr<const StyleStatistic> statistic, torch::Tensor target,
                     double weight, bool normalize_gradients, torch::Tensor region, uint64_t seed)
    : layer_(layer), statistic_(std::move(statistic)), target_(std::move(target)),
      norm_(statistic_->normaliser(target_)), weight_(weight), normalize_gradients_(normalize_gradients),
      region_(std::move(region)), seed_(seed) {}

torch::Tensor StyleLoss::operator()(const torch::Tensor& features) const {
    const auto f = normalize_gradients_ ? normalize_gradient(features) : features;
    const auto mask = region_.defined() ? mask_at(region_, features) : torch::Tensor();
    const uint64_t draw = seed_ ^ (0x9E3779B97F4A7C15ULL * ++evaluations_);
    return statistic_->loss(f, mask, target_, norm_, draw) * weight_;
}

torch::Tensor FeatureLoss::partial_sums(const torch::Tensor&, const Window&, int64_t, int64_t) const {
    throw std::logic_error("this loss term is not a sum over pixels");
}

torch::Tensor FeatureLoss::loss_of_sums(const torch::Tensor&) const {
    throw std::logic_error("this loss term is not a sum over pixels");
}

torch::Tensor ContentLoss::partial_sums(const torch::Tensor& part, const Window& in_full, int64_t, int64_t) const {
    return fixed_order_sum((part - crop(target_, in_full).detach()).pow(2)).reshape({1});
}

torch::Tensor ContentLoss::loss_of_sums(const torch::Tensor& sums) const {
    return sums[0] * (weight_ / (norm_ + 1e-8));
}

const torch::Tensor& StyleLoss::region_at(int64_t full_height, int64_t full_width) const {
    if (!region_cache_.defined() || region_cache_.size(2) != full_height || region_cache_.size(3) != full_width) {
        torch::NoGradGuard no_grad;
        region_cache_ = region_.size(2) == full_height && region_.size(3) == full_width
                            ? region_
                            : at::adaptive_avg_pool2d(region_, {full_height, full_width});
    }
    return region_cache_;
}

torch::Tensor StyleLoss::partial_sums(const torch::Tensor& part, const Window& in_full, int64_t full_height,
                                      int64_t full_width) const {
    const auto mask = region_.defined() ? crop(region_at(full_height, full_width), in_full) : torch::Tensor();
    return statistic_->sums(part, mask);
}

torch::Tensor StyleLoss::loss_of_sums(const torch::Tensor& sums) const {
    return statistic_->loss_of_sums(sums, target_, norm_) * weight_;
}

torch::Tensor TVLoss::operator()(const torch::Tensor& image) const { return total_variation(image) * weight_; }

TemporalLoss::TemporalLoss(torch::Tensor warped, torch::Tensor mask, double weight)
    : warped_(std::move(warped)), mask_(std::move(mask)), weight_(weight) {}

torch::Tensor TemporalLoss::operator()(const torch::Tensor& image) const {
    return temporal_loss(image, warped_, mask_) * weight_;
}

}  // namespace stylize
