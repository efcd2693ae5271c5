// The determinism contract (docs/guides/batch-and-ci.md): the same bytes whatever
// the thread count, and with --reproducible whatever instruction sets the
// libraries are allowed.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "stylize/image_io.hpp"
#include "model/onednn_conv.hpp"

using fixtures::run_cli;
using fixtures::TempDir;

namespace {
struct Job {
    TempDir dir;
    std::string content = dir / "content.png", style = dir / "style.png";
    Job() {
        stylize::save_image(content, fixtures::content_image(48, 64));
        stylize::save_image(style, fixtures::style_image(48, 64));
    }
    // A run long enough for L-BFGS to amplify any last-bit difference.
    std::string args(const std::string& out, const std::string& extra) const {
        return "'" + content + "' '" + style + "' --model '" + fixtures::model() + "' -s 64 -n 40 --progress none -q -o '" +
               (dir / out) + "' " + extra;
    }
    std::string bytes(const std::string& out) const { return fixtures::read_file(dir / out); }
};
}  // namespace

TEST_CASE("determinism: 1, 2 and 4 threads give the same bytes with the default options", "[cli]") {
    Job job;
    for (int threads : {1, 2, 4}) {
        const auto r = run_cli(job.args("t" + std::to_string(threads) + ".png", "-j " + std::to_string(threads)), job.dir);
        INFO(r.err);
        REQUIRE(r.code == 0);
    }
    const auto one = job.bytes("t1.png");
    REQUIRE(!one.empty());
    CHECK(job.bytes("t2.png") == one);
    CHECK(job.bytes("t4.png") == one);
}

TEST_CASE("determinism: full-width Winograd layers give the same bytes for 1 and 4 threads at 160 px", "[cli]") {
    // oneDNN chooses the Winograd kernels' schedule from the thread count
    // when they are set up: with VGG19's real widths, a 160x150 content and a
    // 160x110 style, 20 evaluations gave other bytes for 4 threads than for
    // 1 (AMD EPYC with AVX-512) until the set-up stopped following -j.
    TempDir dir;
    const std::string content = dir / "content.png", style = dir / "style.png";
    stylize::save_image(content, fixtures::content_image(150, 160));
    stylize::save_image(style, fixtures::style_image(110, 160, 7.0));
    for (int threads : {1, 4}) {
        const auto r = run_cli("'" + content + "' '" + style + "' --model '" + fixtures::model("vgg19.pt") +
                                   "' -s 160 -n 20 --conv-algorithm winograd --progress none -q -o '" +
                                   (dir / ("w" + std::to_string(threads) + ".png")) + "' -j " +
                                   std::to_string(threads),
                               dir);
        INFO(r.err);
        REQUIRE(r.code == 0);
    }
    const auto one = fixtures::read_file(dir / "w1.png");
    REQUIRE(!one.empty());
    CHECK(fixtures::read_file(dir / "w4.png") == one);
}

TEST_CASE("threads: a run confined to one CPU (taskset, a Slurm binding) defaults to one thread", "[cli]") {
    if (std::system("taskset -c 0 true >/dev/null 2>&1") != 0) {
        WARN("no taskset here: not tested");
        return;
    }
    Job job;
    const std::string cmd = "taskset -c 0 '" + std::string(STYLIZE_EXE) + "' " +
                            job.args("one.png", "--sidecar") + " 2>'" + (job.dir / "err") + "'";
    const int status = std::system(cmd.c_str());
    INFO(fixtures::read_file(job.dir / "err"));
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    const auto sidecar = nlohmann::json::parse(job.bytes("one.png.json"));
    CHECK(sidecar["options"]["threads"] == 1);
}

TEST_CASE("determinism: direct convolutions give the same bytes for 1 to 8 threads", "[cli]") {
    Job job;
    for (int threads : {1, 3, 8}) {
        const auto r = run_cli(job.args("d" + std::to_string(threads) + ".png",
                                        "--conv-algorithm direct -j " + std::to_string(threads)),
                               job.dir);
        INFO(r.err);
        REQUIRE(r.code == 0);
    }
    CHECK(job.bytes("d3.png") == job.bytes("d1.png"));
    CHECK(job.bytes("d8.png") == job.bytes("d1.png"));
}

TEST_CASE("determinism: --reproducible gives the same bytes under other instruction-set caps", "[cli]") {
    Job job;
    // The caller's environment allows the AVX-512 kernels (or only SSE4.1's
    // and AVX2's): the mode pins every library to AVX2 whatever is set.
    const std::string caps[] = {
        "",
        "ATEN_CPU_CAPABILITY=avx512 ONEDNN_MAX_CPU_ISA=AVX512_CORE OPENBLAS_CORETYPE=SkylakeX",
        "ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41",
    };
    for (size_t i = 0; i < 3; ++i) {
        const std::string out = "r" + std::to_string(i) + ".png";
        const std::string cmd = caps[i] + (caps[i].empty() ? "" : " ") + "'" + STYLIZE_EXE + "' " +
                                job.args(out, "--reproducible -j 2 --sidecar") + " 2>'" + (job.dir / "err") + "'";
        const int status = std::system(cmd.c_str());
        INFO(fixtures::read_file(job.dir / "err"));
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
    }
    CHECK(job.bytes("r1.png") == job.bytes("r0.png"));
    CHECK(job.bytes("r2.png") == job.bytes("r0.png"));
    const auto sidecar = nlohmann::json::parse(job.bytes("r1.png.json"));
    CHECK(sidecar["options"]["reproducible"] == true);
    CHECK(sidecar["options"]["conv_algorithm"] == "direct");
    CHECK(sidecar["options"]["instruction_set_caps"].get<std::string>().find("AVX2") != std::string::npos);
}

TEST_CASE("determinism: bf16 gives the same bytes for 1 and 3 threads, and --reproducible refuses it", "[cli]") {
    if (!stylize::detail::bf16_conv_available()) {
        WARN("no oneDNN bf16 kernels in this build or on this CPU: bf16 runs on ATen's, outside the contract");
        return;
    }
    Job job;
    for (int threads : {1, 3}) {
        const auto r = run_cli(job.args("b" + std::to_string(threads) + ".png",
                                        "--precision bf16 -j " + std::to_string(threads)),
                               job.dir);
        INFO(r.err);
        REQUIRE(r.code == 0);
    }
    const auto one = job.bytes("b1.png");
    REQUIRE(!one.empty());
    CHECK(job.bytes("b3.png") == one);
    // --reproducible caps oneDNN at AVX2, which has no bf16 kernels: one
    // clear usage error instead of oneDNN's.
    const auto r = run_cli(job.args("r.png", "--precision bf16 --reproducible"), job.dir);
    CHECK(r.code == 2);
    CHECK(r.err.find("capped below AVX-512") != std::string::npos);
}

TEST_CASE("determinism: every style loss, with regions, gives the same bytes for 1 and 3 threads", "[cli]") {
    Job job;
    auto left = torch::zeros({1, 3, 48, 64});
    left.narrow(3, 0, 40).fill_(1.0);
    stylize::save_image(job.dir / "left.png", left);
    stylize::save_image(job.dir / "right.png", 1.0 - left);
    for (const char* loss : {"mean-cov", "sliced-wasserstein", "histogram"}) {
        for (int threads : {1, 3}) {
            // 256 px: the maps and the (upsampled, soft) masks are big enough
            // for ATen to split work across threads.
            const std::string out = std::string(loss) + std::to_string(threads) + ".png";
            const auto r = run_cli(job.args(out, "-s 256 -n 8 --style-loss " + std::string(loss) + " -j " +
                                                     std::to_string(threads) + " '" + job.style + "' --style-region '" +
                                                     (job.dir / "left.png") + "' --style-region '" +
                                                     (job.dir / "right.png") + "'"),
                                   job.dir);
            INFO(r.err);
            REQUIRE(r.code == 0);
        }
        INFO(loss);
        CHECK(job.bytes(std::string(loss) + "3.png") == job.bytes(std::string(loss) + "1.png"));
    }
}

TEST_CASE("determinism: a tiled run, with regions, gives the same bytes for 1 and 3 threads", "[cli]") {
    Job job;
    auto left = torch::zeros({1, 3, 48, 64});
    left.narrow(3, 0, 40).fill_(1.0);
    stylize::save_image(job.dir / "left.png", left);
    stylize::save_image(job.dir / "right.png", 1.0 - left);
    for (const char* loss : {"mean-cov", "gram"}) {
        for (int threads : {1, 3}) {
            // 256 px in tiles of 128: the tiles' sums are large enough for
            // ATen to split a reduction across threads.
            const std::string out = std::string("tiled-") + loss + std::to_string(threads) + ".png";
            const auto r = run_cli(job.args(out, "-s 256 -n 8 --tile 128 --style-loss " + std::string(loss) + " -j " +
                                                     std::to_string(threads) + " '" + job.style + "' --style-region '" +
                                                     (job.dir / "left.png") + "' --style-region '" +
                                                     (job.dir / "right.png") + "'"),
                                   job.dir);
            INFO(r.err);
            REQUIRE(r.code == 0);
        }
        INFO(loss);
        const std::string stem = std::string("tiled-") + loss;
        CHECK(job.bytes(stem + "3.png") == job.bytes(stem + "1.png"));
    }
}
