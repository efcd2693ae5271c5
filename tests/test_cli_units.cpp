// Units of the command-line layer that need no executable: exit codes,
// progress rendering, choice options, output paths, batch job failures.
#include <algorithm>
#include <cstdio>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <catch2/catch.hpp>

#include "commands/batch_command.hpp"
#include "exit_codes.hpp"
#include "fixtures.hpp"
#include "options_binding.hpp"
#include "progress_printer.hpp"
#include "commands/run_command.hpp"
#include "stylize/errors.hpp"

using namespace stylize;
using namespace stylize::cli;

namespace {

// A c10::Error as LibTorch throws it: the message, then a backtrace on further lines.
c10::Error torch_error() {
    try {
        TORCH_CHECK(false, "boom");
    } catch (const c10::Error& e) {
        return e;
    }
    throw std::logic_error("TORCH_CHECK(false) did not throw");
}

/// Everything written to `f` so far.
std::string contents(std::FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string s;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
    return s;
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(s.substr(start, nl - start));
    return out;
}

Progress progress(int evaluation, int total, double elapsed) {
    Progress p;
    p.evaluation = evaluation;
    p.total = total;
    p.height = 48;
    p.width = 64;
    p.losses.total = 0.5;
    p.losses.content = 0.25;
    p.losses.style = 0.125;
    p.losses.tv = 0.0625;
    p.elapsed_seconds = elapsed;
    return p;
}

// Temporary files for the printer's two streams, closed at the end.
struct Streams {
    std::FILE* err = std::tmpfile();
    std::FILE* out = std::tmpfile();
    Streams() { REQUIRE((err && out)); }
    ~Streams() {
        std::fclose(err);
        std::fclose(out);
    }
};

// The flags of a run (job and process options) parsed from `args`.
RunOptions parse_flags(std::vector<std::string> args) {
    RunOptions o;
    CLI::App app;
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // as the main form
    bind_job_options(app, o.job);
    bind_process_options(app, o);
    std::reverse(args.begin(), args.end());
    app.parse(args);
    return o;
}

}  // namespace

TEST_CASE("every error type maps to its documented exit code", "[unit]") {
    // README.md and docs/REFERENCE.md, "Exit codes".
    CHECK(exit_code_for(InvalidArgument("--size -5")) == 2);
    CHECK(exit_code_for(CLI::ValidationError("--pooling", "sum is not one of max|avg")) == 2);
    CHECK(exit_code_for(CLI::RequiredError("content")) == 2);
    CHECK(exit_code_for(ImageError("a.png: no such file")) == 3);
    CHECK(exit_code_for(ModelError("m.pt: not a TorchScript archive")) == 4);
    CHECK(exit_code_for(RuntimeFailure("NaN loss")) == 5);
    CHECK(exit_code_for(OutOfMemory("needs 2 GiB", 2e9, 1e9)) == 5);
    CHECK(exit_code_for(torch_error()) == 5);
    CHECK(exit_code_for(std::bad_alloc()) == 5);
    CHECK(exit_code_for(std::runtime_error("unexpected")) == 1);  // a bug
    CHECK(exit_code_for(Error("no kind")) == 1);

    CHECK(kOk == 0);
    CHECK(kInternal == 1);
    CHECK(kUsage == 2);
    CHECK(kImage == 3);
    CHECK(kModel == 4);
    CHECK(kRuntime == 5);
    CHECK(kPartial == 6);
    CHECK(kCompareFailed == 7);
    CHECK(kInterrupted == 130);
    CHECK(kTerminated == 143);
    // --help prints the same table: one line per code.
    const auto table = exit_code_table();
    for (const char* code : {"  0 ", "  1 ", "  2 ", "  3 ", "  4 ", "  5 ", "  6 ", "  7 ", "  130 "})
        CHECK_THAT(table, Catch::Contains(std::string("\n") + code));
    CHECK_THAT(table, Catch::Contains("143"));
}

TEST_CASE("progress printer: log mode writes whole lines, every 10% and the last", "[unit]") {
    Streams s;
    ProgressPrinter printer(ProgressMode::Log, s.err, s.out, "[job 1/2] ");
    for (int i = 1; i <= 20; ++i) printer(progress(i, 20, 0.1 * i));
    printer.finish();
    const auto err = contents(s.err);
    const auto lines = lines_of(err);
    // The first, then every 2nd of 20.
    REQUIRE(lines.size() == 11);
    CHECK(err.back() == '\n');
    CHECK_THAT(lines.front(), Catch::StartsWith("[job 1/2] eval 1/20") && Catch::Contains("loss 0.5"));
    CHECK_THAT(lines[1], Catch::StartsWith("[job 1/2] eval 2/20"));
    CHECK_THAT(lines.back(), Catch::StartsWith("[job 1/2] eval 20/20"));
    for (const auto& l : lines) CHECK(l.find('\r') == std::string::npos);
    CHECK(contents(s.out).empty());

    // Not a terminal: auto means log lines.
    CHECK(ProgressPrinter(ProgressMode::Auto, s.err, s.out).mode() == ProgressMode::Log);
}

TEST_CASE("progress printer: none mode writes nothing", "[unit]") {
    Streams s;
    ProgressPrinter printer(ProgressMode::None, s.err, s.out, "[job 1/1] ");
    for (int i = 1; i <= 5; ++i) printer(progress(i, 5, i));
    printer.finish();
    CHECK(contents(s.err).empty());
    CHECK(contents(s.out).empty());
}

TEST_CASE("progress printer: line mode rewrites one line and ends it on finish", "[unit]") {
    Streams s;
    ProgressPrinter printer(ProgressMode::Line, s.err, s.out);
    for (int i = 1; i <= 3; ++i) printer(progress(i, 3, i));
    const auto live = contents(s.err);
    CHECK(std::count(live.begin(), live.end(), '\r') == 3);
    CHECK(live.find('\n') == std::string::npos);
    CHECK_THAT(live, Catch::Contains("eval 3/3"));
    printer.finish();
    const auto done = contents(s.err);
    CHECK(done.back() == '\n');
    CHECK(std::count(done.begin(), done.end(), '\n') == 1);
    printer.finish();  // only one newline per open line
    CHECK(contents(s.err) == done);
    CHECK(contents(s.out).empty());
}

TEST_CASE("progress printer: json mode writes one line per evaluation to its own stream", "[unit]") {
    Streams s;
    ProgressPrinter printer(ProgressMode::Json, s.err, s.out, "[job 1/1] ");
    const std::vector<int> evaluations{7, 42, 1234};
    for (int e : evaluations) printer(progress(e, 5000, e * 0.01));
    printer.finish();
    const auto out = contents(s.out);
    const auto lines = lines_of(out);
    REQUIRE(lines.size() == evaluations.size());
    CHECK(out.back() == '\n');
    for (size_t i = 0; i < lines.size(); ++i) {
        CHECK_THAT(lines[i], Catch::StartsWith("{") && Catch::Contains(std::to_string(evaluations[i])));
        CHECK_THAT(lines[i], Catch::Contains("evaluation"));
    }
    CHECK(contents(s.err).empty());
}

TEST_CASE("choice options: each name gives its value, in any case; others are refused naming the choices", "[unit]") {
    const auto d = parse_flags({});
    CHECK(d.job.engine.pooling == Pooling::Max);
    CHECK(d.job.engine.optimizer == OptimizerKind::LBFGS);
    CHECK(d.job.engine.init == InitKind::Content);
    CHECK(d.job.engine.color == ColorMode::Style);
    CHECK(d.job.engine.precision == Precision::FP32);
    CHECK(d.layout == Layout::Auto);
    CHECK(d.conv_algorithm == ConvAlgorithm::Auto);
    CHECK(d.checkpoint == "auto");
    CHECK(d.progress == "auto");

    CHECK(parse_flags({"--pooling", "avg"}).job.engine.pooling == Pooling::Avg);
    CHECK(parse_flags({"--pooling", "AVG"}).job.engine.pooling == Pooling::Avg);
    CHECK(parse_flags({"--pooling", "avg", "--pooling", "max"}).job.engine.pooling == Pooling::Max);  // last wins
    CHECK(parse_flags({"--optimizer", "adam"}).job.engine.optimizer == OptimizerKind::Adam);
    CHECK(parse_flags({"--init", "noise"}).job.engine.init == InitKind::Noise);
    CHECK(parse_flags({"--colors", "luminance"}).job.engine.color == ColorMode::Luminance);
    CHECK(parse_flags({"--colors", "match"}).job.engine.color == ColorMode::MatchMeanCov);
    CHECK(parse_flags({"--colors", "histogram"}).job.engine.color == ColorMode::MatchHistogram);
    CHECK(parse_flags({"--precision", "tf32"}).job.engine.precision == Precision::TF32);
    CHECK(parse_flags({"--precision", "bf16"}).job.engine.precision == Precision::BF16);
    CHECK(parse_flags({"--layout", "contiguous"}).layout == Layout::Contiguous);
    CHECK(parse_flags({"--layout", "channels-last"}).layout == Layout::ChannelsLast);
    CHECK(parse_flags({"--conv-algorithm", "winograd"}).conv_algorithm == ConvAlgorithm::Winograd);
    CHECK(parse_flags({"--conv-algorithm", "direct"}).conv_algorithm == ConvAlgorithm::Direct);
    CHECK(parse_flags({"--checkpoint", "on"}).checkpoint == "on");
    CHECK(parse_flags({"--checkpoint", "off"}).checkpoint == "off");
    CHECK(parse_flags({"--progress", "json"}).progress == "json");

    CHECK_THROWS_WITH(parse_flags({"--pooling", "sum"}), "--pooling: sum is not one of max|avg");
    CHECK_THROWS_AS(parse_flags({"--pooling", "1"}), CLI::ValidationError);  // not the enum's number either
    CHECK_THROWS_WITH(parse_flags({"--checkpoint", "maybe"}), "--checkpoint: maybe is not one of auto|on|off");
    CHECK_THROWS_WITH(parse_flags({"--layout", "nchw"}),
                      "--layout: nchw is not one of auto|contiguous|channels-last");
}

TEST_CASE("16-bit and format checks of the output path ignore the extension's case", "[unit]") {
    fixtures::TempDir dir;
    for (const char* ok : {"a.png", "a.Png", "a.PNG", "a.tif", "a.TIF", "a.Tiff"}) {
        INFO(ok);
        CHECK_NOTHROW(check_output_path(dir / ok, {}, 16));
    }
    for (const char* eight_only : {"a.JPG", "a.jpeg", "a.WebP", "a.BMP"}) {
        INFO(eight_only);
        CHECK_NOTHROW(check_output_path(dir / eight_only, {}, 8));
        CHECK_THROWS_WITH(check_output_path(dir / eight_only, {}, 16), Catch::Contains("--bit-depth 16"));
    }
    CHECK_THROWS_WITH(check_output_path(dir / "a.GIF", {}, 8), Catch::Contains("unsupported format"));
    CHECK_THROWS_AS(check_output_path(dir / "a", {}, 8), InvalidArgument);
}

TEST_CASE("batch: any exception from a job becomes a failed job with a one-line message", "[unit]") {
    const auto runtime = job_failure(std::runtime_error("winograd: no primitive for this shape"));
    CHECK(runtime.status == "failed");
    CHECK(runtime.message == "winograd: no primitive for this shape");

    const auto oom = job_failure(std::bad_alloc());
    CHECK(oom.status == "failed");
    CHECK_THAT(oom.message, Catch::StartsWith("out of memory") && Catch::Contains("--size"));

    const auto torch = job_failure(torch_error());
    CHECK(torch.status == "failed");
    CHECK(torch.message == "LibTorch: boom");  // the first line, not the backtrace

    const auto model = job_failure(ModelError("m.pt: not a conv/relu stack"));
    CHECK(model.status == "failed");
    CHECK(model.message == "m.pt: not a conv/relu stack");

    const auto image = job_failure(ImageError("a.png: no such file"));
    CHECK(image.status == "failed");
    CHECK(image.message == "a.png: no such file");
}
