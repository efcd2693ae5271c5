#include "commands/video_state.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "stylize/image_io.hpp"

namespace stylize::cli {
namespace {
constexpr const char* kMagic = "stylize-video-state 1";
}

std::string video_state_path(const std::string& folder, int64_t index) {
    return (std::filesystem::path(folder) / (".stylize-video-state-" + std::to_string(index % 2))).string();
}

void save_video_state(const std::string& folder, int64_t index, const torch::Tensor& state,
                      const std::string& run_key) {
    const auto t = state.detach().to(torch::kCPU).to(torch::kFloat).contiguous();
    std::ostringstream head;
    head << kMagic << "\n" << run_key << " " << index << " " << t.size(1) << " " << t.size(2) << " " << t.size(3)
         << "\n";
    std::string bytes = head.str();
    const auto* data = reinterpret_cast<const char*>(t.data_ptr<float>());
    bytes.append(data, static_cast<size_t>(t.numel()) * sizeof(float));
    write_file_atomically(video_state_path(folder, index), bytes);
}

std::optional<torch::Tensor> load_video_state(const std::string& folder, int64_t index, int64_t height,
                                              int64_t width, const std::string& run_key) {
    std::ifstream in(video_state_path(folder, index), std::ios::binary);
    if (!in) return std::nullopt;
    std::string magic;
    if (!std::getline(in, magic) || magic != kMagic) return std::nullopt;
    std::string key;
    int64_t i = -1, c = 0, h = 0, w = 0;
    if (!(in >> key >> i >> c >> h >> w) || in.get() != '\n') return std::nullopt;
    if (key != run_key || i != index || c != 3 || h != height || w != width) return std::nullopt;
    auto t = torch::empty({1, 3, h, w}, torch::kFloat);
    const auto size = static_cast<std::streamsize>(t.numel() * static_cast<int64_t>(sizeof(float)));
    in.read(reinterpret_cast<char*>(t.data_ptr<float>()), size);
    if (in.gcount() != size || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
    if (!torch::isfinite(t).all().item<bool>()) return std::nullopt;
    return t;
}

}  // namespace stylize::cli
