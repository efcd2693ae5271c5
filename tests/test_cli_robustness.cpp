// Odd inputs, faults and interruptions through the command line: each case
// ends in a correct result, or one error line with the documented exit code
// and no stray files.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/image_io.hpp"
#include "stylize/memory_estimate.hpp"

using fixtures::run_cli;
using fixtures::TempDir;
namespace fs = std::filesystem;

namespace {
std::string image(const std::string& name) { return (fs::path(STYLIZE_FIXTURE_DIR) / "images" / name).string(); }

size_t files_in(const fs::path& dir) {
    size_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
    return n;
}

int shell(const std::string& script) {
    const int status = std::system(("bash -c '" + script + "'").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

TEST_CASE("cli: odd images from the command line", "[cli]") {
    TempDir dir;
    const std::string m = " --model '" + fixtures::model() + "' -n 2 -s 32 --progress none -o '" + (dir / "o.png") + "'";
    CHECK(run_cli("'" + image("cmyk.jpg") + "' '" + image("exif_rot90.jpg") + "'" + m, dir).code == 0);
    auto r = run_cli("'" + image("truncated.jpg") + "' '" + image("plain.jpg") + "'" + m, dir);
    CHECK(r.code == 3);
    CHECK_THAT(r.err, Catch::Contains("truncated.jpg"));
    r = run_cli("'" + image("wide.png") + "' '" + image("plain.jpg") + "'" + m, dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("at least 16 pixels"));
    r = run_cli("'" + image("plain.jpg") + "' '" + image("plain.jpg") + "' --max-pixels 500" + m, dir);
    CHECK(r.code == 3);
    CHECK_THAT(r.err, Catch::Contains("--max-pixels"));
    CHECK(files_in(dir.path) == 3);  // o.png from the first run, stdout.txt, stderr.txt
}

TEST_CASE("cli: a full disk (file-size limit) fails cleanly and leaves no file", "[cli]") {
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image(64, 64));
    stylize::save_image(dir / "s.png", fixtures::style_image(64, 64));
    fs::create_directories(dir / "out");
    // ulimit -f counts 1 KiB blocks: 1 KiB is less than the PNG needs (~3 KiB).
    const int code = shell("ulimit -f 1; \"" STYLIZE_EXE "\" " + dir / "c.png" + " " + dir / "s.png" + " -o " +
                           dir / "out/o.png" + " --model " + fixtures::model() + " -n 2 -s 64 -q 2>" + dir / "err");
    CHECK(code == 3);
    CHECK_THAT(fixtures::read_file(dir / "err"), Catch::Contains("o.png") && Catch::Contains("nothing was written"));
    CHECK(files_in(dir / "out") == 0);
}

TEST_CASE("cli: SIGINT and SIGTERM save the current image as .partial and exit 130/143", "[cli]") {
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image());
    stylize::save_image(dir / "s.png", fixtures::style_image());
    for (const auto& [sig, expected] : {std::pair<std::string, int>{"INT", 130}, {"TERM", 143}}) {
        const std::string prog = dir / ("prog" + sig);
        const std::string cmd = "\"" STYLIZE_EXE "\" " + dir / "c.png" + " " + dir / "s.png" + " -o " +
                                dir / ("o" + sig + ".png") + " --model " + fixtures::model() +
                                " -n 100000 -s 48 --progress json >" + prog + " 2>" + dir / "err";
        // Once the first evaluation is reported.
        CHECK(fixtures::signal_when(cmd, "[ -s " + prog + " ]", sig, dir) == expected);
        CHECK(fs::exists(dir / ("o" + sig + ".partial.png")));
        CHECK(!fs::exists(dir / ("o" + sig + ".png")));
        CHECK_THAT(fixtures::read_file(dir / "err"), Catch::Contains("interrupted by SIG" + sig));
    }
}

TEST_CASE("cli: a run that does not fit in memory stops with the estimate; --auto-shrink fits it", "[cli]") {
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image(96, 128));
    stylize::save_image(dir / "s.png", fixtures::style_image());
    // A limit between what 32 px and 128 px need (a fixed part, Winograd
    // weights and scratchpad, does not shrink with the image).
    auto model = stylize::FeatureExtractor::load(fixtures::model());
    const stylize::StylizeOptions defaults;
    const double limit = (stylize::estimate_memory_bytes(model, 32, 32, defaults) +
                          stylize::estimate_memory_bytes(model, 96, 128, defaults)) / 2;
    const std::string base = "'" + (dir / "c.png") + "' '" + (dir / "s.png") + "' --model '" + fixtures::model() +
                             "' -n 2 -s 128 --progress none --checkpoint off --memory-limit " +
                             std::to_string(static_cast<long>(limit)) + " -o '" + (dir / "o.png") + "'";
    auto r = run_cli(base, dir);
    CHECK(r.code == 5);
    CHECK_THAT(r.err, Catch::Contains("MiB") && Catch::Contains("largest --size that fits"));
    CHECK(!fs::exists(dir / "o.png"));
    r = run_cli(base + " --auto-shrink", dir);
    CHECK(r.code == 0);
    const auto out = stylize::load_image(dir / "o.png");
    CHECK(out.rgb.size(3) < 128);
    CHECK(out.rgb.size(3) >= 16);
}

TEST_CASE("cli: --checkpoint auto turns checkpointing on when only that fits", "[cli]") {
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image(96, 128));
    stylize::save_image(dir / "s.png", fixtures::style_image());
    auto model = stylize::FeatureExtractor::load(fixtures::model());
    stylize::StylizeOptions o;
    const double plain = stylize::estimate_memory_bytes(model, 96, 128, o);
    o.checkpoint = true;
    const double ckpt = stylize::estimate_memory_bytes(model, 96, 128, o);
    REQUIRE(ckpt < plain);
    const std::string base = "'" + (dir / "c.png") + "' '" + (dir / "s.png") + "' --model '" + fixtures::model() +
                             "' -n 2 -s 128 --progress none -o '" + (dir / "o.png") + "' --memory-limit " +
                             std::to_string(static_cast<long>((plain + ckpt) / 2));
    auto r = run_cli(base, dir);
    CHECK(r.code == 0);
    CHECK_THAT(r.err, Catch::Contains("activation checkpointing on"));
    CHECK(stylize::load_image(dir / "o.png").rgb.size(3) == 128);  // not shrunk
    r = run_cli(base + " --checkpoint off", dir);
    CHECK(r.code == 5);
    CHECK_THAT(r.err, Catch::Contains("largest --size that fits"));
    r = run_cli(base + " --checkpoint sometimes", dir);
    CHECK(r.code == 2);
}

TEST_CASE("cli: an interrupted batch reports the jobs it finished", "[cli]") {
    TempDir dir;
    fs::create_directories(dir / "c");
    for (const char* n : {"a.png", "b.png", "c.png"}) stylize::save_image(dir / ("c/" + std::string(n)), fixtures::content_image());
    stylize::save_image(dir / "s.png", fixtures::style_image());
    // Job 1 is quick; job 2 is long, and interrupted once job 1's report line exists.
    fixtures::write_file(dir / "jobs.txt", "c/a.png s.png -n 2\nc/b.png s.png -n 100000\nc/c.png s.png -n 2\n");
    const std::string report = dir / "r.jsonl";
    const std::string progress = dir / "progress.jsonl";
    const std::string cmd = "\"" STYLIZE_EXE "\" batch --jobs " + dir / "jobs.txt" + " -O " + dir / "out" +
                            " --model " + fixtures::model() + " -s 32 --progress json --report " + report + " >" +
                            progress + " 2>/dev/null";
    // Once job 1 is reported and job 2 has reported an evaluation.
    CHECK(fixtures::signal_when(cmd, "[ -s " + report + " ] && grep -q '\"total\":100000' " + progress + " 2>/dev/null",
                                "INT", dir) == 130);
    const auto text = fixtures::read_file(report);
    CHECK(std::count(text.begin(), text.end(), '\n') == 2);
    CHECK_THAT(text, Catch::Contains("\"status\":\"ok\"") && Catch::Contains("\"status\":\"interrupted\""));
    CHECK(fs::exists(dir / "out/a__s.png"));
    CHECK(fs::exists(dir / "out/b__s.partial.png"));
    CHECK(!fs::exists(dir / "out/c__s.png"));
}

TEST_CASE("cli: --conv-algorithm picks the convolutions and the sidecar records them", "[cli]") {
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image(48, 64));
    stylize::save_image(dir / "s.png", fixtures::style_image());
    const std::string base = "'" + (dir / "c.png") + "' '" + (dir / "s.png") + "' --model '" + fixtures::model() +
                             "' -n 2 -s 64 --progress none --sidecar -o '" + (dir / "o.png") + "'";
    auto r = run_cli(base + " --conv-algorithm direct", dir);
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(fixtures::read_file(dir / "o.png.json"), Catch::Contains("\"conv_algorithm\":\"direct\""));
    const auto direct_plan = nlohmann::json::parse(fixtures::read_file(dir / "o.png.json"))["options"]["conv_plan"];
    CHECK(direct_plan.get<std::string>().find('w') == std::string::npos);
    // auto: the plan measured on this machine (conv_calibration.hpp), or
    // all-direct where Winograd cannot run.
    r = run_cli(base, dir);
    REQUIRE(r.code == 0);
    const auto side = nlohmann::json::parse(fixtures::read_file(dir / "o.png.json"));
    const auto plan = side["options"]["conv_plan"].get<std::string>();
    CHECK(plan.size() == direct_plan.get<std::string>().size());
    CHECK(side["options"]["conv_algorithm"] == (plan.find('w') != std::string::npos ? "winograd" : "direct"));
    if (!stylize::winograd_supported()) CHECK(plan.find('w') == std::string::npos);
    r = run_cli(base + " --conv-algorithm winograd --precision bf16", dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("Winograd") && Catch::Contains("fp32"));
    r = run_cli(base + " --conv-algorithm fast", dir);
    CHECK(r.code == 2);
}
