// The spatial-control and style-loss options from the command line and in
// jobs files: runs that work, and one clear line with its exit code for
// each bad input.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "stylize/image_io.hpp"

using fixtures::run_cli;
using fixtures::TempDir;
namespace fs = std::filesystem;

namespace {
struct MaskInputs {
    TempDir dir;
    std::string content = dir / "content.png", a = dir / "a.png", b = dir / "b.png";
    // A map of one pure colour: channel `c` (0 red, 1 green, 2 blue) full.
    void save_flat(const std::string& name, int64_t h, int64_t w, int c) const {
        auto m = torch::zeros({1, 3, h, w});
        m[0][c].fill_(1.0);
        stylize::save_image(dir / name, m);
    }
    MaskInputs() {
        stylize::save_image(content, fixtures::content_image(48, 64));
        stylize::save_image(a, fixtures::style_image(48, 64, 5));
        stylize::save_image(b, fixtures::style_image(40, 40, 13));
        auto left = torch::zeros({1, 3, 48, 64});
        left.narrow(3, 0, 32).fill_(1.0);
        stylize::save_image(dir / "left.png", left);
        stylize::save_image(dir / "right.png", 1.0 - left);
        stylize::save_image(dir / "black.png", torch::zeros({1, 3, 48, 64}));
        stylize::save_image(dir / "square.png", torch::ones({1, 3, 48, 48}));
        // Colour maps: content red | blue; style a all blue; style b all red.
        auto map = torch::zeros({1, 3, 48, 64});
        map[0][0].narrow(1, 0, 32).fill_(1.0);
        map[0][2].narrow(1, 32, 32).fill_(1.0);
        stylize::save_image(dir / "content-map.png", map);
        save_flat("a-map.png", 48, 64, 2);
        save_flat("b-map.png", 40, 40, 0);
        save_flat("b-blue-map.png", 40, 40, 2);
        save_flat("green-map.png", 40, 40, 1);
        torch::manual_seed(3);
        stylize::save_image(dir / "noise.png", torch::rand({1, 3, 48, 64}));
    }
    std::string base() const {
        return "'" + content + "' '" + a + "' '" + b + "' --model '" + fixtures::model() +
               "' -s 48 -n 6 --progress none -o '" + (dir / "out.png") + "' ";
    }
};
}  // namespace

TEST_CASE("cli: --style-region runs, also coarse-to-fine, and is recorded in the sidecar", "[cli]") {
    MaskInputs in;
    const auto r = run_cli(in.base() + "--style-region '" + (in.dir / "left.png") + "' --style-region '" +
                               (in.dir / "right.png") + "' --style-loss mean-cov --sidecar --scales 2 --scale-iterations 3",
                           in.dir);
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto side = nlohmann::json::parse(fixtures::read_file(in.dir / "out.png.json"));
    CHECK(side["options"]["style_loss"] == "mean-cov");
    CHECK(side["options"]["style_regions"].size() == 2);
}

TEST_CASE("cli: colour-coded masks run; a colour no style has is warned about", "[cli]") {
    MaskInputs in;
    auto r = run_cli(in.base() + "--content-mask '" + (in.dir / "content-map.png") + "' --style-mask '" +
                         (in.dir / "a-map.png") + "' --style-mask '" + (in.dir / "b-map.png") + "'",
                     in.dir);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.err.find("is in no --style-mask") == std::string::npos);
    // Both style maps are blue only: the red half of the content has no style.
    r = run_cli(in.base() + "--content-mask '" + (in.dir / "content-map.png") + "' --style-mask '" +
                    (in.dir / "a-map.png") + "' --style-mask '" + (in.dir / "b-blue-map.png") + "'",
                in.dir);
    CHECK(r.code == 0);
    CHECK_THAT(r.err, Catch::Contains("colour #ff0000 (50% of the image) is in no --style-mask"));
}

TEST_CASE("cli: every style loss runs", "[cli]") {
    MaskInputs in;
    for (const char* loss : {"gram", "mean-cov", "sliced-wasserstein", "histogram"}) {
        INFO(loss);
        const auto r = run_cli(in.base() + "--style-loss " + loss, in.dir);
        INFO(r.err);
        CHECK(r.code == 0);
    }
    const auto bad = run_cli(in.base() + "--style-loss wasserstein", in.dir);
    CHECK(bad.code == 2);
    CHECK_THAT(bad.err, Catch::Contains("gram|mean-cov|sliced-wasserstein|histogram"));
}

TEST_CASE("cli: bad masks exit with one line naming the option and file", "[cli]") {
    MaskInputs in;
    struct Case {
        std::string args;
        int code;
        std::string says;
    };
    const std::string left = in.dir / "left.png", right = in.dir / "right.png";
    const std::vector<Case> cases{
        {"--style-region '" + left + "'", 2, "--style-region: 1 mask(s) for 2 style image(s)"},
        {"--style-region '" + left + "' --style-region '" + (in.dir / "missing.png") + "'", 3, "missing.png"},
        {"--style-region '" + left + "' --style-region '" + (in.dir / "black.png") + "'", 3,
         "black.png: the mask is empty"},
        {"--style-region '" + left + "' --style-region '" + (in.dir / "square.png") + "'", 3,
         "a different aspect ratio"},
        {"--style-mask '" + left + "' --style-mask '" + right + "'", 2, "--style-mask needs --content-mask"},
        {"--content-mask '" + (in.dir / "content-map.png") + "' --style-mask '" + (in.dir / "a-map.png") + "'", 2,
         "one --style-mask per style image"},
        {"--content-mask '" + (in.dir / "content-map.png") + "' --style-mask '" + (in.dir / "a-map.png") +
             "' --style-mask '" + (in.dir / "green-map.png") + "'",
         3, "green-map.png has none of the content mask's colours"},
        {"--content-mask '" + (in.dir / "noise.png") + "' --style-mask '" + (in.dir / "a-map.png") +
             "' --style-mask '" + (in.dir / "b-blue-map.png") + "'",
         3, "noise.png: the content mask has no flat colour"},
        {"--style-region '" + left + "' --style-region '" + right + "' --content-mask '" + left + "'", 2,
         "use one"},
    };
    for (const auto& c : cases) {
        INFO(c.args);
        const auto r = run_cli(in.base() + c.args, in.dir);
        INFO(r.err);
        CHECK(r.code == c.code);
        CHECK_THAT(r.err, Catch::Contains(c.says));
        CHECK(!fs::exists(in.dir / "out.png"));
    }
}

TEST_CASE("cli: a jobs file line takes --style-region and --style-loss, paths relative to the file", "[cli]") {
    MaskInputs in;
    fixtures::write_file(in.dir / "jobs.txt",
                         "content.png a.png b.png -o masked.png --style-region left.png --style-region right.png "
                         "--style-loss histogram\ncontent.png a.png -o plain.png\n");
    const auto r = run_cli("batch --jobs '" + (in.dir / "jobs.txt") + "' --model '" + fixtures::model() +
                               "' -s 48 -n 4 --progress none -O '" + (in.dir / "out") + "'",
                           in.dir);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(fs::exists(in.dir / "out/masked.png"));
    CHECK(fs::exists(in.dir / "out/plain.png"));
}

TEST_CASE("cli: video refuses masks", "[cli]") {
    MaskInputs in;
    const auto r = run_cli("video '" + in.content + "' '" + in.a + "' -o '" + (in.dir / "v") + "' --style-region '" +
                               (in.dir / "left.png") + "' --model '" + fixtures::model() + "'",
                           in.dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("for still images"));
}
