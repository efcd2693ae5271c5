// The batch at scale: killed with SIGKILL at many moments and resumed, two
// processes on one output folder, hostile files inside a big folder, and a
// disk that fills part-way. The size is bounded for CI; tools/soak.sh runs
// it at 1000 jobs and 20 kills (STYLIZE_SOAK_JOBS, STYLIZE_SOAK_KILLS).
#include <sys/mount.h>

#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "json_output.hpp"
#include "fast_mode_fixtures.hpp"
#include "stylize/image_io.hpp"

using namespace stylize;
using fixtures::run_cli;
using fixtures::TempDir;
namespace fs = std::filesystem;

namespace {

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

// C contents x S styles of a few dozen pixels, each content different, and
// the hostile files a big folder collects.
struct SoakDir {
    TempDir dir;
    int contents = 0, styles = 0, hostile = 0;
    explicit SoakDir(int jobs) {
        styles = 4;
        contents = std::max(1, jobs / styles);
        fs::create_directories(dir / "c");
        fs::create_directories(dir / "s");
        for (int i = 0; i < contents; ++i) {
            auto img = fixtures::content_image(24 + i % 9, 24 + (i * 7) % 11);
            img = (img + 0.01 * (i % 29)).clamp(0, 1);
            char name[32];
            std::snprintf(name, sizeof name, "c%04d.png", i);
            save_image(dir / ("c/" + std::string(name)), img);
        }
        for (int i = 0; i < styles; ++i)
            save_image(dir / ("s/s" + std::to_string(i) + ".png"), fixtures::style_image(24, 24, 4.0 + 3 * i));
        // Valid images with awkward names: spaces, unicode, a newline.
        save_image(dir / "c/with space \xc3\xbc\xe6\x97\xa5.png", fixtures::content_image(22, 30));
        save_image(dir / "c/new\nline.png", fixtures::content_image(26, 22));
        contents += 2;
        // Hostile: empty, cut short, not an image, a header claiming a huge
        // image, a symlink that points at itself.
        fixtures::write_file(dir / "c/zero.png", "");
        const std::string png = fixtures::read_file(dir / "c/c0000.png");
        fixtures::write_file(dir / "c/truncated.png", png.substr(0, png.size() / 2));
        fixtures::write_file(dir / "c/text.png", "this is not an image, whatever its name says\n");
        std::string huge = png;
        for (int k : {16, 20}) {  // IHDR width and height: 60000
            huge[k] = 0, huge[k + 1] = 0, huge[k + 2] = static_cast<char>(0xEA), huge[k + 3] = 0x60;
        }
        fixtures::write_file(dir / "c/huge.png", huge);
        fs::create_symlink("loop.png", dir / "c/loop.png");
        fs::create_directory_symlink(".", dir / "c/again");  // a folder loop: not entered
        hostile = 5;
    }
    int jobs() const { return (contents + hostile) * styles; }
    std::string batch(const std::string& out, const std::string& report) const {
        return "batch -c '" + (dir / "c") + "' --style '" + (dir / "s") + "' -O '" + (dir / out) +
               "' --model '" + fixtures::model() + "' --size 24 -n 2 --threads 1 --progress none --sidecar --report '" +
               (dir / report) + "'";
    }
};

std::map<std::string, std::string> files_in(const fs::path& folder) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(folder))
        out[e.path().filename().string()] = e.path().extension() == ".png" ? fixtures::read_file(e.path()) : "";
    return out;
}

// job -> status, and how many lines each job has.
std::map<int, std::pair<std::string, int>> report_of(const std::string& path) {
    std::map<int, std::pair<std::string, int>> jobs;
    std::istringstream in(fixtures::read_file(path));
    for (std::string l; std::getline(in, l);) {
        const auto j = cli::Json::parse(l);
        auto& entry = jobs[j["job"].get<int>()];
        entry.first = j["status"];
        ++entry.second;
    }
    return jobs;
}

void check_same_outputs(const fs::path& ref, const fs::path& out) {
    const auto want = files_in(ref), got = files_in(out);
    std::vector<std::string> missing, extra;
    for (const auto& [name, bytes] : want)
        if (!got.count(name)) missing.push_back(name);
    for (const auto& [name, bytes] : got)
        if (!want.count(name)) extra.push_back(name);  // a temporary, a partial image, a stray file
    INFO("missing " << missing.size() << (missing.empty() ? "" : ", first " + missing.front()) << "; extra "
                    << extra.size() << (extra.empty() ? "" : ", first " + extra.front()));
    CHECK(missing.empty());
    CHECK(extra.empty());
    size_t differ = 0;
    for (const auto& [name, bytes] : want)
        if (got.count(name) && got.at(name) != bytes) ++differ;
    CHECK(differ == 0);
}

// The shell condition "FOLDER holds at least N files whose names match the
// grep pattern", for each N of `targets`.
std::vector<std::string> count_at_least(const std::string& folder, const std::string& pattern,
                                        const std::vector<int>& targets) {
    std::vector<std::string> ready;
    for (int n : targets)
        ready.push_back("[ $(ls '" + folder + "' 2>/dev/null | grep -c '" + pattern + "') -ge " + std::to_string(n) +
                        " ]");
    return ready;
}

// `kills` counts spread over 1..total, in a seeded random order of gaps.
std::vector<int> kill_targets(int total, int kills, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<int> targets;
    for (int k = 1; k <= kills; ++k)
        targets.push_back(std::max(1, total * k / (kills + 1) + static_cast<int>(rng() % 3)));
    return targets;
}

// Runs `command` once per condition of `ready`, killing it with SIGKILL when
// the condition holds, then runs it again until it exits with `done`.
// Returns {kills, runs}; the test fails if it never gets there.
std::pair<int, int> kill_and_resume(const std::string& command, const std::vector<std::string>& ready, int done,
                                    const TempDir& dir) {
    const std::string cmd = command + " >/dev/null 2>&1";
    int kills = 0, runs = 0, last = -1;
    for (const auto& condition : ready) {
        const int status = fixtures::signal_when(cmd, condition, "KILL", dir);
        ++runs;
        REQUIRE(status != fixtures::kNeverReady);
        if (status == 128 + 9) ++kills;
        else last = status;  // it finished before the condition held
    }
    while (last != done && runs < static_cast<int>(ready.size()) + 5) {
        last = std::system(cmd.c_str());
        last = WIFEXITED(last) ? WEXITSTATUS(last) : -1;
        ++runs;
    }
    INFO("kills " << kills << ", runs " << runs);
    CHECK(last == done);
    return {kills, runs};
}

// Files whose names start with a dot: temporaries, saved state.
std::vector<std::string> hidden_files(const fs::path& folder) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(folder))
        if (e.path().filename().string()[0] == '.') out.push_back(e.path().filename().string());
    return out;
}

}  // namespace

TEST_CASE("soak: a batch killed with SIGKILL again and again resumes to the uninterrupted run's bytes", "[cli]") {
    SoakDir d(env_int("STYLIZE_SOAK_JOBS", 200));
    const int kills_wanted = env_int("STYLIZE_SOAK_KILLS", 8);
    auto r = run_cli(d.batch("ref", "ref.jsonl"), d.dir);
    REQUIRE(r.code == 6);  // the hostile files' jobs fail; all the others are written
    const auto ref = report_of(d.dir / "ref.jsonl");
    REQUIRE(static_cast<int>(ref.size()) == d.jobs());
    int ok = 0, failed = 0;
    for (const auto& [job, entry] : ref) {
        ok += entry.first == "ok";
        failed += entry.first == "failed";
    }
    if (failed != d.hostile * d.styles) {
        std::istringstream in(fixtures::read_file(d.dir / "ref.jsonl"));
        for (std::string l; std::getline(in, l);)
            if (l.find("\"failed\"") != std::string::npos) UNSCOPED_INFO(l.substr(0, 300));
    }
    CHECK(failed == d.hostile * d.styles);
    CHECK(ok == d.jobs() - failed);
    CHECK_THAT(r.err, Catch::Contains("zero.png") && Catch::Contains("truncated.png") && Catch::Contains("text.png") &&
                          Catch::Contains("huge.png") && Catch::Contains("loop.png"));

    // Kill when the output folder holds a chosen number of images.
    const auto targets = kill_targets(ok, kills_wanted, 20261207);
    const std::string cmd = "'" + std::string(STYLIZE_EXE) + "' " + d.batch("out", "out.jsonl") + " --skip-existing";
    const auto [kills, runs] = kill_and_resume(cmd, count_at_least(d.dir / "out", "png$", targets), 6, d.dir);
    CHECK(kills >= kills_wanted - 1);  // a run may finish before its last target
    check_same_outputs(d.dir / "ref", d.dir / "out");
    // Exactly one final line per job, with the uninterrupted run's status.
    const auto got = report_of(d.dir / "out.jsonl");
    CHECK(got.size() == ref.size());
    int mismatched = 0;
    for (const auto& [job, entry] : ref) {
        const auto it = got.find(job);
        if (it == got.end() || it->second.first != entry.first || it->second.second != 1) ++mismatched;
    }
    CHECK(mismatched == 0);
    std::printf("soak: %d jobs (%d hostile), %d kills survived in %d runs, outputs lost 0 of %d\n", d.jobs(),
                failed, kills, runs, ok);
}

TEST_CASE("soak: two processes on one output folder never garble an output", "[cli]") {
    SoakDir d(48);
    REQUIRE(run_cli(d.batch("ref", "ref.jsonl"), d.dir).code == 6);
    // The same batch twice at once (a shard given twice by mistake): jobs are
    // not claimed, so some are done twice; each write is whole.
    const std::string one = "'" + std::string(STYLIZE_EXE) + "' " + d.batch("out", "a.jsonl") + " --skip-existing";
    const std::string two = "'" + std::string(STYLIZE_EXE) + "' " + d.batch("out", "b.jsonl") + " --skip-existing";
    const int status = std::system(("(" + one + " >/dev/null 2>&1 & " + two + " >/dev/null 2>&1; s=$?; wait $!; "
                                    "t=$?; [ $s = 6 ] && [ $t = 6 ])").c_str());
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    check_same_outputs(d.dir / "ref", d.dir / "out");
}

TEST_CASE("soak: a disk that fills part-way fails the jobs that cannot write, and a resume completes", "[cli]") {
    SoakDir d(40);
    REQUIRE(run_cli(d.batch("ref", "ref.jsonl"), d.dir).code == 6);
    std::uintmax_t needed = 0;
    for (const auto& e : fs::directory_iterator(d.dir / "ref")) needed += fs::file_size(e.path());
    fs::create_directories(d.dir / "out");
    // A filesystem with room for about half the outputs (tmpfs: needs root).
    const std::string opts = "size=" + std::to_string(needed / 2);
    if (::mount("tmpfs", (d.dir / "out").c_str(), "tmpfs", 0, opts.c_str()) != 0) {
        WARN("cannot mount a tmpfs here (not root?): the full-disk check did not run");
        return;
    }
    struct Unmount {
        std::string path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{d.dir / "out"};
    auto r = run_cli(d.batch("out", "out.jsonl"), d.dir);
    CHECK(r.code == 6);
    CHECK_THAT(r.err, Catch::Contains("No space left on device"));
    // What was written is whole: every image under a final name is the
    // reference's, byte for byte; no temporary is left.
    const auto ref = files_in(d.dir / "ref");
    int written = 0;
    for (const auto& [name, bytes] : files_in(d.dir / "out")) {
        CHECK(name[0] != '.');
        REQUIRE(ref.count(name));
        if (!bytes.empty()) CHECK(bytes == ref.at(name));
        if (fs::path(name).extension() == ".json")  // a sidecar: whole, or not there
            CHECK_NOTHROW(cli::Json::parse(fixtures::read_file(d.dir / ("out/" + name))));
        written += fs::path(name).extension() == ".png";
    }
    CHECK(written > 0);
    CHECK(written < d.jobs() - d.hostile * d.styles);
    // More room, and a resume completes the rest.
    REQUIRE(::mount("tmpfs", (d.dir / "out").c_str(), "tmpfs", MS_REMOUNT, "size=16m") == 0);
    r = run_cli(d.batch("out", "out.jsonl") + " --skip-existing", d.dir);
    CHECK(r.code == 6);  // only the hostile files' jobs
    check_same_outputs(d.dir / "ref", d.dir / "out");
    const auto rep = report_of(d.dir / "out.jsonl");
    CHECK(static_cast<int>(rep.size()) == d.jobs());

    // The report itself on a full disk: one error line, the jobs go on, exit code 3.
    fs::create_directories(d.dir / "small");
    REQUIRE(::mount("tmpfs", (d.dir / "small").c_str(), "tmpfs", 0, "size=8k") == 0);
    Unmount unmount_small{d.dir / "small"};
    r = run_cli(d.batch("out2", "small/r.jsonl"), d.dir);
    CHECK(r.code == 3);
    CHECK_THAT(r.err, Catch::Contains("--report") && Catch::Contains("No space left on device") &&
                          Catch::Contains("the report is incomplete"));
    check_same_outputs(d.dir / "ref", d.dir / "out2");
}

TEST_CASE("soak: a video killed with SIGKILL again and again resumes to the uninterrupted run's frames", "[cli]") {
    TempDir dir;
    const int frames = 16, kills_wanted = env_int("STYLIZE_SOAK_KILLS", 8);
    const std::string clip = fixtures::model("clip");
    fs::create_directories(dir / "clip");
    for (int i = 0; i < frames; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "clip/f%03d.png", i);
        fs::copy_file(clip + "/000" + std::to_string(i % 8) + ".png", dir / name);
    }
    save_image(dir / "style.png", fixtures::style_image(48, 64, 5.0));
    const std::string video = "video '" + (dir / "clip") + "' '" + (dir / "style.png") + "' --model '" +
                              fixtures::model() + "' -s 48 -n 8 --frame-iterations 6 -j 1 -q -o ";
    REQUIRE(run_cli(video + "'" + (dir / "ref") + "'", dir).code == 0);

    const auto [kills, runs] =
        kill_and_resume("'" + std::string(STYLIZE_EXE) + "' " + video + "'" + (dir / "out") + "' --skip-existing",
                        count_at_least(dir / "out", "^frame_.*png$", kill_targets(frames, kills_wanted, 7)), 0, dir);
    CHECK(kills >= kills_wanted - 1);
    check_same_outputs(dir / "ref", dir / "out");  // the frames, the saved states, and nothing else

    // The narrowest moment: killed after a frame's state was saved and
    // before the frame itself (here: the fifth frame removed afterwards).
    REQUIRE(run_cli(video + "'" + (dir / "cut") + "' --max-frames 5", dir).code == 0);
    fs::remove(dir / "cut/frame_00005.png");
    REQUIRE(run_cli(video + "'" + (dir / "cut") + "' --skip-existing", dir).code == 0);
    check_same_outputs(dir / "ref", dir / "cut");
    std::printf("soak: video of %d frames, %d kills survived in %d runs, frames equal to the uninterrupted run's\n",
                frames, kills, runs);
}

TEST_CASE("soak: training killed with SIGKILL again and again resumes to the uninterrupted run's network", "[cli]") {
    TempDir dir;
    fixtures::write_training_set(dir);
    const int steps = 24, kills_wanted = env_int("STYLIZE_SOAK_KILLS", 8);
    const std::string train = "train '" + (dir / "style.png") + "' --content-dir '" + (dir / "contents") +
                              "' --model '" + fixtures::model() +
                              "' --crop 32 --batch 2 --width 4 --blocks 1 --style-layers relu1_1,relu2_1 "
                              "--content-layers relu2_1 --learning-rate 0.01 --steps " + std::to_string(steps) +
                              " --checkpoint-every 1 --validation '" + (dir / "contents/a.png") +
                              "' --validate-every 1 -j 1 -q -o ";
    REQUIRE(run_cli(train + "'" + (dir / "ref.pt") + "'", dir).code == 0);

    // One command, run again after every kill (as a requeued cluster job is).
    const auto [kills, runs] = kill_and_resume(
        "'" + std::string(STYLIZE_EXE) + "' " + train + "'" + (dir / "out.pt") + "' --resume auto",
        count_at_least(dir / "out-training", "^val_.*png$", kill_targets(steps, kills_wanted, 11)), 0, dir);
    CHECK(kills >= kills_wanted - 1);
    CHECK(fixtures::same_parameters(TransformNet::load(dir / "out.pt"), TransformNet::load(dir / "ref.pt")));
    // The validation images and the loss plot byte for byte, the loss log, no temporaries.
    check_same_outputs(dir / "ref-training", dir / "out-training");
    CHECK(fixtures::read_file(dir / "out-training/loss.csv") == fixtures::read_file(dir / "ref-training/loss.csv"));
    CHECK(fixtures::read_file(dir / "out-training/validation.csv") ==
          fixtures::read_file(dir / "ref-training/validation.csv"));
    CHECK(hidden_files(dir / "out-training").empty());
    std::printf("soak: training of %d steps, %d kills survived in %d runs, the same network\n", steps, kills, runs);
}
