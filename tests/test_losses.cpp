#include <catch2/catch.hpp>
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/types.h>

#include "loss/gram_products.hpp"
#include "stylize/losses.hpp"

using namespace stylize;

TEST_CASE("Gram matrix of a hand-computed case", "[unit]") {
    // Two channels over a 1x2 map: f0 = (1, 2), f1 = (3, 4).
    auto f = torch::tensor({1.f, 2.f, 3.f, 4.f}).view({1, 2, 1, 2});
    auto g = gram_matrix(f);
    // F F^T / (H W) = [[1+4, 3+8], [3+8, 9+16]] / 2
    auto expected = torch::tensor({2.5f, 5.5f, 5.5f, 12.5f}).view({2, 2});
    CHECK(torch::allclose(g, expected));
}

TEST_CASE("Gram matrix is the same for a channels-last map", "[unit]") {
    auto f = torch::randn({1, 5, 4, 3});
    auto cl = f.contiguous(at::MemoryFormat::ChannelsLast);
    CHECK(torch::allclose(gram_matrix(f), gram_matrix(cl), 1e-5, 1e-6));
}

TEST_CASE("Gram matrix gradient equals autograd's through plain products, in both layouts", "[unit]") {
    torch::manual_seed(3);
    const auto base = torch::randn({1, 6, 5, 4}, torch::kDouble);
    const auto weights = torch::randn({6, 6}, torch::kDouble);  // not symmetric on purpose
    // Reference: G = F F^T / HW by ordinary ops, differentiated by autograd.
    auto ref_in = base.clone().requires_grad_();
    auto fm = ref_in.reshape({6, 20});
    (at::mm(fm, fm.t()).div(20.0) * weights).sum().backward();
    for (auto format : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
        auto in = base.contiguous(format).detach().requires_grad_();
        (gram_matrix(in) * weights).sum().backward();
        CHECK(torch::allclose(in.grad(), ref_in.grad(), 1e-12, 1e-12));
        CHECK(in.grad().is_contiguous(format));  // the gradient keeps the map's layout
    }
}

TEST_CASE("Gram matrix of a map in neither layout is that of its copy", "[unit]") {
    const auto f = torch::randn({1, 4, 6, 8});
    const auto narrowed = f.narrow(3, 1, 5);       // W narrowed: H and W cannot merge
    const auto swapped = f.transpose(2, 3);        // H and W swapped
    CHECK(torch::allclose(gram_matrix(narrowed), gram_matrix(narrowed.contiguous()), 1e-5, 1e-6));
    CHECK(torch::allclose(gram_matrix(swapped), gram_matrix(f), 1e-5, 1e-6));
}

TEST_CASE("Gram matrix rejects a batch", "[unit]") {
    CHECK_THROWS(gram_matrix(torch::randn({2, 3, 4, 4})));
}

TEST_CASE("relative squared error is 0 at the target and 1 at zero", "[unit]") {
    auto t = torch::randn({1, 3, 4, 4});
    CHECK(relative_squared_error(t, t).item<double>() == Approx(0.0).margin(1e-12));
    CHECK(relative_squared_error(torch::zeros_like(t), t).item<double>() == Approx(1.0).epsilon(1e-6));
    CHECK(relative_squared_error(2 * t, t).item<double>() == Approx(1.0).epsilon(1e-6));
    CHECK(relative_squared_error(2 * t, t, squared_norm(t)).item<double>() ==
          relative_squared_error(2 * t, t).item<double>());
}

TEST_CASE("total variation of known images", "[unit]") {
    CHECK(total_variation(torch::full({1, 3, 5, 5}, 0.3)).item<double>() == Approx(0.0));
    // Vertical stripes 0,1,0,1: every horizontal step is 1, vertical steps 0.
    auto stripes = (torch::arange(4) % 2).to(torch::kFloat).view({1, 1, 1, 4}).expand({1, 3, 4, 4}).contiguous();
    CHECK(total_variation(stripes).item<double>() == Approx(1.0));
}

TEST_CASE("normalize_gradient scales the gradient to unit L1 norm", "[unit]") {
    auto x = torch::randn({1, 2, 3, 3}, torch::requires_grad());
    (normalize_gradient(x) * 7.0).sum().backward();
    CHECK(x.grad().abs().sum().item<double>() == Approx(1.0).epsilon(1e-5));
    auto y = torch::randn({4}, torch::requires_grad());
    (normalize_gradient(y) * 3.0).sum().backward();
    CHECK(torch::allclose(y.grad(), torch::full({4}, 0.25)));
}

TEST_CASE("Gram products split into fixed blocks match BLAS and give the same bytes on 1 to 3 threads", "[unit]") {
    // Blocks depend on the shape only: enough work each, at least 512 pixels
    // each, at most 64, and at most 16 MB of C x C partial products.
    CHECK(gram_block_count(64, 262144) == 64);  // relu1_1 at 512 px
    CHECK(gram_block_count(512, 4096) == 8);    // relu4_1 at 512 px: 512 pixels each
    CHECK(gram_block_count(512, 1024) == 2);
    CHECK(gram_block_count(512, 256) == 1);
    CHECK(gram_block_count(3, 1000000) == 1);  // too little work to split
    CHECK(gram_block_count(512, 65536) == 16);  // relu4_1 at 2048 px: 16 MB of partial products at most
    const int saved = at::get_num_threads();
    for (const auto& shape : std::vector<std::pair<int64_t, int64_t>>{{64, 40000}, {256, 3000}, {96, 700}}) {
        torch::manual_seed(static_cast<uint64_t>(shape.second));
        const auto f = torch::randn({shape.first, shape.second});
        const auto s = torch::randn({shape.first, shape.first});
        // Both layouts the losses hand over: (C,K) rows and a channels-last view.
        const auto f_cl = torch::randn({shape.second, shape.first}).t();
        INFO("C " << shape.first << ", K " << shape.second);
        std::vector<torch::Tensor> first;
        for (int threads : {1, 2, 3}) {
            at::set_num_threads(threads);
            const auto g = gram_product(f), g_cl = gram_product(f_cl);
            auto sf = at::empty_like(f);
            left_product_out(sf, s, f);
            auto sf_cl = torch::empty({shape.second, shape.first}).t();
            left_product_out(sf_cl, s, f_cl);
            CHECK(sf_cl.stride(0) == 1);  // written in place, in its layout
            const std::vector<torch::Tensor> got{g, g_cl, sf, sf_cl};
            if (first.empty()) {
                first = got;
                CHECK(torch::allclose(g, at::mm(f, f.t()), 1e-4, 1e-2));
                CHECK(torch::allclose(g_cl, at::mm(f_cl, f_cl.t()), 1e-4, 1e-2));
                CHECK(torch::allclose(sf, at::mm(s, f), 1e-4, 1e-3));
                CHECK(torch::allclose(sf_cl, at::mm(s, f_cl), 1e-4, 1e-3));
            } else {
                for (size_t i = 0; i < got.size(); ++i) {
                    INFO("product " << i << ", " << threads << " threads");
                    CHECK(torch::equal(got[i], first[i]));
                }
            }
        }
    }
    at::set_num_threads(saved);
}
