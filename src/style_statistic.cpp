#include "style_statistic.hpp"

#include "stylize/losses.hpp"

namespace stylize {

torch::Tensor StyleStatistic::blend(const std::vector<torch::Tensor>& statistics,
                                    const std::vector<double>& weights) const {
    torch::Tensor out;
    for (size_t i = 0; i < statistics.size(); ++i) {
        auto s = statistics[i] * weights[i];
        if (out.defined()) out.add_(s);
        else out = s;
    }
    return out;
}

torch::Tensor GramStatistic::compute(const torch::Tensor& features) const { return gram_matrix(features); }

double GramStatistic::normaliser(const torch::Tensor& target) const { return squared_norm(target); }

torch::Tensor GramStatistic::loss(const torch::Tensor& features, const torch::Tensor& target,
                                  double normaliser) const {
    return relative_squared_error(gram_matrix(features), target, normaliser);
}

std::shared_ptr<const StyleStatistic> make_style_statistic() { return std::make_shared<const GramStatistic>(); }

}  // namespace stylize
