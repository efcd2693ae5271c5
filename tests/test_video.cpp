// `stylize video` end to end on the tiny model and the synthetic clip:
// frame counts, frame rates, the temporal stability it is for, resuming,
// interrupting, and the refusals of bad input.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "stylize/image_io.hpp"
#include "stylize/video_io.hpp"
#include "commands/video_state.hpp"

using namespace stylize;
namespace fs = std::filesystem;

namespace {

const std::string kClip = fixtures::model("clip");

std::string style_file(const fixtures::TempDir& dir) {
    const auto path = dir / "style.png";
    if (!fs::exists(path)) save_image(path, fixtures::style_image(48, 64, 5.0));
    return path;
}

// The model, a small size, few evaluations, quiet.
std::string common(int iterations = 20, bool quiet = true) {
    return "-m '" + fixtures::model() + "' -s 64 -n " + std::to_string(iterations) + (quiet ? " -q " : " ");
}

std::vector<nlohmann::json> read_report(const std::string& path) {
    std::ifstream in(path);
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
}

double mean_warping_error(const std::vector<nlohmann::json>& report) {
    double sum = 0;
    int n = 0;
    for (const auto& l : report)
        if (l.contains("warping_error")) {
            sum += l["warping_error"].get<double>();
            ++n;
        }
    return n ? sum / n : -1;
}

double mean_loss(const std::vector<nlohmann::json>& report, const char* key) {
    double sum = 0;
    for (const auto& l : report) sum += l["losses"][key].get<double>();
    return sum / static_cast<double>(report.size());
}

int count_frames(const std::string& folder) {
    int n = 0;
    for (const auto& e : fs::directory_iterator(folder)) n += e.path().filename().string().rfind("frame_", 0) == 0;
    return n;
}

}  // namespace

TEST_CASE("video: a folder of frames to a folder, one report line per frame", "[video]") {
    fixtures::TempDir dir;
    const auto r = fixtures::run_cli("video '" + kClip + "' '" + style_file(dir) + "' -o '" + (dir / "out") +
                                         "' --sidecar --report '" + (dir / "r.jsonl") + "' " + common(),
                                     dir);
    REQUIRE(r.code == 0);
    CHECK(count_frames(dir / "out") == 8);
    const auto sidecar = nlohmann::json::parse(fixtures::read_file(dir / "out/stylize.json"));
    CHECK(sidecar["video"]["frames"] == 8);
    CHECK(sidecar["video"]["flow"] == "dis");
    CHECK(sidecar["model"].dump().find("sha256") != std::string::npos);
    CHECK(load_image(frame_path(dir / "out", 7)).rgb.size(3) == 64);
    const auto report = read_report(dir / "r.jsonl");
    REQUIRE(report.size() == 8);
    CHECK(report[0]["status"] == "ok");
    CHECK_FALSE(report[0].contains("warping_error"));
    CHECK(report[0]["evaluations"] == 20);
    for (size_t i = 1; i < 8; ++i) {
        CHECK(report[i]["warping_error"].get<double>() > 0);
        CHECK(report[i]["reliable_fraction"].get<double>() > 0.5);
        CHECK(report[i]["losses"]["temporal"].get<double>() > 0);
        CHECK(report[i]["evaluations"] == 100);  // --frame-iterations' default
    }
}

TEST_CASE("video: temporal mode flickers far less than independent frames at equal evaluations", "[video]") {
    fixtures::TempDir dir;
    const std::string base = "video '" + kClip + "' '" + style_file(dir) + "' " + common(40);
    REQUIRE(fixtures::run_cli(base + "-o '" + (dir / "ind") + "' --frame-init content --temporal-weight 0 --report '" +
                                  (dir / "ind.jsonl") + "'",
                              dir).code == 0);
    REQUIRE(fixtures::run_cli(base + "-o '" + (dir / "tmp") + "' --frame-iterations 40 --report '" +
                                  (dir / "tmp.jsonl") + "'",
                              dir).code == 0);
    REQUIRE(fixtures::run_cli(base + "-o '" + (dir / "strong") + "' --frame-iterations 40 --temporal-weight 3000 "
                                  "--report '" + (dir / "strong.jsonl") + "'",
                              dir).code == 0);
    const auto ind = read_report(dir / "ind.jsonl"), tmp = read_report(dir / "tmp.jsonl");
    const double e_ind = mean_warping_error(ind), e_tmp = mean_warping_error(tmp);
    const double e_strong = mean_warping_error(read_report(dir / "strong.jsonl"));
    INFO("warping error independent " << e_ind << ", temporal " << e_tmp << ", weight 3000 " << e_strong);
    // Measured 0.134 / 0.077 / 0.041 (the full-size model at 256 px does
    // better: docs/BENCHMARKS.md, "Video").
    CHECK(e_tmp * 1.4 < e_ind);
    CHECK(e_strong * 2.5 < e_ind);
    CHECK(e_strong < e_tmp);
    // At no worse a style match than the independent frames.
    CHECK(mean_loss(tmp, "style") < 1.1 * mean_loss(ind, "style"));
    CHECK(mean_loss(tmp, "content") < 1.1 * mean_loss(ind, "content"));
}

TEST_CASE("video: a video file in, a video file out, with its frame rate; --fps and --max-frames", "[video]") {
    fixtures::TempDir dir;
    {
        auto src = open_frames(kClip);
        VideoWriter w(dir / "in.avi", 10, 64, 48);
        torch::Tensor f;
        while (src->next(f)) w.write(f);
    }
    auto r = fixtures::run_cli("video '" + (dir / "in.avi") + "' '" + style_file(dir) + "' -o '" + (dir / "out.mp4") +
                                   "' --frame-iterations 5 " + common(5),
                               dir);
    REQUIRE(r.code == 0);
    CHECK_FALSE(fs::exists(dir / "out.partial.mp4"));
    auto out = open_frames(dir / "out.mp4");
    CHECK(out->info().fps == Approx(10));
    CHECK(out->info().frame_count == 8);
    r = fixtures::run_cli("video '" + (dir / "in.avi") + "' '" + style_file(dir) + "' -o '" + (dir / "out.avi") +
                              "' --fps 24 --max-frames 3 --frame-iterations 5 " + common(5, false),
                          dir);
    REQUIRE(r.code == 0);
    auto out2 = open_frames(dir / "out.avi");
    CHECK(out2->info().fps == Approx(24));
    int n = 0;
    for (torch::Tensor f; out2->next(f);) ++n;
    CHECK(n == 3);
    CHECK_THAT(r.err, Catch::Contains("ffmpeg -i"));  // how to bring the audio back
}

TEST_CASE("video: --skip-existing resumes from the written frames to the same bytes", "[video]") {
    fixtures::TempDir dir;
    const std::string base = "video '" + kClip + "' '" + style_file(dir) + "' --frame-iterations 10 " + common(10);
    REQUIRE(fixtures::run_cli(base + "-o '" + (dir / "whole") + "'", dir).code == 0);
    // An interrupted run: the first three frames only.
    REQUIRE(fixtures::run_cli(base + "-o '" + (dir / "resumed") + "' --max-frames 3", dir).code == 0);
    REQUIRE(count_frames(dir / "resumed") == 3);
    const auto r = fixtures::run_cli(base + "-o '" + (dir / "resumed") + "' --skip-existing --report '" +
                                         (dir / "r.jsonl") + "'",
                                     dir);
    REQUIRE(r.code == 0);
    const auto report = read_report(dir / "r.jsonl");
    REQUIRE(report.size() == 8);
    CHECK(report[2]["status"] == "skipped");
    CHECK(report[3]["status"] == "ok");
    for (int i = 0; i < 8; ++i) {
        INFO("frame " << i + 1);
        CHECK(fixtures::read_file(frame_path(dir / "whole", i)) == fixtures::read_file(frame_path(dir / "resumed", i)));
    }
    // Frames left by a run with other options: their state is not used, and the user is told.
    REQUIRE(fixtures::run_cli(base + "-o '" + (dir / "other") + "' --max-frames 2", dir).code == 0);
    const auto other = fixtures::run_cli(base + "-o '" + (dir / "other") + "' --skip-existing --temporal-weight 50", dir);
    CHECK(other.code == 0);
    CHECK_THAT(other.err, Catch::Contains("frame_00002.png: no saved state of this run"));
}

TEST_CASE("video: SIGINT finishes the current frame and leaves the frames so far", "[video]") {
    fixtures::TempDir dir;
    // Enough frames and evaluations that the signal arrives mid-run.
    const std::string many = dir / "many";
    fs::create_directories(many);
    for (int i = 0; i < 40; ++i) fs::copy_file(kClip + "/000" + std::to_string(i % 8) + ".png",
                                                many + "/" + std::to_string(1000 + i) + ".png");
    for (const std::string out : {"frames", "clip.avi"}) {
        INFO(out);
        const std::string report = dir / (out + ".jsonl");
        const std::string cmd = "'" + std::string(STYLIZE_EXE) + "' video '" + many + "' '" + style_file(dir) +
                                "' -o '" + (dir / out) + "' --report '" + report + "' --frame-iterations 40 " +
                                common(40) + " -j 1";
        // Start it, wait for the first finished frame (its report line), then SIGINT once.
        CHECK(fixtures::signal_when(cmd + " 2>'" + (dir / "err.txt") + "'", "[ -s '" + report + "' ]", "INT", dir) == 130);
        CHECK_THAT(fixtures::read_file(dir / "err.txt"), Catch::Contains("interrupted by SIGINT after frame"));
        if (out == "frames") {
            const int n = count_frames(dir / out);
            CHECK(n >= 1);
            CHECK(n < 40);
            for (int i = 0; i < n; ++i) CHECK(load_image(frame_path(dir / out, i)).rgb.size(3) == 64);
        } else {
            CHECK_FALSE(fs::exists(dir / out));
            auto partial = open_frames(dir / "clip.partial.avi");  // playable
            int n = 0;
            for (torch::Tensor f; partial->next(f);) ++n;
            CHECK(n >= 1);
            CHECK(n < 40);
        }
    }
}

TEST_CASE("video: bad input gets one error line and its exit code, and no output", "[video]") {
    fixtures::TempDir dir;
    const auto style = style_file(dir);
    auto expect = [&](const std::string& args, int code, const std::string& words) {
        INFO(args);
        const auto r = fixtures::run_cli("video " + args + " " + common(2), dir);
        CHECK(r.code == code);
        CHECK_THAT(r.err, Catch::Contains(words));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 2);  // the random-weights warning and the error
        CHECK_FALSE(fs::exists(dir / "out.avi"));
    };
    fixtures::write_file(dir / "text.mp4", "not a video");
    { VideoWriter w(dir / "empty.avi", 25, 64, 48); }
    fixtures::TempDir empty;
    expect("'" + (dir / "missing.mp4") + "' '" + style + "' -o '" + (dir / "out.avi") + "'", 3, "no such file");
    expect("'" + (dir / "text.mp4") + "' '" + style + "' -o '" + (dir / "out.avi") + "'", 3, "cannot open it as a video");
    const auto r = fixtures::run_cli("video '" + (dir / "empty.avi") + "' '" + style + "' -o '" + (dir / "out.avi") +
                                         "' " + common(2),
                                     dir);
    CHECK(r.code == 3);
    expect("'" + empty.path.string() + "' '" + style + "' -o '" + (dir / "out.avi") + "'", 3, "has no images");
    expect("'" + fixtures::model("clip_mixed") + "' '" + style + "' -o '" + (dir / "out.avi") + "'", 3,
           "every frame of a sequence must have the same size");
    expect("'" + kClip + "' '" + style + "' -o '" + (dir / "out.xyz") + "'", 2, "unknown video extension '.xyz'");
    expect("'" + kClip + "' '" + style + "' -o '" + kClip + "/'", 2, "is the folder of the input frames");
    expect("'" + (dir / "in.partial.avi") + "' '" + style + "' -o '" + (dir / "in.avi") + "'", 2,
           "would overwrite the input video");
    expect("'" + kClip + "' '" + style + "' -o '" + (dir / "out.avi") + "' --skip-existing", 2,
           "--skip-existing needs a folder output");
    expect("'" + kClip + "' '" + style + "' -o '" + (dir / "no/such/dir/out.avi") + "'", 3, "cannot write");
    expect("'" + kClip + "' '" + style + "' -o '" + (dir / "out.avi") + "' --temporal-weight -1", 2,
           "--temporal-weight");
    expect("'" + kClip + "' '" + style + "' -o '" + (dir / "out.avi") + "' --flow magic", 2, "magic is not one of");
    CHECK_FALSE(fs::exists(dir / "out.partial.avi"));
}

TEST_CASE("video state: saved and read back for its frame and size only", "[unit]") {
    fixtures::TempDir dir;
    torch::manual_seed(1);
    const auto state = torch::randn({1, 3, 12, 16});  // values outside [0,1] too
    cli::save_video_state(dir.path.string(), 4, state, "abc");
    const auto back = cli::load_video_state(dir.path.string(), 4, 12, 16, "abc");
    REQUIRE(back.has_value());
    CHECK(torch::equal(*back, state));
    CHECK_FALSE(cli::load_video_state(dir.path.string(), 5, 12, 16, "abc").has_value());  // another frame
    CHECK_FALSE(cli::load_video_state(dir.path.string(), 4, 12, 15, "abc").has_value());  // another size
    CHECK_FALSE(cli::load_video_state(dir.path.string(), 4, 12, 16, "abd").has_value());  // another run
    // The next frame's state does not replace this one's (a kill between
    // the state and its frame); the one after does.
    cli::save_video_state(dir.path.string(), 5, state + 1, "abc");
    REQUIRE(cli::load_video_state(dir.path.string(), 4, 12, 16, "abc").has_value());
    CHECK(torch::equal(*cli::load_video_state(dir.path.string(), 5, 12, 16, "abc"), state + 1));
    cli::save_video_state(dir.path.string(), 6, state, "abc");
    CHECK_FALSE(cli::load_video_state(dir.path.string(), 4, 12, 16, "abc").has_value());
    auto bytes = fixtures::read_file(cli::video_state_path(dir.path.string(), 6));
    fixtures::write_file(cli::video_state_path(dir.path.string(), 6), bytes.substr(0, bytes.size() - 3));
    CHECK_FALSE(cli::load_video_state(dir.path.string(), 6, 12, 16, "abc").has_value());  // truncated
    fixtures::TempDir empty;
    CHECK_FALSE(cli::load_video_state(empty.path.string(), 0, 12, 16, "abc").has_value());
}
