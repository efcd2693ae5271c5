#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/image_ops.hpp"

using namespace stylize;

namespace {
std::pair<torch::Tensor, torch::Tensor> stats(const torch::Tensor& img) {
    auto px = img.reshape({3, -1}).to(torch::kDouble);
    auto mean = px.mean(1);
    auto c = px - mean.unsqueeze(1);
    return {mean, torch::mm(c, c.t()) / px.size(1)};
}
}  // namespace

TEST_CASE("YCbCr round trip", "[unit]") {
    auto img = fixtures::content_image();
    CHECK(torch::allclose(ycbcr_to_rgb(rgb_to_ycbcr(img)), img, 1e-5, 1e-5));
    auto grey = luminance_rgb(img);
    CHECK(torch::allclose(grey.select(1, 0), grey.select(1, 2)));
}

TEST_CASE("recombining keeps the chroma source's Cb and Cr", "[unit]") {
    auto content = fixtures::content_image();
    auto other = fixtures::style_image();
    auto out = combine_luminance_chroma(other, content);
    auto a = rgb_to_ycbcr(out), b = rgb_to_ycbcr(content);
    // Equal up to clamping into [0,1]: compare where nothing clipped.
    auto unclipped = ((out > 0.001) & (out < 0.999)).all(1, true).expand_as(a);
    auto diff = (a - b).narrow(1, 1, 2).abs().masked_select(unclipped.narrow(1, 1, 2));
    CHECK(diff.max().item<double>() < 1e-4);
    CHECK(torch::allclose(a.narrow(1, 0, 1).masked_select(unclipped.narrow(1, 0, 1)),
                          rgb_to_ycbcr(other).narrow(1, 0, 1).masked_select(unclipped.narrow(1, 0, 1)), 1e-4, 1e-4));
}

TEST_CASE("mean/covariance matching gives the reference's colour statistics", "[unit]") {
    auto src = fixtures::style_image(40, 50) * 0.5 + torch::rand({1, 3, 40, 50}) * 0.3;
    auto ref = fixtures::content_image(30, 60);
    auto out = match_mean_covariance(src, ref);
    auto [m_out, c_out] = stats(out);
    auto [m_ref, c_ref] = stats(ref);
    CHECK(torch::allclose(m_out, m_ref, 1e-5, 1e-5));
    CHECK(torch::allclose(c_out, c_ref, 1e-4, 1e-5));
    CHECK(out.sizes() == src.sizes());
}

TEST_CASE("histogram matching gives each channel the reference's value distribution", "[unit]") {
    auto src = torch::rand({1, 3, 20, 20});
    auto ref = fixtures::content_image(20, 20);
    auto out = match_histogram(src, ref);
    for (int c = 0; c < 3; ++c) {
        auto a = std::get<0>(out.select(1, c).flatten().sort());
        auto b = std::get<0>(ref.select(1, c).flatten().sort());
        CHECK(torch::allclose(a, b, 1e-5, 1e-5));
    }
    // Rank order of the source is kept.
    auto s0 = src.select(1, 0).flatten(), o0 = out.select(1, 0).flatten();
    auto by_src = o0.index_select(0, std::get<1>(s0.sort()));
    CHECK((by_src.narrow(0, 1, by_src.numel() - 1) >= by_src.narrow(0, 0, by_src.numel() - 1)).all().item<bool>());
}

TEST_CASE("resize shrinks by area and grows bicubically to the asked size", "[unit]") {
    auto img = fixtures::content_image(40, 60);
    CHECK(resize_image(img, 20, 30).sizes() == torch::IntArrayRef({1, 3, 20, 30}));
    CHECK(resize_image(img, 80, 120).sizes() == torch::IntArrayRef({1, 3, 80, 120}));
    CHECK(resize_long_side(img, 30).sizes() == torch::IntArrayRef({1, 3, 20, 30}));
    auto flat = torch::full({1, 3, 10, 10}, 0.4);
    CHECK(torch::allclose(resize_image(flat, 7, 13), torch::full({1, 3, 7, 13}, 0.4), 1e-5, 1e-6));
}
