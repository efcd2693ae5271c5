#include "loss_terms.hpp"

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

torch::Tensor TVLoss::operator()(const torch::Tensor& image) const { return total_variation(image) * weight_; }

TemporalLoss::TemporalLoss(torch::Tensor warped, torch::Tensor mask, double weight)
    : warped_(std::move(warped)), mask_(std::move(mask)), weight_(weight) {}

torch::Tensor TemporalLoss::operator()(const torch::Tensor& image) const {
    return temporal_loss(image, warped_, mask_) * weight_;
}

}  // namespace stylize
