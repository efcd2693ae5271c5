#pragma once
// Shared test helpers: fixture paths, temporary folders, synthetic images.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <torch/types.h>

#include "stylize/model.hpp"

namespace fixtures {

namespace fs = std::filesystem;

inline std::string model(const std::string& name = "tiny.pt") {
    return (fs::path(STYLIZE_FIXTURE_DIR) / name).string();
}

/// A fresh folder under the system temp dir, removed on destruction.
struct TempDir {
    fs::path path;
    TempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("stylize-test-" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path, ec);
    }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

/// A content-like image: smooth gradients with a bright disc, (1,3,h,w) in [0,1].
inline torch::Tensor content_image(int64_t h = 48, int64_t w = 64) {
    auto y = torch::linspace(0, 1, h).view({h, 1}).expand({h, w});
    auto x = torch::linspace(0, 1, w).view({1, w}).expand({h, w});
    auto disc = (((x - 0.5).pow(2) + (y - 0.5).pow(2)) < 0.06).to(torch::kFloat);
    return torch::stack({x * 0.8 + 0.1, y * 0.6 + 0.2, 0.3 + 0.6 * disc}).unsqueeze(0).clamp(0, 1);
}

/// A style-like image: coloured diagonal stripes, (1,3,h,w) in [0,1].
inline torch::Tensor style_image(int64_t h = 48, int64_t w = 64, double period = 6.0) {
    auto y = torch::arange(h).view({h, 1}).expand({h, w}).to(torch::kFloat);
    auto x = torch::arange(w).view({1, w}).expand({h, w}).to(torch::kFloat);
    auto s = torch::sin((x + y) * (2 * M_PI / period));
    return torch::stack({0.5 + 0.45 * s, 0.2 + 0.1 * s, 0.6 - 0.35 * s}).unsqueeze(0).clamp(0, 1);
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

#ifdef STYLIZE_EXE  // only the command-line tests know the executable
struct Run {
    int code;
    std::string out, err;
};

/// Runs the stylize executable with `args` (shell syntax), capturing output.
inline Run run_cli(const std::string& args, const TempDir& dir) {
    const std::string out = dir / "stdout.txt", err = dir / "stderr.txt";
    const std::string cmd = std::string("'") + STYLIZE_EXE + "' " + args + " >'" + out + "' 2>'" + err + "' </dev/null";
    const int status = std::system(cmd.c_str());
    Run r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
}

/// Exit status of `signal_when` when `ready` never held within the bound.
constexpr int kNeverReady = 201;
/// ... and when the command ended before `ready` held.
constexpr int kEndedEarly = 202;

/// Runs `command` (shell syntax) in the background, waits until the shell
/// condition `ready` holds (e.g. "[ -s 'out.jsonl' ]"), sends `signal` ("INT", "TERM")
/// and returns the command's exit status. The wait is for a condition, not a
/// time: `bound_seconds` only stops a test whose condition never comes
/// (kNeverReady; the command is killed), however loaded the machine.
inline int signal_when(const std::string& command, const std::string& ready, const std::string& signal,
                       const TempDir& dir, int bound_seconds = 600) {
    const std::string script = dir / "signal_when.sh";
    write_file(script, "(" + command + ") & pid=$!\n"
                       "until " + ready + "; do\n"
                       "  kill -0 $pid 2>/dev/null || { wait $pid; exit " + std::to_string(kEndedEarly) + "; }\n"
                       "  [ $SECONDS -ge " + std::to_string(bound_seconds) + " ] && { kill -KILL $pid; exit " +
                       std::to_string(kNeverReady) + "; }\n"
                       "  sleep 0.05\n"
                       "done\n"
                       "kill -" + signal + " $pid\n"
                       "wait $pid\n");
    const int status = std::system(("bash '" + script + "'").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
#endif

/// A VGG-like conv/relu/pool stack from channel counts (0 = a pool with the
/// given kernel and stride), named VGG-style, with zero weights (for tests
/// that look only at shapes) or, with `weight_std` > 0, normal random ones
/// from the current torch seed.
inline stylize::FeatureExtractor vgg_stack(const std::vector<int>& cfg, int pool_kernel = 2, int pool_stride = 2,
                                           double weight_std = 0) {
    using stylize::Layer;
    using stylize::LayerKind;
    std::vector<LayerKind> kinds;
    std::vector<Layer> layers;
    int64_t c = 3;
    for (int v : cfg) {
        if (v == 0) {
            Layer pool{"", LayerKind::Pool, {}, {}, 0};
            pool.pool_kernel = pool_kernel;
            pool.pool_stride = pool_stride;
            layers.push_back(pool);
            kinds.push_back(LayerKind::Pool);
            continue;
        }
        auto weight = weight_std > 0 ? torch::randn({v, c, 3, 3}) * weight_std : torch::zeros({v, c, 3, 3});
        auto bias = weight_std > 0 ? torch::randn({v}) * (weight_std / 5) : torch::zeros({v});
        layers.push_back(Layer{"", LayerKind::Conv, weight, bias, 1});
        layers.push_back(Layer{"", LayerKind::Relu, {}, {}, 0});
        kinds.push_back(LayerKind::Conv);
        kinds.push_back(LayerKind::Relu);
        c = v;
    }
    const auto names = stylize::name_vgg_layers(kinds, "stack");
    for (size_t i = 0; i < layers.size(); ++i) layers[i].name = names[i];
    return stylize::FeatureExtractor(std::move(layers), stylize::ModelInfo{});
}

/// VGG19's layer stack (up to relu5_1), shapes only.
inline stylize::FeatureExtractor vgg19_stack() {
    return vgg_stack({64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512});
}

}  // namespace fixtures
