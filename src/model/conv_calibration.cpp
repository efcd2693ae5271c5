#include "stylize/conv_calibration.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/utils.h>

#include "io/cache_file.hpp"
#include "model/blocked_layout.hpp"
#include "model/onednn_conv.hpp"
#include "stylize/errors.hpp"
#include "stylize/runtime_info.hpp"

namespace stylize {
namespace {

constexpr const char* kFormat = "stylize-conv-plans-1";
constexpr size_t kMaxEntries = 64;
constexpr int kMaxRounds = 3;   // timed rounds after one warm-up round; the fastest counts
constexpr double kClose = 0.15;  // a difference that needs another round

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// A deterministic, sign-mixed input (not from LibTorch's random generator,
// whose state the run that follows may depend on).
torch::Tensor probe(int64_t c, int64_t h, int64_t w, bool channels_last) {
    auto x = torch::linspace(-3.0, 3.0, c * h * w).sin().view({1, c, h, w});
    return channels_last ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
}

// Forward and input gradient of one way of running a layer, in ms.
template <typename Forward>
double time_once(const torch::Tensor& input, Forward forward) {
    const auto t0 = Clock::now();
    auto x = input.detach().requires_grad_(true);
    auto y = forward(x);
    const torch::autograd::variable_list outputs{y}, inputs{x}, grads{torch::ones_like(y)};
    (void)torch::autograd::grad(outputs, inputs, grads);
    return ms_since(t0);
}

std::vector<ConvLayerTiming> measure_layers(const FeatureExtractor& model, int64_t side) {
    std::vector<ConvLayerTiming> out;
    int64_t h = side, w = side;
    for (const auto& l : model.layers()) {
        if (l.kind == LayerKind::Pool) {
            h = (h - l.pool_kernel) / l.pool_stride + 1;
            w = (w - l.pool_kernel) / l.pool_stride + 1;
            continue;
        }
        if (l.kind != LayerKind::Conv) continue;
        ConvLayerTiming t;
        t.name = l.name;
        t.eligible = l.winograd != nullptr;
        const int64_t cin = l.weight.size(1);
        const auto x = probe(cin, h, w, l.channels_last);
        const auto xb = t.eligible ? detail::to_blocked(x) : torch::Tensor();
        double best_d = std::numeric_limits<double>::infinity(), best_w = best_d, best_c = best_d;
        // One warm-up round, one timed; another while the two ways are
        // within kClose of each other (up to kMaxRounds timed).
        for (int round = 0; round <= kMaxRounds; ++round) {
            if (round > 1 && (!t.eligible || std::abs(best_d - best_w) > kClose * std::min(best_d, best_w))) break;
            const double d = time_once(x, [&](const torch::Tensor& v) {
                auto y = at::conv2d(v, l.weight, l.bias, {1, 1}, {l.padding, l.padding});
                return at::relu_(y);
            });
            if (round > 0) best_d = std::min(best_d, d);
            if (!t.eligible) continue;
            const double wi = time_once(xb, [&](const torch::Tensor& v) { return (*l.winograd)(v, true); });
            const double c = time_once(x, [&](const torch::Tensor& v) {
                return detail::from_blocked(detail::to_blocked(v), at::MemoryFormat::ChannelsLast);
            });
            if (round > 0) best_w = std::min(best_w, wi), best_c = std::min(best_c, c);
        }
        t.direct_ms = best_d;
        if (t.eligible) t.winograd_ms = best_w, t.convert_ms = best_c;
        out.push_back(t);
        h = h + 2 * l.padding - l.weight.size(2) + 1;
        w = w + 2 * l.padding - l.weight.size(3) + 1;
    }
    return out;
}

// Half a measured round trip to the blocked layout: the cost of one change
// of layout at layer i's input (at the layer before when i cannot be blocked).
double switch_cost(const std::vector<ConvLayerTiming>& layers, size_t i) {
    if (!layers[i].eligible && i > 0) return layers[i - 1].convert_ms / 2;
    return layers[i].convert_ms / 2;
}

double total(const std::vector<ConvLayerTiming>& layers, bool winograd) {
    double sum = 0;
    bool blocked = false;
    for (size_t i = 0; i < layers.size(); ++i) {
        const bool w = winograd && layers[i].eligible;
        if (w != blocked) sum += switch_cost(layers, i);
        sum += w ? layers[i].winograd_ms : layers[i].direct_ms;
        blocked = w;
    }
    if (blocked) sum += layers.back().convert_ms / 2;
    return sum;
}

}  // namespace

// The cheapest assignment along the chain of layers (dynamic programming
// over the layout after each layer): a Winograd layer needs its input
// blocked, a direct one unblocked, and the range ends unblocked.
std::string cheapest_conv_plan(const std::vector<ConvLayerTiming>& layers, double* cost) {
    const double inf = std::numeric_limits<double>::infinity();
    const size_t n = layers.size();
    double c[2] = {0, inf};  // cheapest so far ending unblocked (0) or blocked (1)
    std::vector<std::array<int, 2>> back(n);  // the state before layer i on that path
    for (size_t i = 0; i < n; ++i) {
        const auto& t = layers[i];
        const double change = switch_cost(layers, i);
        double next[2] = {inf, inf};
        back[i][0] = c[1] + change < c[0] ? 1 : 0;
        next[0] = (back[i][0] ? c[1] + change : c[0]) + t.direct_ms;
        back[i][1] = 1;
        if (t.eligible) {
            back[i][1] = c[0] + change < c[1] ? 0 : 1;
            next[1] = (back[i][1] ? c[1] : c[0] + change) + t.winograd_ms;
        }
        c[0] = next[0], c[1] = next[1];
    }
    const double end_blocked = n ? c[1] + layers.back().convert_ms / 2 : inf;
    int state = end_blocked < c[0] ? 1 : 0;
    if (cost) *cost = std::min(c[0], end_blocked);
    std::string plan(n, 'd');
    for (size_t i = n; i-- > 0;) {
        plan[i] = state ? 'w' : 'd';
        state = back[i][state];
    }
    return plan;
}

int64_t calibration_side(int64_t side) {
    if (side <= 0) side = 512;
    const double l = std::round(std::log2(static_cast<double>(side)));
    return int64_t{1} << static_cast<int>(std::clamp(l, 6.0, 9.0));
}

std::string cpu_identity() {
    const auto cpu = cpu_info();
    std::string id = cpu.model;
    for (const auto& f : cpu.features) id += " " + f;
    id += "; ATen " + cpu.aten_capability + "; LibTorch " + torch_version();
    if (const auto dnnl = onednn_version(); !dnnl.empty()) id += "; oneDNN " + dnnl;
    return id;
}

ConvCalibration calibrate_convolutions(FeatureExtractor& model, int64_t side, const std::string& cache_dir,
                                       const std::function<void(int64_t)>& before_measuring) {
    ConvCalibration r;
    r.plan = model.conv_plan();
    const auto& cfg = model.config();
    if (cache_dir.empty() || cfg.conv_algorithm != ConvAlgorithm::Auto || !cfg.device.is_cpu() ||
        cfg.precision != Precision::FP32 || model.winograd_layers() == 0)
        return r;
    r.side = calibration_side(side);
    r.key = cpu_identity() + " | " + model.info().sha256 + " | " + r.plan + " | " + std::to_string(r.side) + " px";
    const auto file = (std::filesystem::path(cache_dir) / "conv-plans.json").string();
    // The plan remembered for this key, applied; false if none (or a damaged one).
    auto remembered = [&] {
        const auto entries = detail::read_cache_entries(file, kFormat);
        if (!entries.contains(r.key) || !entries[r.key].is_object()) return false;
        try {
            model.apply_conv_plan(entries[r.key].value("plan", std::string()));
        } catch (const InvalidArgument&) {
            return false;
        }
        r.plan = model.conv_plan();
        detail::store_cache_entry(file, kFormat, r.key, entries[r.key], kMaxEntries);  // marks it used
        return true;
    };
    if (remembered()) return r;
    // One measurement per key at a time on this machine: a run that waited
    // here reads the plan the first one stored, so concurrent first runs (a
    // batch's shards, a test suite) agree.
    const detail::FileLock lock(file + ".lock");
    if (remembered()) return r;
    if (before_measuring) before_measuring(r.side);
    const auto t0 = Clock::now();
    torch::AutoGradMode grad_on(true);  // the probes' input gradients, whatever the caller's mode
    r.layers = measure_layers(model, r.side);
    r.seconds = ms_since(t0) / 1000.0;
    const auto plan = cheapest_conv_plan(r.layers, &r.plan_ms);
    r.winograd_ms = total(r.layers, true);
    r.direct_ms = total(r.layers, false);
    model.apply_conv_plan(plan);
    r.plan = model.conv_plan();
    r.measured = true;
    nlohmann::json direct = nlohmann::json::array(), winograd = nlohmann::json::array();
    for (const auto& t : r.layers) {
        direct.push_back(std::round(t.direct_ms * 100) / 100);
        winograd.push_back(std::round(t.winograd_ms * 100) / 100);
    }
    detail::store_cache_entry(file, kFormat, r.key,
                              {{"plan", r.plan}, {"threads", at::get_num_threads()}, {"direct_ms", direct},
                               {"winograd_ms", winograd}},
                              kMaxEntries);
    return r;
}

}  // namespace stylize
