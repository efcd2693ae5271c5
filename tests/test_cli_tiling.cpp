// The command line's --tile and --tile-halo: auto tiling, explicit tiles
// that do not fit, and the refusals.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/image_io.hpp"
#include "stylize/memory_estimate.hpp"

using namespace stylize;
using fixtures::run_cli;
using fixtures::TempDir;
namespace fs = std::filesystem;

TEST_CASE("cli: --tile auto tiles a run that would not fit; explicit tiles that do not fit name what would",
          "[cli]") {
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image(512, 512));
    stylize::save_image(dir / "s.png", fixtures::style_image(128, 128, 7));
    auto model = FeatureExtractor::load(fixtures::model());
    StylizeOptions o;
    const double plain = estimate_memory_bytes(model, 512, 512, o);
    o.tile = 96;
    const double tiled = estimate_memory_bytes(model, 512, 512, o);
    REQUIRE(tiled < plain);
    const std::string base = "'" + (dir / "c.png") + "' '" + (dir / "s.png") + "' --model '" + fixtures::model() +
                             "' -n 2 -s 512 --progress none --checkpoint off -o '" + (dir / "o.png") + "'";
    const std::string between = " --memory-limit " + std::to_string(static_cast<long>((plain + tiled) / 2));
    auto r = run_cli(base + between + " --sidecar", dir);
    CHECK(r.code == 0);
    CHECK_THAT(r.err, Catch::Contains("exact tiles of"));
    CHECK(fixtures::read_file(dir / "o.png.json").find("\"tile\"") != std::string::npos);
    CHECK(stylize::load_image(dir / "o.png").rgb.size(3) == 512);  // not shrunk
    r = run_cli(base + between + " --tile off", dir);
    CHECK(r.code == 5);
    CHECK_THAT(r.err, Catch::Contains("largest --size that fits"));
    r = run_cli(base + " --tile 96 --memory-limit " + std::to_string(static_cast<long>(tiled / 2)), dir);
    CHECK(r.code == 5);
    CHECK_THAT(r.err, Catch::Contains("--tile 96") && Catch::Contains("smallest --memory-limit"));

    // A tile no smaller than the image is no tile: --checkpoint auto still
    // fits the run, and the sidecar records no tile.
    o.tile = 0;
    o.checkpoint = true;
    const double ckpt = estimate_memory_bytes(model, 512, 512, o);
    REQUIRE(ckpt < plain);
    r = run_cli("'" + (dir / "c.png") + "' '" + (dir / "s.png") + "' --model '" + fixtures::model() +
                    "' -n 2 -s 512 --progress none --sidecar --tile 1024 -o '" + (dir / "o.png") + "' --memory-limit " +
                    std::to_string(static_cast<long>((plain + ckpt) / 2)),
                dir);
    CHECK(r.code == 0);
    CHECK_THAT(r.err, Catch::Contains("activation checkpointing on"));
    CHECK(fixtures::read_file(dir / "o.png.json").find("\"tile\"") == std::string::npos);
}

TEST_CASE("cli: bad --tile and --tile-halo values are refused with one line and exit 2", "[cli]") {
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image(48, 64));
    stylize::save_image(dir / "s.png", fixtures::style_image());
    const std::string base = "'" + (dir / "c.png") + "' '" + (dir / "s.png") + "' --model '" + fixtures::model() +
                             "' -n 1 --progress none -o '" + (dir / "o.png") + "'";
    const std::vector<std::pair<std::string, std::string>> cases{
        {" --tile 8", "smallest tile is 16"},
        {" --tile 64", "smallest tile is 96"},
        {" --tile 128 --tile-halo 200", "largest halo for this tile is 128"},
        {" --tile 128 --style-loss sliced-wasserstein", "mean-cov"},
        {" --tile big", "--tile"},
        {" --tile 128 --tile-halo -3", "--tile-halo"},
        {" --tile off --tile-halo 16", "needs tiles"},
    };
    for (const auto& [args, message] : cases) {
        INFO(args);
        const auto r = run_cli(base + args, dir);
        CHECK(r.code == 2);
        CHECK_THAT(r.err, Catch::Contains(message));
        CHECK(!fs::exists(dir / "o.png"));
    }
}
