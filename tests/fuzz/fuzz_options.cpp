// libFuzzer target for src/run/options.cpp: parse_layer_list, parse_number_list
// and validate(StylizeOptions).
//
// The whole input is first given, as text, to both list parsers (so the seeds
// are plain lists like "relu1_1,relu2_1:0.5"). Then the same bytes drive a
// FuzzedDataProvider that fills a StylizeOptions with edge values (NaN, +-inf,
// negatives, denormals, range boundaries, huge weights) and calls validate().
//
// Only stylize::InvalidArgument may escape the library. When a call returns,
// its result must satisfy the documented contract:
//  - parse_layer_list: non-empty; names non-empty, <= 64 chars of [A-Za-z0-9_],
//    no duplicates; weights finite and >= 0.
//  - parse_number_list: one finite, >= 0 number per comma-separated item.
//  - validate: every field inside the range its error message states, and the
//    layer / blend weights can be normalised (their sum is finite), as
//    src/run/engine.cpp divides each weight by the sum.
#include <fuzzer/FuzzedDataProvider.h>

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "stylize/errors.hpp"
#include "stylize/options.hpp"

using stylize::InvalidArgument;
using stylize::StylizeOptions;
using stylize::WeightedLayer;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_options: property violated: %s %s\n", what, detail.c_str());
    std::abort();
}

void expect(bool ok, const char* what, const std::string& detail = {}) {
    if (!ok) fail(what, detail);
}

bool finite_nonneg(double v) { return std::isfinite(v) && v >= 0; }

bool valid_name(const std::string& n) {
    if (n.empty() || n.size() > 64) return false;
    for (unsigned char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

void check_layers(const std::vector<WeightedLayer>& layers, const std::string& text) {
    expect(!layers.empty(), "parse_layer_list returned an empty list for", text);
    for (size_t i = 0; i < layers.size(); ++i) {
        expect(valid_name(layers[i].name), "parse_layer_list returned a bad name:", layers[i].name);
        expect(finite_nonneg(layers[i].weight), "parse_layer_list returned a bad weight for", text);
        for (size_t j = 0; j < i; ++j)
            expect(layers[i].name != layers[j].name, "parse_layer_list returned a duplicate:", layers[i].name);
    }
}

size_t item_count(const std::string& text) {
    size_t n = 1;
    for (char c : text) n += c == ',';
    return n;
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

double pick_double(FuzzedDataProvider& p) {
    static const double table[] = {
        0.0,     -0.0,       kNaN,     -kNaN,      kInf,      -kInf,    -1.0,       1.0,
        0.5,     1e-320,     DBL_MIN,  DBL_MAX,    -DBL_MAX,  1e308,    0.05,       0.0499999999,
        8.0,     8.0000001,  4.0,      4.0000001,  10.0,      10.00001, 0.99999999, 1.0000000001,
        0.02,    1000.0,     1e-300,   1.41421356237};
    const auto k = p.ConsumeIntegralInRange<unsigned>(0, 3);
    if (k == 0) return p.ConsumeFloatingPoint<double>();
    if (k == 1) return p.ConsumeFloatingPointInRange<double>(-2.0, 20.0);
    return table[p.ConsumeIntegralInRange<size_t>(0, sizeof table / sizeof table[0] - 1)];
}

int pick_int(FuzzedDataProvider& p) {
    static const int table[] = {INT_MIN, -1, 0, 1, 2, 12, 13, 15, 16, 17, 300,
                                1000, 1001, 16384, 16385, 1000000, 1000001, INT_MAX};
    if (p.ConsumeBool()) return p.ConsumeIntegral<int>();
    return table[p.ConsumeIntegralInRange<size_t>(0, sizeof table / sizeof table[0] - 1)];
}

std::vector<WeightedLayer> pick_layers(FuzzedDataProvider& p, const std::vector<WeightedLayer>* parsed) {
    static const char* names[] = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1", "conv1_1"};
    switch (p.ConsumeIntegralInRange<unsigned>(0, 3)) {
        case 0: return {};
        case 1:
            if (parsed) return *parsed;
            [[fallthrough]];
        default: {
            std::vector<WeightedLayer> out(p.ConsumeIntegralInRange<size_t>(1, 6));
            for (auto& l : out) {
                l.name = names[p.ConsumeIntegralInRange<size_t>(0, sizeof names / sizeof names[0] - 1)];
                l.weight = pick_double(p);
            }
            return out;
        }
    }
}

bool sum_ok(const std::vector<WeightedLayer>& layers) {
    double s = 0;
    for (const auto& l : layers) s += l.weight;
    return std::isfinite(s);
}

void check_valid(const StylizeOptions& o) {
    expect(finite_nonneg(o.content_weight), "validate accepted content_weight");
    expect(finite_nonneg(o.style_weight), "validate accepted style_weight");
    expect(finite_nonneg(o.tv_weight), "validate accepted tv_weight");
    expect(!o.style_layers.empty(), "validate accepted no style layers");
    expect(o.content_weight == 0 || !o.content_layers.empty(), "validate accepted no content layers");
    double style_sum = 0;
    for (const auto* list : {&o.content_layers, &o.style_layers})
        for (const auto& l : *list) expect(finite_nonneg(l.weight), "validate accepted a layer weight");
    for (const auto& l : o.style_layers) style_sum += l.weight;
    expect(style_sum > 0, "validate accepted style layer weights summing to 0");
    expect(sum_ok(o.style_layers),
           "validate accepted style layer weights whose sum overflows to inf (normalised weights become 0)");
    expect(sum_ok(o.content_layers),
           "validate accepted content layer weights whose sum overflows to inf (normalised weights become 0)");
    expect(o.iterations >= 1 && o.iterations <= 1000000, "validate accepted iterations");
    expect(o.lbfgs_history >= 1 && o.lbfgs_history <= 1000, "validate accepted lbfgs_history");
    expect(std::isfinite(o.learning_rate) && o.learning_rate > 0 && o.learning_rate <= 10,
           "validate accepted learning_rate");
    expect(std::isfinite(o.ema_decay) && o.ema_decay >= 0 && o.ema_decay < 1, "validate accepted ema_decay");
    expect(std::isfinite(o.early_stop_tolerance) && o.early_stop_tolerance >= 0 && o.early_stop_tolerance < 1,
           "validate accepted early_stop_tolerance");
    expect(o.early_stop_window >= 1 && o.early_stop_window <= 1000000, "validate accepted early_stop_window");
    expect(o.size == 0 || (o.size >= 16 && o.size <= 16384), "validate accepted size");
    expect(std::isfinite(o.style_scale) && o.style_scale >= 0.05 && o.style_scale <= 8,
           "validate accepted style_scale");
    expect(o.scales >= 1 && o.scales <= 12, "validate accepted scales");
    expect(std::isfinite(o.scale_factor) && o.scale_factor > 1 && o.scale_factor <= 4,
           "validate accepted scale_factor");
    expect(o.scale_iterations >= 1 && o.scale_iterations <= 1000000, "validate accepted scale_iterations");
    if (!o.style_blend.empty()) {
        double s = 0;
        for (double w : o.style_blend) {
            expect(finite_nonneg(w), "validate accepted a style_blend weight");
            s += w;
        }
        expect(s > 0, "validate accepted style_blend weights summing to 0");
        expect(std::isfinite(s),
               "validate accepted style_blend weights whose sum overflows to inf (normalised weights become 0)");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    std::vector<WeightedLayer> parsed_layers;
    bool have_layers = false;
    try {
        parsed_layers = stylize::parse_layer_list(text, "--style-layers");
        check_layers(parsed_layers, text);
        have_layers = true;
    } catch (const InvalidArgument&) {
    }

    try {
        const auto numbers = stylize::parse_number_list(text, "--style-blend");
        expect(numbers.size() == item_count(text), "parse_number_list item count differs for", text);
        for (double v : numbers) expect(finite_nonneg(v), "parse_number_list returned a bad number for", text);
    } catch (const InvalidArgument&) {
    }

    FuzzedDataProvider p(data, size);
    StylizeOptions o;
    const std::vector<WeightedLayer>* parsed = have_layers ? &parsed_layers : nullptr;
    // Each field is either left at its default or set from the input.
    auto maybe_double = [&](double& field) {
        if (p.ConsumeBool()) field = pick_double(p);
    };
    auto maybe_int = [&](int& field) {
        if (p.ConsumeBool()) field = pick_int(p);
    };
    if (p.ConsumeBool()) o.content_layers = pick_layers(p, parsed);
    if (p.ConsumeBool()) o.style_layers = pick_layers(p, parsed);
    maybe_double(o.content_weight);
    maybe_double(o.style_weight);
    maybe_double(o.tv_weight);
    o.normalize_gradients = p.ConsumeBool();
    o.pooling = static_cast<stylize::Pooling>(p.ConsumeIntegralInRange<int>(0, 1));
    o.optimizer = static_cast<stylize::OptimizerKind>(p.ConsumeIntegralInRange<int>(0, 1));
    maybe_int(o.iterations);
    maybe_int(o.lbfgs_history);
    maybe_double(o.learning_rate);
    maybe_double(o.ema_decay);
    maybe_double(o.early_stop_tolerance);
    maybe_int(o.early_stop_window);
    maybe_int(o.size);
    maybe_double(o.style_scale);
    maybe_int(o.scales);
    maybe_double(o.scale_factor);
    maybe_int(o.scale_iterations);
    o.init = static_cast<stylize::InitKind>(p.ConsumeIntegralInRange<int>(0, 2));
    o.seed = p.ConsumeIntegral<uint64_t>();
    o.color = static_cast<stylize::ColorMode>(p.ConsumeIntegralInRange<int>(0, 3));
    for (size_t n = p.ConsumeIntegralInRange<size_t>(0, 4); n > 0; --n) o.style_blend.push_back(pick_double(p));
    o.precision = static_cast<stylize::Precision>(p.ConsumeIntegralInRange<int>(0, 2));
    o.device = p.ConsumeRandomLengthString(16);

    bool accepted = false;
    try {
        stylize::validate(o);
        accepted = true;
    } catch (const InvalidArgument&) {
    }
    if (accepted) check_valid(o);

    // The defaults must always be valid.
    stylize::validate(StylizeOptions{});
    return 0;
}
