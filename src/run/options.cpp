#include "stylize/options.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "stylize/errors.hpp"

namespace stylize {
namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, sep)) out.push_back(trim(item));
    if (!text.empty() && text.back() == sep) out.emplace_back();
    return out;
}

double parse_number(const std::string& s, const std::string& what) {
    if (s.empty()) throw InvalidArgument(what + ": empty number");
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size())
        throw InvalidArgument(what + ": '" + s + "' is not a number");
    if (!std::isfinite(v)) throw InvalidArgument(what + ": '" + s + "' is not finite");
    if (v < 0) throw InvalidArgument(what + ": '" + s + "' is negative");
    return v;
}

bool valid_layer_name(const std::string& n) {
    if (n.empty() || n.size() > 64) return false;
    for (char c : n)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
}

void require(bool ok, const std::string& message) {
    if (!ok) throw InvalidArgument(message);
}

template <class T>
std::string str(T v) {
    std::ostringstream o;
    o << v;
    return o.str();
}

}  // namespace

std::string format_layer_list(const std::vector<WeightedLayer>& layers) {
    std::ostringstream out;
    for (size_t i = 0; i < layers.size(); ++i) {
        out << (i ? "," : "") << layers[i].name;
        if (layers[i].weight != 1.0) out << ":" << layers[i].weight;
    }
    return out.str();
}

std::vector<WeightedLayer> parse_layer_list(const std::string& text, const std::string& what) {
    if (trim(text).empty()) throw InvalidArgument(what + ": the layer list is empty");
    std::vector<WeightedLayer> out;
    for (const auto& item : split(text, ',')) {
        if (item.empty()) throw InvalidArgument(what + ": empty item in '" + text + "'");
        WeightedLayer l;
        const auto colon = item.find(':');
        l.name = trim(item.substr(0, colon));
        if (colon != std::string::npos)
            l.weight = parse_number(trim(item.substr(colon + 1)), what + " weight of " + l.name);
        if (!valid_layer_name(l.name))
            throw InvalidArgument(what + ": '" + l.name + "' is not a layer name (e.g. relu3_1)");
        for (const auto& prev : out)
            if (prev.name == l.name)
                throw InvalidArgument(what + ": layer " + l.name + " is listed twice");
        out.push_back(l);
    }
    return out;
}

std::vector<double> parse_number_list(const std::string& text, const std::string& what) {
    if (trim(text).empty()) throw InvalidArgument(what + ": the list is empty");
    std::vector<double> out;
    for (const auto& item : split(text, ',')) out.push_back(parse_number(item, what));
    return out;
}

void validate(const StylizeOptions& o) {
    auto finite_nonneg = [](double v, const char* name) {
        require(std::isfinite(v) && v >= 0,
                std::string("--") + name + " must be a finite number >= 0, got " + str(v));
    };
    finite_nonneg(o.content_weight, "content-weight");
    finite_nonneg(o.style_weight, "style-weight");
    finite_nonneg(o.tv_weight, "tv-weight");
    require(!o.style_layers.empty(), "--style-layers: at least one layer is needed");
    require(o.content_weight == 0 || !o.content_layers.empty(),
            "--content-layers: at least one layer is needed when --content-weight > 0");
    for (const auto* list : {&o.content_layers, &o.style_layers})
        for (const auto& l : *list)
            require(std::isfinite(l.weight) && l.weight >= 0,
                    "layer weight of " + l.name + " must be finite and >= 0");
    // Weights are normalised by their sum: it must be positive and finite.
    double style_sum = 0, content_sum = 0;
    for (const auto& l : o.style_layers) style_sum += l.weight;
    for (const auto& l : o.content_layers) content_sum += l.weight;
    require(style_sum > 0, "--style-layers: the layer weights sum to zero");
    require(std::isfinite(style_sum), "--style-layers: the layer weights are too large (their sum overflows)");
    require(std::isfinite(content_sum), "--content-layers: the layer weights are too large (their sum overflows)");

    require(o.iterations >= 1 && o.iterations <= 1000000,
            "--iterations must be between 1 and 1000000, got " + str(o.iterations));
    require(o.output_bit_depth == 0 || o.output_bit_depth == 8 || o.output_bit_depth == 16,
            "output bit depth must be 0, 8 or 16, got " + str(o.output_bit_depth));
    require(o.lbfgs_history >= 1 && o.lbfgs_history <= 1000,
            "--lbfgs-history must be between 1 and 1000, got " + str(o.lbfgs_history));
    require(std::isfinite(o.learning_rate) && o.learning_rate > 0 && o.learning_rate <= 10,
            "--learning-rate must be in (0, 10], got " + str(o.learning_rate));
    require(std::isfinite(o.ema_decay) && o.ema_decay >= 0 && o.ema_decay < 1,
            "--ema-decay must be in [0, 1), got " + str(o.ema_decay));
    require(std::isfinite(o.early_stop_tolerance) && o.early_stop_tolerance >= 0 &&
                o.early_stop_tolerance < 1,
            "--early-stop must be in [0, 1), got " + str(o.early_stop_tolerance));
    require(o.early_stop_window >= 1 && o.early_stop_window <= 1000000,
            "--early-stop-window must be >= 1, got " + str(o.early_stop_window));

    require(o.size == 0 || (o.size >= 16 && o.size <= 16384),
            "--size must be 0 (keep) or between 16 and 16384, got " + str(o.size));
    require(std::isfinite(o.style_scale) && o.style_scale >= 0.05 && o.style_scale <= 8,
            "--style-scale must be in [0.05, 8], got " + str(o.style_scale));
    require(o.scales >= 1 && o.scales <= 12, "--scales must be between 1 and 12, got " + str(o.scales));
    require(std::isfinite(o.scale_factor) && o.scale_factor > 1 && o.scale_factor <= 4,
            "--scale-factor must be in (1, 4], got " + str(o.scale_factor));
    require(o.scale_iterations >= 1 && o.scale_iterations <= 1000000,
            "--scale-iterations must be >= 1, got " + str(o.scale_iterations));
    for (double w : o.style_blend)
        require(std::isfinite(w) && w >= 0, "--style-blend weights must be finite and >= 0");
    if (!o.style_blend.empty()) {
        double s = 0;
        for (double w : o.style_blend) s += w;
        require(s > 0, "--style-blend: the weights sum to zero");
        require(std::isfinite(s), "--style-blend: the weights are too large (their sum overflows)");
    }
    require(o.tile >= 0 && o.tile <= 16384, "--tile must be off or between 16 and 16384, got " + str(o.tile));
    require(o.tile_halo >= -1 && o.tile_halo <= 16384,
            "--tile-halo must be 'exact' or between 0 and 16384, got " + str(o.tile_halo));
}

const char* to_string(OptimizerKind k) { return k == OptimizerKind::LBFGS ? "lbfgs" : "adam"; }
const char* to_string(InitKind k) {
    switch (k) {
        case InitKind::Content: return "content";
        case InitKind::Noise: return "noise";
        default: return "image";
    }
}
const char* to_string(Pooling p) { return p == Pooling::Max ? "max" : "avg"; }
const char* to_string(ColorMode c) {
    switch (c) {
        case ColorMode::Style: return "style";
        case ColorMode::Luminance: return "luminance";
        case ColorMode::MatchMeanCov: return "match";
        default: return "histogram";
    }
}
const char* to_string(StyleLossKind k) {
    switch (k) {
        case StyleLossKind::Gram: return "gram";
        case StyleLossKind::MeanCov: return "mean-cov";
        case StyleLossKind::SlicedWasserstein: return "sliced-wasserstein";
        default: return "histogram";
    }
}
const char* to_string(Precision p) {
    switch (p) {
        case Precision::FP32: return "fp32";
        case Precision::TF32: return "tf32";
        default: return "bf16";
    }
}

}  // namespace stylize
