// Fast mode from the command line: stylize train, stylize apply and
// stylize video --fast-model.
#include <csignal>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "fast_mode_fixtures.hpp"
#include "fixtures.hpp"
#include "stylize/compare.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/transform_net.hpp"
#include "stylize/video_io.hpp"

using namespace stylize;
using fixtures::run_cli;
using fixtures::same_parameters;
using fixtures::TempDir;
using fixtures::write_training_set;
namespace fs = std::filesystem;

TEST_CASE("stylize train and stylize apply, end to end", "[cli]") {
    TempDir dir;
    write_training_set(dir);
    const std::string common = "--model '" + fixtures::model() + "' --crop 32 --batch 2 --width 4 --blocks 1 "
                               "--style-layers relu1_1,relu2_1 --content-layers relu2_1 --learning-rate 0.01 ";
    auto r = run_cli("train '" + (dir / "style.png") + "' --content-dir '" + (dir / "contents") + "' -o '" +
                         (dir / "net.pt") + "' --steps 12 --checkpoint-every 5 --validation '" + (dir / "contents/a.png") +
                         "' --validate-every 5 --log-every 4 " + common,
                     dir);
    REQUIRE(r.code == 0);
    CHECK(r.err.find("step 12/12") != std::string::npos);
    CHECK(r.err.find("ETA") != std::string::npos);
    const auto log = dir / "net-training";
    for (auto f : {"loss.csv", "loss.png", "checkpoint.pt", "val_000005.png", "val_000010.png", "val_000012.png"})
        CHECK(fs::exists(log + "/" + f));
    const auto csv = fixtures::read_file(log + "/loss.csv");
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 13);
    // Whether the photo survives, in numbers and in one picture.
    CHECK(r.err.find("validation at step 10: luminance SSIM to the photo") != std::string::npos);
    const auto val = fixtures::read_file(log + "/validation.csv");
    REQUIRE(std::count(val.begin(), val.end(), '\n') == 4);
    CHECK_THAT(val, Catch::StartsWith("step,luminance_ssim\n5,") && Catch::Contains("\n10,") && Catch::Contains("\n12,"));
    const double last = std::stod(val.substr(val.rfind("12,") + 3));
    const auto photo = load_image(dir / "contents/a.png").rgb;
    CHECK(last == Approx(luminance_ssim(load_image(log + "/val_000012.png").rgb, photo)).margin(1e-9));
    const auto sheet = load_image(log + "/validation.png").rgb;
    CHECK(sheet.size(3) > 3 * sheet.size(2));  // the photo and the latest three
    const auto net = TransformNet::load(dir / "net.pt");
    const auto info = nlohmann::json::parse(net.info_json());
    CHECK(info["steps"] == 12);
    CHECK(info["styles"][0]["sha256"].get<std::string>().size() == 64);
    CHECK(info["options"]["crop"] == 32);
    CHECK(info["options"]["style_weight"] == 2.0);  // training's own default (train_command.hpp)
    CHECK(info["options"]["style_scale"] == 2.0);

    SECTION("apply: a folder, names, report, skip-existing, shards; the same bytes twice") {
        auto a = run_cli("apply '" + (dir / "net.pt") + "' '" + (dir / "contents") + "' -O '" + (dir / "out") +
                             "' --size 40 --report '" + (dir / "report.jsonl") + "'",
                         dir);
        REQUIRE(a.code == 0);
        const auto first = fixtures::read_file(dir / "out/a__net.png");
        CHECK(load_image(dir / "out/a__net.png").rgb.size(3) == 40);
        CHECK(fixtures::read_file(dir / "report.jsonl").find("\"status\":\"ok\"") != std::string::npos);
        fs::remove(dir / "out/a__net.png");
        a = run_cli("apply '" + (dir / "net.pt") + "' '" + (dir / "contents") + "' -O '" + (dir / "out") +
                        "' --size 40 --skip-existing --report '" + (dir / "report.jsonl") + "'",
                    dir);
        REQUIRE(a.code == 0);
        CHECK(fixtures::read_file(dir / "out/a__net.png") == first);
        const auto report = fixtures::read_file(dir / "report.jsonl");
        CHECK(std::count(report.begin(), report.end(), '\n') == 4);
        CHECK(report.find("skipped") != std::string::npos);
        a = run_cli("apply '" + (dir / "net.pt") + "' '" + (dir / "contents") + "' -O '" + (dir / "shard") +
                        "' --shard 2/2 --name '{index}-{content}.jpg'",
                    dir);
        REQUIRE(a.code == 0);
        CHECK(fs::exists(dir / "shard/0002-b.jpg"));
        CHECK(fs::exists(dir / "shard/0004-d.jpg"));
        CHECK_FALSE(fs::exists(dir / "shard/0001-a.jpg"));
    }

    SECTION("apply --precision: bf16 within a few levels of fp32, the same bytes for 1 and 3 threads") {
        auto apply = [&](const std::string& out, const std::string& extra) {
            const auto r = run_cli("apply '" + (dir / "net.pt") + "' '" + (dir / "contents/a.png") + "' -O '" +
                                       (dir / out) + "' --size 48 --report '" + (dir / out) + ".jsonl' " + extra,
                                   dir);
            INFO(r.err);
            REQUIRE(r.code == 0);
            return load_image(dir / (out + "/a__net.png")).rgb;
        };
        const auto fp32 = apply("fp32", "--precision fp32");
        const auto bf16 = apply("bf16", "--precision bf16 -j 1");
        const auto bf16_3 = apply("bf16-3", "--precision bf16 -j 3");
        CHECK(fixtures::read_file(dir / "bf16/a__net.png") == fixtures::read_file(dir / "bf16-3/a__net.png"));
        CHECK(torch::equal(bf16, bf16_3));
        CHECK((bf16 - fp32).abs().max().item<double>() <= 4.0 / 255.0 + 1e-6);
        CHECK_THAT(fixtures::read_file(dir / "fp32.jsonl"), Catch::Contains("\"precision\":\"fp32\""));
        CHECK_THAT(fixtures::read_file(dir / "bf16.jsonl"), Catch::Contains("\"precision\":\"bf16\""));
        // auto: the library's choice for this CPU.
        apply("auto", "");
        const std::string chosen = to_string(fast_apply_precision(torch::kCPU));
        CHECK_THAT(fixtures::read_file(dir / "auto.jsonl"), Catch::Contains("\"precision\":\"" + chosen + "\""));
        const auto bad = run_cli("apply '" + (dir / "net.pt") + "' '" + (dir / "contents/a.png") + "' -O '" +
                                     (dir / "x") + "' --precision fp16",
                                 dir);
        CHECK(bad.code == 2);
    }

    SECTION("a run stopped and resumed gives the uninterrupted run's network") {
        auto a = run_cli("train '" + (dir / "style.png") + "' --content-dir '" + (dir / "contents") + "' -o '" +
                             (dir / "half.pt") + "' --steps 6 -q " + common,
                         dir);
        REQUIRE(a.code == 0);
        a = run_cli("train '" + (dir / "style.png") + "' --content-dir '" + (dir / "contents") + "' -o '" +
                        (dir / "half.pt") + "' --steps 12 -q --resume '" + (dir / "half-training/checkpoint.pt") + "' " +
                        common,
                    dir);
        REQUIRE(a.code == 0);
        CHECK(same_parameters(TransformNet::load(dir / "half.pt"), net));
        CHECK(fixtures::read_file(dir / "half-training/loss.csv") == csv);
    }
}

TEST_CASE("stylize train: Ctrl-C saves a checkpoint to resume from", "[cli]") {
    TempDir dir;
    write_training_set(dir);
    // SIGINT once the first step is done (its validation image is the
    // sign), with no periodic checkpoints: only the signal can write one.
    const std::string train = "'" + std::string(STYLIZE_EXE) + "' train '" + (dir / "style.png") + "' --content-dir '" +
                              (dir / "contents") + "' -o '" + (dir / "net.pt") +
                              "' --steps 1000000 --checkpoint-every 0 --validation '" + (dir / "contents/a.png") +
                              "' --validate-every 1 --model '" + fixtures::model() +
                              "' --crop 32 --batch 1 --width 4 --blocks 1 -q 2>'" + (dir / "err.txt") + "'";
    CHECK(fixtures::signal_when(train, "[ -f '" + (dir / "net-training/val_000001.png") + "' ]", "INT", dir) == 130);
    CHECK(fs::exists(dir / "net-training/checkpoint.pt"));
    CHECK_FALSE(fs::exists(dir / "net.pt"));
    CHECK(fixtures::read_file(dir / "err.txt").find("--resume") != std::string::npos);
}

TEST_CASE("fast mode's bad input: one line each, with its exit code", "[cli]") {
    TempDir dir;
    write_training_set(dir);
    fs::create_directories(dir / "empty");
    fixtures::write_file(dir / "empty/notes.txt", "no images here");
    const std::string m = " --model '" + fixtures::model() + "' --steps 2 ";
    struct Case {
        std::string args;
        int code;
        std::string says;
    };
    const std::vector<Case> cases{
        {"train '" + (dir / "style.png") + "' --content-dir '" + (dir / "empty") + "' -o n.pt" + m, 2, "no images"},
        {"train '" + (dir / "nope.png") + "' --content-dir '" + (dir / "contents") + "' -o n.pt" + m, 3, "nope.png"},
        {"train '" + (dir / "style.png") + "' --content-dir '" + (dir / "contents") + "' -o n.pt --crop 8" + m, 2,
         "--crop"},
        {"train '" + (dir / "style.png") + "' --content-dir '" + (dir / "contents") + "' -o n.pt --resume '" +
             fixtures::model() + "'" + m,
         4, "not a stylize training checkpoint"},
        {"apply '" + fixtures::model() + "' '" + (dir / "contents") + "' -O out", 4, "not a stylize transformation network"},
        {"apply '" + (dir / "missing.pt") + "' '" + (dir / "contents") + "' -O out", 4, "no such network"},
        {"apply '" + fixtures::model() + "' '" + (dir / "empty") + "' -O out", 2, "no images"},
        // The same settings, ranges and messages as the other commands (settings.hpp).
        {"apply '" + (dir / "missing.pt") + "' '" + (dir / "contents") + "' -O out -s 15", 2,
         "--size must be 0 (keep) or between 16 and 16384, got 15"},
        {"apply '" + (dir / "missing.pt") + "' '" + (dir / "contents") + "' -O out --bit-depth 12", 2,
         "--bit-depth must be 8 or 16, got 12"},
        {"apply '" + (dir / "missing.pt") + "' '" + (dir / "contents") + "' -O out --jpeg-quality 0", 2,
         "--jpeg-quality must be between 1 and 100, got 0"},
        {"train '" + (dir / "style.png") + "' --content-dir '" + (dir / "contents") + "' -o n.pt -j 5000" + m, 2,
         "--threads must be between 0 and 1024, got 5000"},
    };
    for (const auto& c : cases) {
        INFO(c.args);
        const auto r = run_cli(c.args, dir);
        CHECK(r.code == c.code);
        CHECK(r.err.find(c.says) != std::string::npos);
        size_t errors = 0;
        for (size_t at = r.err.find("stylize: error: "); at != std::string::npos; at = r.err.find("stylize: error: ", at + 1))
            ++errors;
        CHECK(errors == 1);
    }
    // Content smaller than the crop is enlarged, with a warning.
    const auto r = run_cli("train '" + (dir / "style.png") + "' --content-dir '" + (dir / "contents") +
                               "' -o '" + (dir / "small.pt") + "' --model '" + fixtures::model() + "' --crop 60 --steps 1 --width 4 --blocks 1",
                           dir);
    CHECK(r.code == 0);
    CHECK(r.err.find("smaller than the 60-pixel crop and are enlarged") != std::string::npos);
}

TEST_CASE("stylize video --fast-model: one forward pass per frame", "[video]") {
    TempDir dir;
    const auto net = TransformNet::create({4, 1}, 2);
    net.save(dir / "net.pt", "{}");
    const std::string clip = fixtures::model("clip");
    auto r = run_cli("video '" + clip + "' -o '" + (dir / "frames") + "' --fast-model '" + (dir / "net.pt") +
                         "' --size 40 --report '" + (dir / "report.jsonl") + "'",
                     dir);
    REQUIRE(r.code == 0);
    const auto frames = list_images(clip);
    const auto written = list_images(dir / "frames");
    REQUIRE(written.size() == frames.size());
    // Each frame is the network's output for that frame, as apply makes it
    // (in the precision apply's auto picks on this CPU).
    auto same_as_apply = net;
    same_as_apply.set_precision(fast_apply_precision(torch::kCPU));
    const auto first = load_image(frames[0]).rgb;
    const auto expected = same_as_apply.stylize(resize_image(first, load_image(written[0]).rgb.size(2),
                                                   load_image(written[0]).rgb.size(3)).clamp(0, 1));
    CHECK((load_image(written[0]).rgb - expected).abs().max().item<float>() <= 1.0f / 255 + 1e-6f);
    const auto report = fixtures::read_file(dir / "report.jsonl");
    CHECK(static_cast<size_t>(std::count(report.begin(), report.end(), '\n')) == frames.size());

    r = run_cli("video '" + clip + "' style.png -o '" + (dir / "f2") + "' --fast-model '" + (dir / "net.pt") + "'", dir);
    CHECK(r.code == 2);
    CHECK(r.err.find("carries its style") != std::string::npos);
    r = run_cli("video '" + clip + "' -o '" + (dir / "f3") + "'", dir);
    CHECK(r.code == 2);
    CHECK(r.err.find("--fast-model") != std::string::npos);
}
