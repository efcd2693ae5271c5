// The command line's model checks.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <cstdlib>
#include <optional>

#include "fixtures.hpp"
#include "stylize/image_io.hpp"
#include "stylize/model.hpp"

using fixtures::TempDir;
namespace fs = std::filesystem;

TEST_CASE("cli: a model whose recorded sha256 does not match exits 4", "[cli]") {
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image());
    stylize::save_image(dir / "s.png", fixtures::style_image());
    const auto r = fixtures::run_cli("'" + (dir / "c.png") + "' '" + (dir / "s.png") + "' -o '" + (dir / "o.png") +
                                         "' --model '" + fixtures::model("badhash.pt") + "' -n 2 -s 32",
                                     dir);
    CHECK(r.code == 4);
    CHECK_THAT(r.err, Catch::StartsWith("stylize: error: ") && Catch::Contains("badhash.pt") &&
                          Catch::Contains("re-export it"));
    CHECK(!fs::exists(dir / "o.png"));
}

namespace {
// Sets an environment variable for one test, restoring it after.
struct ScopedEnv {
    std::string name;
    std::optional<std::string> old;
    ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
        if (const char* v = std::getenv(name.c_str())) old = v;
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv() { old ? ::setenv(name.c_str(), old->c_str(), 1) : ::unsetenv(name.c_str()); }
};
}  // namespace

TEST_CASE("cli: the model's digest is remembered in $STYLIZE_CACHE_DIR between runs", "[cli]") {
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image());
    stylize::save_image(dir / "s.png", fixtures::style_image());
    const std::string args = "'" + (dir / "c.png") + "' '" + (dir / "s.png") + "' -o '" + (dir / "o.png") +
                             "' --model '" + fixtures::model() + "' -n 1 -s 32 -v";
    const std::string remembered = "remembered for this unchanged file";
    {
        ScopedEnv cache("STYLIZE_CACHE_DIR", dir / "cache");
        const auto first = fixtures::run_cli(args, dir);
        REQUIRE(first.code == 0);
        CHECK_THAT(first.err, !Catch::Contains(remembered));
        CHECK(fs::exists(fs::path(dir / "cache") / "model-digests.json"));
        const auto second = fixtures::run_cli(args, dir);
        REQUIRE(second.code == 0);
        CHECK_THAT(second.err, Catch::Contains(remembered));
    }
    {
        ScopedEnv none("STYLIZE_CACHE_DIR", "none");
        const auto r = fixtures::run_cli(args, dir);
        REQUIRE(r.code == 0);
        CHECK_THAT(r.err, !Catch::Contains(remembered));
    }
}

TEST_CASE("cli: auto measures the convolutions once and the sidecar records the plan", "[cli]") {
    if (!stylize::winograd_supported()) {
        WARN("no oneDNN Winograd kernels in this build or on this CPU: nothing to measure here");
        return;
    }
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image());
    stylize::save_image(dir / "s.png", fixtures::style_image());
    const std::string args = "'" + (dir / "c.png") + "' '" + (dir / "s.png") + "' -o '" + (dir / "o.png") +
                             "' --model '" + fixtures::model() + "' -n 1 -s 32 -v --sidecar";
    const std::string measuring = "measuring the faster convolution for each layer at 64 px";
    auto plan_of = [&] {
        return nlohmann::json::parse(fixtures::read_file(dir / "o.png.json"))["options"]["conv_plan"].get<std::string>();
    };
    {
        ScopedEnv cache("STYLIZE_CACHE_DIR", dir / "cache");
        const auto first = fixtures::run_cli(args, dir);
        REQUIRE(first.code == 0);
        CHECK_THAT(first.err, Catch::Contains(measuring) && Catch::Contains("predicted"));
        const auto plan = plan_of();
        const auto remembered = nlohmann::json::parse(fixtures::read_file(dir / "cache/conv-plans.json"));
        REQUIRE(remembered["entries"].size() == 1);
        CHECK(remembered["entries"].begin().value()["plan"] == plan);
        const auto second = fixtures::run_cli(args, dir);
        REQUIRE(second.code == 0);
        CHECK_THAT(second.err, !Catch::Contains(measuring) && Catch::Contains("as measured before"));
        CHECK(plan_of() == plan);
    }
    {
        // No cache folder: nothing measured, Winograd wherever it can run.
        ScopedEnv none("STYLIZE_CACHE_DIR", "none");
        const auto r = fixtures::run_cli(args, dir);
        REQUIRE(r.code == 0);
        CHECK_THAT(r.err, !Catch::Contains(measuring));
        const auto plan = plan_of();
        CHECK(plan.find('w') != std::string::npos);
        CHECK(plan.find('d', plan.find('w')) == std::string::npos);  // the fixture's first 3 layers cannot
    }
}
