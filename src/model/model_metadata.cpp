#include "model/model_metadata.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "stylize/errors.hpp"

namespace stylize::detail {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 64;  // metadata is flat; deeper nesting is not metadata

const json* find(const json& object, const char* key) {
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::vector<double> number_array(const json* v, size_t n, const std::string& key, const std::string& path) {
    if (!v) return {};
    if (!v->is_array() || v->size() != n)
        throw ModelError(path + ": metadata field '" + key + "' must be an array of " + std::to_string(n) +
                         " numbers");
    std::vector<double> out;
    for (const auto& e : *v) {
        if (!e.is_number() || !std::isfinite(e.get<double>()))
            throw ModelError(path + ": metadata field '" + key + "' holds a non-number");
        out.push_back(e.get<double>());
    }
    return out;
}

std::string string_field(const json& root, const char* key, const std::string& fallback) {
    const auto* v = find(root, key);
    return v && v->is_string() ? v->get<std::string>() : fallback;
}

}  // namespace

void read_model_metadata(const std::string& text, ModelInfo& info) {
    if (text.empty()) return;  // no metadata: ImageNet defaults, has_metadata stays false
    json root;
    try {
        root = json::parse(text, [](int depth, json::parse_event_t, json&) {
            if (depth > kMaxDepth) throw std::invalid_argument("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
            return true;
        });
    } catch (const std::exception& e) {  // json::parse_error, or the depth limit above
        throw ModelError(info.path + ": its stylize.json metadata is malformed (" + e.what() +
                         "); re-export the model with scripts/export_vgg19.py");
    }
    if (!root.is_object()) throw ModelError(info.path + ": its stylize.json metadata is not a JSON object");
    info.has_metadata = true;
    info.weights = string_field(root, "weights", "unknown");
    info.source = string_field(root, "source", "");
    info.sha256_recorded = string_field(root, "sha256", "");
    info.channel_order = string_field(root, "channel_order", "RGB");
    if (info.channel_order != "RGB" && info.channel_order != "BGR")
        throw ModelError(info.path + ": metadata channel_order '" + info.channel_order + "' is neither RGB nor BGR");
    if (auto m = number_array(find(root, "mean"), 3, "mean", info.path); !m.empty()) info.mean = m;
    if (auto s = number_array(find(root, "std"), 3, "std", info.path); !s.empty()) info.std = s;
    for (double s : info.std)
        if (s <= 0) throw ModelError(info.path + ": metadata std values must be > 0");
    if (auto r = number_array(find(root, "value_range"), 2, "value_range", info.path); !r.empty()) {
        info.value_min = r[0];
        info.value_max = r[1];
        if (!(info.value_max > info.value_min))
            throw ModelError(info.path + ": metadata value_range must be increasing");
    }
    if (const auto* d = find(root, "width_divisor"); d && d->is_number()) {
        const double w = d->get<double>();
        if (!(w >= 1 && w <= 4096)) throw ModelError(info.path + ": metadata width_divisor must be between 1 and 4096");
        info.width_divisor = static_cast<int>(w);
    }
}

}  // namespace stylize::detail
