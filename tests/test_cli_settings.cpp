// One source per setting: the flags' help and defaults, the checks after
// parsing, --tile's and --tile-halo's words, and the provenance record all
// come from the library's settings (stylize/settings.hpp).
#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "json_output.hpp"
#include "options_binding.hpp"
#include "provenance.hpp"
#include "commands/run_command.hpp"
#include "stylize/errors.hpp"

using namespace stylize;
using namespace stylize::cli;

namespace {

// The bound flags of a job and of the process, as the run command has them.
struct Bound {
    CLI::App app;
    RunOptions o;
    Bound() {
        bind_job_options(app, o.job);
        bind_process_options(app, o);
    }
    // Parses `args` (reversed, as CLI11 takes a vector) into fresh options.
    void parse(std::vector<std::string> args) {
        std::reverse(args.begin(), args.end());
        app.parse(args);
    }
};

template <class T>
void check_bound(const CLI::App& app, const Setting<T>& s) {
    INFO(s.flag);
    const auto* opt = app.get_option(s.flag);
    CHECK(opt->get_description() == s.help);
    CHECK(opt->get_default_str() == CLI::detail::to_string(s.fallback));
    CHECK(app.help().find(s.help) != std::string::npos);
}

// finalize_job_options' message for the job flags `args`, "" when accepted.
std::string finalized(const std::vector<std::string>& args) {
    Bound b;
    b.parse(args);
    try {
        finalize_job_options(b.o.job, 1);
        return "";
    } catch (const InvalidArgument& e) {
        return e.what();
    }
}

}  // namespace

TEST_CASE("settings: each flag's help and default are its setting's", "[unit]") {
    Bound b;
    for (const auto* s : {&settings::iterations, &settings::lbfgs_history, &settings::early_stop_window,
                          &settings::size, &settings::scales, &settings::scale_iterations, &settings::bit_depth,
                          &settings::jpeg_quality, &settings::save_every, &settings::threads})
        check_bound(b.app, *s);
    for (const auto* s : {&settings::content_weight, &settings::style_weight, &settings::tv_weight,
                          &settings::learning_rate, &settings::ema_decay, &settings::early_stop,
                          &settings::style_scale, &settings::scale_factor})
        check_bound(b.app, *s);
    // --tile and --tile-halo take words too: their help is the setting's.
    CHECK(b.app.get_option("--tile")->get_description() == settings::tile.help);
    CHECK(b.app.get_option("--tile-halo")->get_description() == settings::tile_halo.help);
    CHECK(b.app.get_option("-n")->get_name() == b.app.get_option("--iterations")->get_name());
}

TEST_CASE("settings: a value the binding parses is checked against the setting's range", "[unit]") {
    CHECK(finalized({}).empty());
    CHECK(finalized({"-n", "1000000", "--jpeg-quality", "1", "--bit-depth", "16", "--save-every", "0"}).empty());
    CHECK(finalized({"-n", "0"}) == "--iterations must be " + range_text(settings::iterations) + ", got 0");
    CHECK(finalized({"--bit-depth", "12"}) == "--bit-depth must be 8 or 16, got 12");
    // The engine takes bit depth 0 (not quantised); the command line does not.
    CHECK(finalized({"--bit-depth", "0"}) == "--bit-depth must be 8 or 16, got 0");
    CHECK(finalized({"--jpeg-quality", "101"}) == "--jpeg-quality must be between 1 and 100, got 101");
    CHECK(finalized({"--save-every", "-1"}) == "--save-every must be >= 0, got -1");
    CHECK(finalized({"-s", "15"}) == "--size must be 0 (keep) or between 16 and 16384, got 15");
    CHECK(finalized({"--learning-rate", "0"}) == "--learning-rate must be in (0, 10], got 0");
    CHECK(finalized({"--style-blend", "1,2"}) == "--style-blend has 2 weights for 1 style images");
}

TEST_CASE("settings: --tile and --tile-halo take their words or a number in the setting's range", "[unit]") {
    auto refusal = [](const std::vector<std::string>& args) -> std::string {
        Bound b;
        try {
            b.parse(args);
            return "";
        } catch (const CLI::ParseError& e) {
            return e.what();
        }
    };
    for (const auto& ok : {"auto", "off", "1", "96", "16384"}) CHECK(refusal({"--tile", ok}).empty());
    for (const auto& ok : {"exact", "0", "16384"}) CHECK(refusal({"--tile-halo", ok}).empty());
    const std::string tile_range = "(" + std::to_string(settings::tile.min) + "-" + std::to_string(settings::tile.max) + ")";
    CHECK_THAT(refusal({"--tile", "0"}), Catch::Contains("--tile: 0 is not auto, off or a number of pixels " + tile_range));
    CHECK_THAT(refusal({"--tile", "16385"}), Catch::Contains("16385 is not auto, off"));
    CHECK_THAT(refusal({"--tile", "big"}), Catch::Contains("big is not auto, off"));
    CHECK_THAT(refusal({"--tile-halo", "-1"}),
               Catch::Contains("--tile-halo: -1 is not exact or a number of pixels (0-16384)"));
}

TEST_CASE("settings: --threads has one range", "[unit]") {
    RunOptions o;
    CHECK(o.threads == settings::threads.fallback);
    o.threads = settings::threads.max;
    CHECK_NOTHROW(check_process_options(o));
    o.threads = settings::threads.max + 1;
    CHECK_THROWS_WITH(check_process_options(o), "--threads must be between 0 and 1024, got 1025");
    o.threads = -1;
    CHECK_THROWS_WITH(check_process_options(o), "--threads must be between 0 and 1024, got -1");
}

TEST_CASE("provenance records every option, from the options themselves", "[model]") {
    const auto model = FeatureExtractor::load(fixtures::model());
    JobSpec job;
    job.content = "c.png";
    job.styles = {"s.png"};
    job.output = "o.png";
    Bound b;
    b.parse({"-n", "7", "--tv-weight", "0.25", "--jpeg-quality", "80", "--save-every", "3", "--style-blend", "2"});
    job.options = b.o.job;
    finalize_job_options(job.options, 1);
    auto& e = job.options.engine;
    e.tile = 128;  // as a plan that tiles sets it
    e.checkpoint = true;
    const auto record = nlohmann::json::parse(dump_json(provenance_record(job, model, nullptr)));
    const auto& opt = record.at("options");
    const auto expected = nlohmann::json::parse(dump_json(options_json(e)));
    std::vector<std::string> keys;
    for_each_option(e, [&](const char* key, const auto&) { keys.push_back(key); });
    REQUIRE(keys.size() == expected.size());
    // What the model ran with and the blend as written replace the options' own.
    for (const auto& k : keys) {
        INFO(k);
        REQUIRE(opt.contains(k));
        if (k != "style_blend" && k != "device" && k != "precision" && k != "pooling") CHECK(opt.at(k) == expected.at(k));
    }
    CHECK(opt.at("iterations") == 7);
    CHECK(opt.at("tv_weight") == 0.25);
    CHECK(opt.at("checkpoint") == true);
    CHECK(opt.at("tile") == 128);
    CHECK(opt.at("tile_halo") == -1);
    CHECK(opt.at("bit_depth") == 8);
    CHECK(opt.at("style_blend") == "2");
    CHECK(opt.at("device") == "cpu");
    // The command line's own options too.
    CHECK(opt.at("jpeg_quality") == 80);
    CHECK(opt.at("save_every") == 3);
    CHECK(opt.at("threads").is_number_integer());
    CHECK(opt.at("init_image") == "");
    CHECK(record.at("seed") == e.seed);
}
