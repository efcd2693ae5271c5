#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>

#include <catch2/catch.hpp>
#include <torch/types.h>

#include "commands/batch_command.hpp"
#include "fixtures.hpp"
#include "commands/jobs_file.hpp"
#include "json_output.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"

using namespace stylize;
using namespace stylize::cli;
using fixtures::run_cli;
using fixtures::TempDir;
namespace fs = std::filesystem;

namespace {
struct BatchDir {
    TempDir dir;
    BatchDir() {
        fs::create_directories(dir / "contents");
        fs::create_directories(dir / "styles");
        save_image(dir / "contents/a.png", fixtures::content_image(40, 56));
        save_image(dir / "contents/b.png", fixtures::content_image(56, 40));
        save_image(dir / "styles/x.png", fixtures::style_image(40, 40, 6));
        save_image(dir / "styles/y.jpg", fixtures::style_image(40, 40, 13));
    }
    std::string common() const {
        return "--model '" + fixtures::model() + "' --size 40 -n 4 --progress none ";
    }
    std::vector<std::string> report_lines(const std::string& name) const {
        std::vector<std::string> lines;
        std::istringstream in(fixtures::read_file(dir / name));
        for (std::string l; std::getline(in, l);) lines.push_back(l);
        return lines;
    }
};
}  // namespace

TEST_CASE("words split shell-like; jobs files skip comments and blank lines", "[unit]") {
    CHECK(split_words("a 'b c' \"d \\\" e\" f\\ g # comment") ==
          std::vector<std::string>{"a", "b c", "d \" e", "f g"});
    CHECK(split_words("  ").empty());
    CHECK(split_words("''") == std::vector<std::string>{""});
    CHECK_THROWS_AS(split_words("'open"), InvalidArgument);
    CHECK_THROWS_AS(split_words("end\\"), InvalidArgument);
    const auto jobs = parse_jobs_file("# header\n\nc.png s.png -n 5\n  c2.png s1.png s2.png\n", "jobs.txt");
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].line_number == 3);
    CHECK(jobs[1].args.size() == 3);
    CHECK_THROWS_WITH(parse_jobs_file("only-one.png\n", "jobs.txt"), Catch::Contains("jobs.txt:1"));
}

TEST_CASE("shards, output names and input expansion", "[unit]") {
    CHECK(parse_shard("2/8") == std::make_pair(2, 8));
    for (const char* bad : {"0/2", "3/2", "1/0", "a/b", "1", "1/2x", ""}) CHECK_THROWS_AS(parse_shard(bad), InvalidArgument);
    CHECK(format_output_name("{content}__{style}.png", "in/cat.jpg", {"s/van gogh.jpg"}, 3) == "cat__van gogh.png");
    CHECK(format_output_name("{index}-{content}", "cat.jpg", {"a.png", "b.png"}, 3) == "0003-cat.png");
    CHECK(format_output_name("{content}_{style}.jpg", "c.jpg", {"a.png", "b.png"}, 1) == "c_a+b.jpg");
    BatchDir b;
    const auto files = expand_inputs({b.dir / "styles", b.dir / "contents/*.png"}, "--style");
    REQUIRE(files.size() == 4);
    CHECK(fs::path(files[0]).filename() == "x.png");
    CHECK(fs::path(files[1]).filename() == "y.jpg");
    CHECK(fs::path(files[2]).filename() == "a.png");
    CHECK_THROWS_WITH(expand_inputs({b.dir / "nothing*.png"}, "--content"), Catch::Contains("matches no file"));
}

TEST_CASE("batch: a 2x2 run writes 4 named outputs and a 4-line report; --skip-existing then does no work", "[cli]") {
    BatchDir b;
    const std::string args = "batch -c '" + (b.dir / "contents") + "' --style '" + (b.dir / "styles") + "' -O '" +
                             (b.dir / "out") + "' --report '" + (b.dir / "report.jsonl") + "' " + b.common();
    auto r = run_cli(args, b.dir);
    INFO(r.err);
    REQUIRE(r.code == 0);
    for (const char* n : {"a__x.png", "a__y.png", "b__x.png", "b__y.png"}) CHECK(fs::exists(b.dir / ("out/" + std::string(n))));
    auto lines = b.report_lines("report.jsonl");
    REQUIRE(lines.size() == 4);
    for (const auto& l : lines) {
        CHECK_THAT(l, Catch::Contains("\"status\":\"ok\"") && Catch::Contains("\"sha256\":\"") &&
                          Catch::Contains("\"evaluations\":4") && Catch::Contains("\"seed\":0"));
    }
    const auto before = fs::last_write_time(b.dir / "out/a__x.png");
    r = run_cli(args + " --skip-existing --sheet '" + (b.dir / "sheet.png") + "'", b.dir);
    CHECK(r.code == 0);
    CHECK_THAT(r.err, Catch::Contains("0 ok, 4 skipped"));
    // The report keeps the first run's lines of the jobs it skipped.
    CHECK(b.report_lines("report.jsonl") == lines);
    CHECK(fs::last_write_time(b.dir / "out/a__x.png") == before);
    // The contact sheet: 2 contents x 2 styles and their heads, 3 x 3 squares of 192 px with 12 px gaps.
    const auto sheet = load_image(b.dir / "sheet.png").rgb;
    CHECK(sheet.size(2) == 3 * 204 + 12);
    CHECK(sheet.size(3) == 3 * 204 + 12);
    // Outputs that did not come from a report it knows are reported as skipped.
    fs::remove(b.dir / "report.jsonl");
    r = run_cli(args + " --skip-existing", b.dir);
    CHECK(r.code == 0);
    lines = b.report_lines("report.jsonl");
    REQUIRE(lines.size() == 4);
    for (const auto& l : lines) CHECK_THAT(l, Catch::Contains("\"status\":\"skipped\""));
}

TEST_CASE("batch: a corrupt content image fails only its jobs; exit code 6", "[cli]") {
    BatchDir b;
    fixtures::write_file(b.dir / "contents/c.png", "not a png at all");
    auto r = run_cli("batch -c '" + (b.dir / "contents") + "' --style '" + (b.dir / "styles/x.png") + "' -O '" +
                         (b.dir / "out") + "' --report '" + (b.dir / "r.jsonl") + "' " + b.common(),
                     b.dir);
    CHECK(r.code == 6);
    CHECK(fs::exists(b.dir / "out/a__x.png"));
    CHECK(fs::exists(b.dir / "out/b__x.png"));
    CHECK(!fs::exists(b.dir / "out/c__x.png"));
    const auto lines = b.report_lines("r.jsonl");
    REQUIRE(lines.size() == 3);
    CHECK_THAT(lines[2], Catch::Contains("\"status\":\"failed\"") && Catch::Contains("c.png"));
    CHECK_THAT(r.err, Catch::Contains("2 ok, 0 skipped, 1 failed"));
}

namespace {
// An environment of its own for parse_shard.
EnvLookup env_of(std::map<std::string, std::string> vars) {
    auto held = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [held](const char* name) -> const char* {
        const auto it = held->find(name);
        return it == held->end() ? nullptr : it->second.c_str();
    };
}
}  // namespace

TEST_CASE("--shard auto takes the shard from Slurm job arrays and Kubernetes Indexed Jobs", "[unit]") {
    // Slurm: --array=1-8 (ids from 1), --array=0-7 (from 0), --array=0-14:2 (a step), COUNT alone.
    CHECK(parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "1"},
                                      {"SLURM_ARRAY_TASK_MAX", "8"}, {"SLURM_ARRAY_TASK_COUNT", "8"}})) ==
          std::make_pair(3, 8));
    CHECK(parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_MIN", "0"},
                                      {"SLURM_ARRAY_TASK_MAX", "7"}})) == std::make_pair(1, 8));
    CHECK(parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "14"}, {"SLURM_ARRAY_TASK_MIN", "0"},
                                      {"SLURM_ARRAY_TASK_MAX", "14"}, {"SLURM_ARRAY_TASK_STEP", "2"}})) ==
          std::make_pair(8, 8));
    CHECK(parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_COUNT", "6"}})) ==
          std::make_pair(5, 6));
    // Kubernetes: a 0-based index; the count from auto/N or STYLIZE_SHARD_COUNT.
    CHECK(parse_shard("auto/4", env_of({{"JOB_COMPLETION_INDEX", "0"}})) == std::make_pair(1, 4));
    CHECK(parse_shard("auto", env_of({{"JOB_COMPLETION_INDEX", "3"}, {"STYLIZE_SHARD_COUNT", "4"}})) ==
          std::make_pair(4, 4));
    CHECK_THROWS_WITH(parse_shard("auto", env_of({{"JOB_COMPLETION_INDEX", "3"}})), Catch::Contains("auto/N"));
    CHECK_THROWS_WITH(parse_shard("auto/3", env_of({{"JOB_COMPLETION_INDEX", "3"}})),
                      Catch::Contains("JOB_COMPLETION_INDEX 3") && Catch::Contains("4 of 3"));
    CHECK_THROWS_WITH(parse_shard("auto", env_of({})), Catch::Contains("no job array"));
    CHECK_THROWS_WITH(parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "x"}})),
                      Catch::Contains("SLURM_ARRAY_TASK_ID"));
    CHECK_THROWS_WITH(parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "0"},
                                                  {"SLURM_ARRAY_TASK_MAX", "8"}, {"SLURM_ARRAY_TASK_STEP", "2"}})),
                      Catch::Contains("step"));
    CHECK_THROWS_AS(parse_shard("auto/0", env_of({{"JOB_COMPLETION_INDEX", "0"}})), InvalidArgument);
    CHECK_THROWS_AS(parse_shard("autox", env_of({})), InvalidArgument);
}

TEST_CASE("batch --list-jobs prints each job of the shard with its output, and writes nothing", "[cli]") {
    BatchDir b;
    const std::string io = "batch -c '" + (b.dir / "contents") + "' --style '" + (b.dir / "styles") + "' " + b.common() +
                           "-O '" + (b.dir / "out") + "' --list-jobs";
    auto r = run_cli(io, b.dir);
    REQUIRE(r.code == 0);
    std::vector<Json> lines;
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);) lines.push_back(Json::parse(l));
    REQUIRE(lines.size() == 4);
    CHECK(lines[0]["job"] == 1);
    CHECK(lines[3]["job"] == 4);
    CHECK(lines[1]["output"] == (b.dir / "out/a__y.png"));
    CHECK(lines[1]["content"] == (b.dir / "contents/a.png"));
    CHECK(lines[1]["styles"][0] == (b.dir / "styles/y.jpg"));
    CHECK(lines[1]["exists"] == false);
    CHECK_FALSE(fs::exists(b.dir / "out"));
    // A workflow engine that runs a listed job with the single-image form gets
    // the batch's bytes.
    const std::string content = lines[1]["content"], style = lines[1]["styles"][0], output = lines[1]["output"];
    REQUIRE(run_cli("'" + content + "' '" + style + "' -o '" + (b.dir / "single.png") + "' " + b.common(), b.dir).code == 0);
    REQUIRE(run_cli(io.substr(0, io.size() - std::string(" --list-jobs").size()), b.dir).code == 0);
    CHECK(fixtures::read_file(output) == fixtures::read_file(b.dir / "single.png"));
    // The shard of a Slurm array task, taken from its environment.
    ::setenv("SLURM_ARRAY_TASK_ID", "2", 1);
    ::setenv("SLURM_ARRAY_TASK_COUNT", "2", 1);
    r = run_cli(io + " --shard auto", b.dir);
    ::unsetenv("SLURM_ARRAY_TASK_ID");
    ::unsetenv("SLURM_ARRAY_TASK_COUNT");
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("\"job\":2,\"shard\":\"2/2\"") && Catch::Contains("\"job\":4,") &&
                          !Catch::Contains("\"job\":1,") && !Catch::Contains("\"job\":3,"));
    r = run_cli(io + " --shard auto", b.dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("no job array"));
}

TEST_CASE("batch: a resumed run's report keeps one final line per job", "[cli]") {
    BatchDir b;
    const std::string cmd = "batch -c '" + (b.dir / "contents") + "' --style '" + (b.dir / "styles") + "' " +
                            b.common() + "-O '" + (b.dir / "out") + "' --report '" + (b.dir / "r.jsonl") + "'";
    REQUIRE(run_cli(cmd, b.dir).code == 0);
    const auto first = b.report_lines("r.jsonl");
    REQUIRE(first.size() == 4);
    // As after a crash: one output gone, a line cut short at the end.
    fs::remove(b.dir / "out/b__x.png");
    fixtures::write_file(b.dir / "r.jsonl", fixtures::read_file(b.dir / "r.jsonl") + "{\"job\":3,\"sta");
    REQUIRE(run_cli(cmd + " --skip-existing", b.dir).code == 0);
    const auto resumed = b.report_lines("r.jsonl");
    REQUIRE(resumed.size() == 4);
    std::map<int, Json> by_job;
    for (const auto& l : resumed) {
        const auto j = Json::parse(l);
        CHECK(j["status"] == "ok");
        by_job[j["job"].get<int>()] = j;
    }
    CHECK(by_job.size() == 4);  // jobs 1..4, each once
    // The carried lines are the earlier run's, word for word; job 3 (b x) is new.
    CHECK(resumed[0] == first[0]);
    CHECK(resumed[1] == first[1]);
    CHECK(resumed[2] == first[3]);
    CHECK_THAT(resumed[3], Catch::StartsWith("{\"job\":3,\"status\":\"ok\""));
    // Without --skip-existing the report starts again.
    REQUIRE(run_cli(cmd + " --shard 1/4", b.dir).code == 0);
    CHECK(b.report_lines("r.jsonl").size() == 1);
    // Killed after writing an image but before its report line: with
    // --sidecar, the resumed run makes the line from the image's sidecar.
    fs::remove_all(b.dir / "out");
    REQUIRE(run_cli(cmd + " --sidecar", b.dir).code == 0);
    const auto whole = b.report_lines("r.jsonl");
    REQUIRE(whole.size() == 4);
    fixtures::write_file(b.dir / "r.jsonl", whole[0] + "\n" + whole[2] + "\n" + whole[3] + "\n");  // job 2's line lost
    REQUIRE(run_cli(cmd + " --sidecar --skip-existing", b.dir).code == 0);
    const auto rebuilt = b.report_lines("r.jsonl");
    REQUIRE(rebuilt.size() == 4);
    CHECK(rebuilt[3] == whole[1]);  // the same line, word for word
}

TEST_CASE("batch: shards 1/2 and 2/2 together equal the whole run, byte for byte", "[cli]") {
    BatchDir b;
    const std::string io = "batch -c '" + (b.dir / "contents") + "' --style '" + (b.dir / "styles") + "' " + b.common();
    REQUIRE(run_cli(io + "-O '" + (b.dir / "whole") + "'", b.dir).code == 0);
    REQUIRE(run_cli(io + "-O '" + (b.dir / "sharded") + "' --shard 1/2", b.dir).code == 0);
    size_t first = 0;
    for (auto& e : fs::directory_iterator(b.dir / "sharded")) first += e.is_regular_file();
    CHECK(first == 2);
    REQUIRE(run_cli(io + "-O '" + (b.dir / "sharded") + "' --shard 2/2", b.dir).code == 0);
    for (const char* n : {"a__x.png", "a__y.png", "b__x.png", "b__y.png"}) {
        const std::string name = n;
        CHECK(fixtures::read_file(b.dir / ("whole/" + name)) == fixtures::read_file(b.dir / ("sharded/" + name)));
    }
    CHECK(run_cli(io + "-O x --shard 3/2", b.dir).code == 2);
}

TEST_CASE("batch: jobs file with per-job options, relative paths and sidecar provenance", "[cli]") {
    BatchDir b;
    fixtures::write_file(b.dir / "jobs.txt",
                         "# content style [style...] [options]\n"
                         "contents/a.png styles/x.png -o first.png -n 3\n"
                         "contents/b.png styles/x.png styles/y.jpg --style-blend 0.3,0.7 --seed 5\n");
    auto r = run_cli("batch --jobs '" + (b.dir / "jobs.txt") + "' -O '" + (b.dir / "out") + "' --sidecar " + b.common(), b.dir);
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(fs::exists(b.dir / "out/first.png"));
    CHECK(fs::exists(b.dir / "out/b__x+y.png"));
    const auto side = fixtures::read_file(b.dir / "out/first.png.json");
    CHECK_THAT(side, Catch::Contains("\"iterations\":3") && Catch::Contains("\"libtorch\":") &&
                         Catch::Contains("\"sha256\":\""));
    CHECK_THAT(fixtures::read_file(b.dir / "out/b__x+y.png.json"),
               Catch::Contains("\"seed\":5") && Catch::Contains("\"style_blend\":\"0.3,0.7\""));
    fixtures::write_file(b.dir / "bad.txt", "contents/a.png styles/x.png --iterations zero\n");
    r = run_cli("batch --jobs '" + (b.dir / "bad.txt") + "' -O '" + (b.dir / "out2") + "' " + b.common(), b.dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("bad.txt:1"));
}

TEST_CASE("style targets from the cache give the same image as fresh ones", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    StylizeOptions o;
    o.size = 48;
    o.iterations = 5;
    std::vector<StyleTargets> cache;
    auto style = std::vector<StyleImage>{{fixtures::style_image(), 1.0}};
    auto fresh = stylize::stylize(model, fixtures::content_image(), style, o);
    auto first = stylize::stylize(model, fixtures::content_image(), style, o, {}, {}, &cache);
    REQUIRE(cache.size() == 1);
    auto second = stylize::stylize(model, fixtures::content_image(), style, o, {}, {}, &cache);
    CHECK(cache.size() == 1);
    CHECK(torch::equal(fresh.image, first.image));
    CHECK(torch::equal(fresh.image, second.image));
}
