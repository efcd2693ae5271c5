#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/compare.hpp"
#include "stylize/errors.hpp"
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

TEST_CASE("SSIM matches an independent computation of Wang et al. 2004", "[unit]") {
    // Reference values from this pure-Python computation (a direct sum over
    // each 11x11 Gaussian window, sigma 1.5, C1 = 0.01^2, C2 = 0.03^2, data
    // range 1, valid windows only, mean over RGB; images smaller than the
    // window use a window of their size with sigma scaled by size/11):
    //
    //   import math
    //   def images(h, w):
    //       a = [[[(6*x + 8*y + 30*c) / 255 for x in range(w)] for y in range(h)] for c in range(3)]
    //       b = [[[a[c][y][x] + 4*((7*x + 3*y + 5*c) % 11 - 5) / 255 for x in range(w)] for y in range(h)]
    //            for c in range(3)]
    //       return a, b
    //   def ssim(a, b, h, w):
    //       win = min(11, h, w); sigma = 1.5 * win / 11
    //       g = [math.exp(-((i - (win - 1) / 2) ** 2) / (2 * sigma * sigma)) for i in range(win)]
    //       g = [v / sum(g) for v in g]
    //       c1, c2 = 0.01 ** 2, 0.03 ** 2
    //       total, n = 0.0, 0
    //       for c in range(3):
    //           for i in range(h - win + 1):
    //               for j in range(w - win + 1):
    //                   cells = [(g[u] * g[v], a[c][i+u][j+v], b[c][i+u][j+v]) for u in range(win) for v in range(win)]
    //                   ma = sum(k * x for k, x, _ in cells); mb = sum(k * y for k, _, y in cells)
    //                   va = sum(k * (x - ma) ** 2 for k, x, _ in cells)
    //                   vb = sum(k * (y - mb) ** 2 for k, _, y in cells)
    //                   cov = sum(k * (x - ma) * (y - mb) for k, x, y in cells)
    //                   total += (2*ma*mb + c1) * (2*cov + c2) / ((ma*ma + mb*mb + c1) * (va + vb + c2)); n += 1
    //       return total / n
    //   for h, w in [(12, 14), (8, 9)]: print(h, w, ssim(*images(h, w), h, w))
    auto images = [](int64_t h, int64_t w) {
        auto a = torch::empty({1, 3, h, w}, torch::kDouble), b = torch::empty({1, 3, h, w}, torch::kDouble);
        auto pa = a.accessor<double, 4>(), pb = b.accessor<double, 4>();
        for (int64_t c = 0; c < 3; ++c)
            for (int64_t y = 0; y < h; ++y)
                for (int64_t x = 0; x < w; ++x) {
                    pa[0][c][y][x] = static_cast<double>(6 * x + 8 * y + 30 * c) / 255;
                    pb[0][c][y][x] = pa[0][c][y][x] + 4.0 * static_cast<double>((7 * x + 3 * y + 5 * c) % 11 - 5) / 255;
                }
        return std::make_pair(a, b);
    };
    const auto [a, b] = images(12, 14);
    CHECK(stylize::compare_images(a, b).ssim == Approx(0.7592397589849903).margin(1e-9));
    CHECK(stylize::compare_images(a, a).ssim == Approx(1.0).margin(1e-12));
    const auto [sa, sb] = images(8, 9);  // smaller than the window
    CHECK(stylize::compare_images(sa, sb).ssim == Approx(0.6525626823108386).margin(1e-9));
}

TEST_CASE("luminance SSIM sees structure, not colour", "[unit]") {
    const auto photo = fixtures::content_image(40, 48).to(torch::kDouble);
    const auto y = 0.299 * photo.narrow(1, 0, 1) + 0.587 * photo.narrow(1, 1, 1) + 0.114 * photo.narrow(1, 2, 1);
    const auto grey = y.repeat({1, 3, 1, 1});
    // The photo in grey keeps its luminance exactly: SSIM 1 whatever the colours.
    CHECK(stylize::luminance_ssim(grey, photo) == Approx(1.0).margin(1e-12));
    // It is the RGB SSIM of the luminance images.
    const auto noisy = (photo + 0.1 * torch::sin(torch::arange(40 * 48, torch::kDouble).view({1, 1, 40, 48}) * 0.7))
                           .clamp(0, 1);
    const auto yn = 0.299 * noisy.narrow(1, 0, 1) + 0.587 * noisy.narrow(1, 1, 1) + 0.114 * noisy.narrow(1, 2, 1);
    const double s = stylize::luminance_ssim(noisy, photo);
    CHECK(s == Approx(stylize::compare_images(yn.repeat({1, 3, 1, 1}), grey).ssim).margin(1e-12));
    CHECK(s < 0.95);
    CHECK_THROWS_AS(stylize::luminance_ssim(photo, photo.narrow(2, 0, 20)), stylize::InvalidArgument);
}

TEST_CASE("a contact sheet puts each image in its square, fitted and centred", "[unit]") {
    const auto red = torch::zeros({1, 3, 20, 40}).index_put_({0, 0}, 1.0);  // 2:1, red
    const auto blue = torch::zeros({1, 3, 30, 30}).index_put_({0, 2}, 1.0);
    const int64_t cell = 32, gap = 2, step = cell + gap;
    const auto sheet = contact_sheet({red}, {blue, blue}, {{red, torch::Tensor()}}, cell);
    REQUIRE(sheet.sizes() == torch::IntArrayRef({1, 3, 2 * step + gap, 3 * step + gap}));
    auto at = [&](int64_t y, int64_t x) { return sheet.index({0, torch::indexing::Slice(), y, x}); };
    // The corner square is empty (white); a column head is blue; the red
    // cell fills its width and is centred with grey above and below.
    CHECK(torch::allclose(at(gap + 5, gap + 5), torch::ones({3})));
    CHECK(torch::allclose(at(gap + 16, gap + step + 16), torch::tensor({0.f, 0.f, 1.f})));
    const int64_t y0 = gap + step, x0 = gap + step;
    CHECK(torch::allclose(at(y0 + 16, x0 + 1), torch::tensor({1.f, 0.f, 0.f})));
    CHECK(torch::allclose(at(y0 + 2, x0 + 16), torch::full({3}, 0.5f)));
    // The missing cell stays white (no grey square either).
    CHECK(torch::allclose(at(y0 + 16, gap + 2 * step + 16), torch::ones({3})));
    CHECK_THROWS_AS(contact_sheet({red}, {blue}, {}, cell), InvalidArgument);
    CHECK_THROWS_AS(contact_sheet({red}, {blue}, {{red, red}}, cell), InvalidArgument);
}
