#include "stylize/spatial.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <ATen/ATen.h>

#include "stylize/errors.hpp"

namespace stylize {
namespace {

std::string hex(const std::array<int, 3>& c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
    return buf;
}

// (H, W, 3) int32 0-255 on the CPU.
torch::Tensor bytes_of(const torch::Tensor& map) {
    return (map.detach().to(torch::kCPU).to(torch::kFloat).clamp(0, 1) * 255.0)
        .round()
        .to(torch::kInt)
        .squeeze(0)
        .permute({1, 2, 0})
        .contiguous();
}

// (R,1,H,W) hard masks: pixel joins the nearest palette colour within 48 per channel.
torch::Tensor assign(const torch::Tensor& map, const std::vector<std::array<int, 3>>& palette) {
    const auto px = bytes_of(map);
    const int64_t h = px.size(0), w = px.size(1);
    auto out = torch::zeros({static_cast<int64_t>(palette.size()), 1, h, w});
    const int* p = px.data_ptr<int>();
    float* o = out.data_ptr<float>();
    for (int64_t i = 0; i < h * w; ++i) {
        int best = -1, best_d = 49;
        for (size_t r = 0; r < palette.size(); ++r) {
            int d = 0;
            for (int c = 0; c < 3; ++c) d = std::max(d, std::abs(p[i * 3 + c] - palette[r][static_cast<size_t>(c)]));
            if (d < best_d) best_d = d, best = static_cast<int>(r);
        }
        if (best >= 0) o[static_cast<int64_t>(best) * h * w + i] = 1.f;
    }
    return out;
}

void check_mask_tensor(const torch::Tensor& m, int64_t regions, const std::string& what) {
    if (!m.defined() || m.dim() != 4 || m.size(0) != regions || m.size(1) != 1 || m.size(2) < 1 || m.size(3) < 1)
        throw InvalidArgument(what + " must be (" + std::to_string(regions) + ",1,H,W) region masks");
    if (!torch::isfinite(m).all().item<bool>() || m.min().item<double>() < 0 || m.max().item<double>() > 1)
        throw InvalidArgument(what + " must hold values in [0,1]");
}

}  // namespace

SpatialControl regions_from_style_masks(const std::vector<torch::Tensor>& content_masks) {
    SpatialControl c;
    const auto n = static_cast<int64_t>(content_masks.size());
    std::vector<torch::Tensor> masks;
    for (int64_t i = 0; i < n; ++i) {
        auto m = content_masks[static_cast<size_t>(i)].to(torch::kCPU).to(torch::kFloat).clamp(0, 1);
        if (m.dim() != 4 || m.size(0) != 1 || m.size(1) != 1)
            throw InvalidArgument("a style region mask must be a (1,1,H,W) grayscale mask");
        if (!(m >= 0.5).any().item<bool>())
            throw InvalidArgument("style region " + std::to_string(i + 1) +
                                  " is empty: its mask has no pixel of 50% grey or brighter, so style " +
                                  std::to_string(i + 1) + " would apply nowhere");
        if (i > 0 && (m.size(2) != masks[0].size(2) || m.size(3) != masks[0].size(3)))
            m = resize_masks(m, masks[0].size(2), masks[0].size(3));
        masks.push_back(m);
    }
    c.content = at::cat(masks, 0);
    for (int64_t i = 0; i < n; ++i) {
        auto s = torch::zeros({n, 1, 1, 1});
        s[i].fill_(1.0);
        c.styles.push_back(s);  // style i: the whole image, for region i only
    }
    return c;
}

ColourRegions regions_from_colour_maps(const torch::Tensor& content_map, const std::vector<torch::Tensor>& style_maps) {
    const auto px = bytes_of(content_map);
    const int64_t n = px.size(0) * px.size(1);
    std::map<int, int64_t> counts;
    const int* p = px.data_ptr<int>();
    for (int64_t i = 0; i < n; ++i) ++counts[(p[i * 3] << 16) | (p[i * 3 + 1] << 8) | p[i * 3 + 2]];
    // Flat colours covering >= 1%, most common first. Near-duplicates (JPEG)
    // fold into the more common one.
    std::vector<std::pair<int64_t, int>> ranked;
    for (const auto& [code, count] : counts)
        if (count * 100 >= n) ranked.emplace_back(-count, code);
    std::sort(ranked.begin(), ranked.end());
    ColourRegions out;
    for (const auto& [neg, code] : ranked) {
        const std::array<int, 3> c{(code >> 16) & 255, (code >> 8) & 255, code & 255};
        bool near = false;
        for (const auto& q : out.colours) {
            int d = 0;
            for (size_t k = 0; k < 3; ++k) d = std::max(d, std::abs(c[k] - q[k]));
            near = near || d <= 48;
        }
        if (!near) out.colours.push_back(c);
    }
    if (out.colours.empty())
        throw InvalidArgument("the content mask has no flat colour covering 1% of it or more: a colour-coded mask "
                              "needs flat colours, one per region");
    if (out.colours.size() > static_cast<size_t>(kMaxRegions))
        throw InvalidArgument("the content mask has " + std::to_string(out.colours.size()) +
                              " colours covering 1% or more each; a colour-coded mask needs at most " +
                              std::to_string(kMaxRegions) + " flat colours");
    out.control.content = assign(content_map, out.colours);
    out.styled.assign(out.colours.size(), false);
    for (size_t s = 0; s < style_maps.size(); ++s) {
        auto m = assign(style_maps[s], out.colours);
        const auto per_region = m.sum({1, 2, 3});
        bool any = false;
        for (size_t r = 0; r < out.colours.size(); ++r)
            if (per_region[static_cast<int64_t>(r)].item<double>() > 0) out.styled[r] = any = true;
        if (!any) {
            std::string list;
            for (const auto& c : out.colours) list += (list.empty() ? "" : ", ") + hex(c);
            throw InvalidArgument("style mask " + std::to_string(s + 1) + " has none of the content mask's colours (" +
                                  list + ")");
        }
        out.control.styles.push_back(m);
    }
    return out;
}

bool same_aspect_ratio(int64_t h1, int64_t w1, int64_t h2, int64_t w2) {
    const double a = static_cast<double>(w1) / static_cast<double>(h1);
    const double b = static_cast<double>(w2) / static_cast<double>(h2);
    return std::abs(a / b - 1.0) <= 0.02;
}

void check_spatial_control(const SpatialControl& c, const torch::Tensor& content, const std::vector<StyleImage>& styles) {
    if (!c.content.defined()) throw InvalidArgument("spatial control needs region masks over the content");
    const int64_t regions = c.content.size(0);
    check_mask_tensor(c.content, regions, "the content's region masks");
    if (c.styles.size() != styles.size())
        throw InvalidArgument("spatial control has region masks for " + std::to_string(c.styles.size()) +
                              " style images but there are " + std::to_string(styles.size()));
    if (!same_aspect_ratio(content.size(2), content.size(3), c.content.size(2), c.content.size(3)))
        throw InvalidArgument("the content mask's aspect ratio differs from the content image's");
    for (size_t i = 0; i < styles.size(); ++i) {
        const auto what = "style " + std::to_string(i + 1) + "'s region masks";
        check_mask_tensor(c.styles[i], regions, what);
        const auto& m = c.styles[i];
        const bool constant = m.size(2) == 1 && m.size(3) == 1;  // a whole-image region
        if (!constant && !same_aspect_ratio(styles[i].image.size(2), styles[i].image.size(3), m.size(2), m.size(3)))
            throw InvalidArgument(what + ": the aspect ratio differs from the style image's");
    }
}

torch::Tensor resize_masks(const torch::Tensor& masks, int64_t h, int64_t w) {
    if (masks.size(2) == h && masks.size(3) == w) return masks;
    if (masks.size(2) == 1 && masks.size(3) == 1) return masks.expand({masks.size(0), 1, h, w}).contiguous();
    if (h <= masks.size(2) && w <= masks.size(3)) return at::adaptive_avg_pool2d(masks, {h, w});
    return at::upsample_bilinear2d(masks, {h, w}, false).clamp(0, 1);
}

}  // namespace stylize
