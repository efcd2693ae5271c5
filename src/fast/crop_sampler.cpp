#include "stylize/crop_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include "stylize/errors.hpp"
#include "stylize/image_header.hpp"
#include "stylize/image_io.hpp"
#include "stylize/image_ops.hpp"

namespace stylize {
namespace {

uint64_t mix(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed ^ 0x5851F42D4C957F2DULL;
    for (uint64_t v : {a, b}) {
        x ^= v + 0x9E3779B97F4A7C15ULL + (x << 6) + (x >> 2);
        x *= 0xBF58476D1CE4E5B9ULL;
    }
    return x;
}

std::string head_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes(64 * 1024, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<size_t>(in.gcount()));
    return bytes;
}

}  // namespace

CropSampler::CropSampler(std::vector<std::string> paths, int crop, uint64_t seed)
    : paths_(std::move(paths)), crop_(crop), seed_(seed) {
    if (paths_.empty()) throw InvalidArgument("no content images to train on");
    if (crop_ < 1) throw InvalidArgument("--crop must be positive");
    for (const auto& p : paths_) {
        check_image_file(p);
        const auto [h, w] = read_image_dimensions(head_of(p));
        if (h > 0 && w > 0 && std::min(h, w) < crop_) small_.push_back(p);
    }
}

torch::Tensor CropSampler::crop_at(int64_t step, int index) const {
    std::mt19937_64 rng(mix(seed_, static_cast<uint64_t>(step), static_cast<uint64_t>(index)));
    const auto& path = paths_[rng() % paths_.size()];
    auto image = load_image(path).rgb;
    const int64_t h = image.size(2), w = image.size(3);
    const double scale = static_cast<double>(crop_) / static_cast<double>(std::min(h, w));
    const int64_t nh = std::max<int64_t>(crop_, std::lround(static_cast<double>(h) * scale));
    const int64_t nw = std::max<int64_t>(crop_, std::lround(static_cast<double>(w) * scale));
    if (nh != h || nw != w) image = resize_image(image, nh, nw).clamp(0, 1);
    const auto y = static_cast<int64_t>(rng() % static_cast<uint64_t>(nh - crop_ + 1));
    const auto x = static_cast<int64_t>(rng() % static_cast<uint64_t>(nw - crop_ + 1));
    auto out = image.narrow(2, y, crop_).narrow(3, x, crop_);
    if (rng() & 1) out = out.flip({3});
    return out.contiguous();
}

torch::Tensor CropSampler::batch(int64_t step, int n) const {
    std::vector<torch::Tensor> crops;
    for (int i = 0; i < n; ++i) crops.push_back(crop_at(step, i));
    return torch::cat(crops, 0);
}

}  // namespace stylize
