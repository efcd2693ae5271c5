#include "stylize/options.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <type_traits>

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

std::vector<std::string> layer_names(const std::vector<WeightedLayer>& layers) {
    std::vector<std::string> out;
    out.reserve(layers.size());
    for (const auto& l : layers) out.push_back(l.name);
    return out;
}

std::vector<std::string> run_layer_names(const StylizeOptions& options) {
    auto out = layer_names(options.content_layers);
    for (const auto& l : options.style_layers) out.push_back(l.name);
    return out;
}

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

template <class T>
std::string range_text(const Setting<T>& s) {
    std::string text = s.special_means ? str(s.special) + " (" + s.special_means + ") or " : std::string();
    if (s.ends_only) return text + str(s.min) + " or " + str(s.max);
    if (s.max == std::numeric_limits<T>::max())
        return text + (std::is_floating_point_v<T> ? "a finite number " : "") + (s.min_open ? "> " : ">= ") +
               str(s.min);
    if (std::is_integral_v<T>) return text + "between " + str(s.min) + " and " + str(s.max);
    return text + "in " + (s.min_open ? "(" : "[") + str(s.min) + ", " + str(s.max) + (s.max_open ? ")" : "]");
}

template <class T>
void check_setting(const Setting<T>& s, T value) {
    require(s.accepts(value), std::string(s.flag) + " must be " + range_text(s) + ", got " + str(value));
}

template std::string range_text(const Setting<int>&);
template std::string range_text(const Setting<double>&);
template void check_setting(const Setting<int>&, int);
template void check_setting(const Setting<double>&, double);

void validate(const StylizeOptions& o) {
    check_setting(settings::content_weight, o.content_weight);
    check_setting(settings::style_weight, o.style_weight);
    check_setting(settings::tv_weight, o.tv_weight);
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

    check_setting(settings::iterations, o.iterations);
    check_setting(settings::output_bit_depth, o.output_bit_depth);
    check_setting(settings::lbfgs_history, o.lbfgs_history);
    check_setting(settings::learning_rate, o.learning_rate);
    check_setting(settings::ema_decay, o.ema_decay);
    check_setting(settings::early_stop, o.early_stop_tolerance);
    check_setting(settings::early_stop_window, o.early_stop_window);

    check_setting(settings::size, o.size);
    check_setting(settings::style_scale, o.style_scale);
    check_setting(settings::scales, o.scales);
    check_setting(settings::scale_factor, o.scale_factor);
    check_setting(settings::scale_iterations, o.scale_iterations);
    for (double w : o.style_blend)
        require(std::isfinite(w) && w >= 0, "--style-blend weights must be finite and >= 0");
    if (!o.style_blend.empty()) {
        double s = 0;
        for (double w : o.style_blend) s += w;
        require(s > 0, "--style-blend: the weights sum to zero");
        require(std::isfinite(s), "--style-blend: the weights are too large (their sum overflows)");
    }
    check_setting(settings::tile, o.tile);
    check_setting(settings::tile_halo, o.tile_halo);
}

void check_style_count(const StylizeOptions& o, size_t style_count) {
    require(o.style_blend.empty() || o.style_blend.size() == style_count,
            "--style-blend has " + std::to_string(o.style_blend.size()) + " weights for " +
                std::to_string(style_count) + " style images");
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
