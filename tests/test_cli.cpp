// End-to-end tests of the stylize executable: exit codes, messages, files.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "stylize/image_io.hpp"

using fixtures::run_cli;
using fixtures::TempDir;
namespace fs = std::filesystem;

namespace {
struct Inputs {
    TempDir dir;
    std::string content = dir / "content image.png";  // a space in the name
    std::string style = dir / "stil-ü.png";           // and non-ASCII
    Inputs() {
        stylize::save_image(content, fixtures::content_image());
        stylize::save_image(style, fixtures::style_image());
    }
    std::string base() const {
        return "'" + content + "' '" + style + "' --model '" + fixtures::model() + "' -s 48 -n 8 --progress none";
    }
};
}  // namespace

TEST_CASE("cli: a run writes the output and exits 0", "[cli]") {
    Inputs in;
    const auto r = run_cli(in.base() + " -o '" + (in.dir / "out dir/ö.png") + "'", in.dir);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(fs::exists(in.dir / "out dir/ö.png"));
    CHECK_THAT(r.err, Catch::Contains("RANDOM weights"));  // always warned about
    const auto out = stylize::load_image(in.dir / "out dir/ö.png");
    CHECK(out.rgb.size(3) == 48);
}

TEST_CASE("cli: --help and --version exit 0 and list what matters", "[cli]") {
    TempDir dir;
    auto h = run_cli("--help", dir);
    CHECK(h.code == 0);
    CHECK_THAT(h.out, Catch::Contains("--iterations") && Catch::Contains("Exit codes") &&
                          Catch::Contains("relu4_2") && Catch::Contains("--style-blend"));
    auto v = run_cli("--version", dir);
    CHECK(v.code == 0);
    CHECK_THAT(v.out, Catch::Contains("LibTorch") && Catch::Contains("cpu"));
}

TEST_CASE("cli: --help shows each option's choices as a|b|c, and the commands", "[cli]") {
    TempDir dir;
    const auto h = run_cli("--help", dir);
    REQUIRE(h.code == 0);
    CHECK(h.out.find("->") == std::string::npos);  // not CLI11's internal enum mapping
    for (const char* choices : {"--pooling max|avg", "--optimizer lbfgs|adam", "--init content|noise",
                                "--colors style|luminance|match|histogram", "--precision fp32|tf32|bf16",
                                "--layout auto|contiguous|channels-last", "--conv-algorithm auto|winograd|direct",
                                "--checkpoint auto|on|off", "--progress auto|line|log|json|none"}) {
        INFO(choices);
        CHECK_THAT(h.out, Catch::Contains(choices));
    }
    CHECK_THAT(h.out, Catch::Contains("Commands:") && Catch::Contains("  batch ") && Catch::Contains("  compare ") &&
                          Catch::Contains("Model search order") && Catch::Contains("Exit codes"));
    // Each command's own help, with its footers, and the same plain choices.
    const auto b = run_cli("batch --help", dir);
    CHECK(b.code == 0);
    CHECK_THAT(b.out, Catch::Contains("Usage: stylize batch") && Catch::Contains("--skip-existing") &&
                          Catch::Contains("--pooling max|avg") && Catch::Contains("Model search order") &&
                          Catch::Contains("Exit codes"));
    CHECK(b.out.find("->") == std::string::npos);
    CHECK(b.out.find("Positionals") == std::string::npos);  // not the main form's
    const auto c = run_cli("compare --help", dir);
    CHECK(c.code == 0);
    CHECK_THAT(c.out, Catch::Contains("Usage: stylize compare") && Catch::Contains("--min-psnr") &&
                          Catch::Contains("Exit codes"));
    // A value that is not one of the choices: one line naming them, exit 2.
    const auto bad = run_cli("a.png b.png -o c.png --pooling sum", dir);
    CHECK(bad.code == 2);
    CHECK(bad.err == "stylize: error: --pooling: sum is not one of max|avg (see --help)\n");
}

TEST_CASE("cli: a command is only the first word; elsewhere batch or compare is a file", "[cli]") {
    Inputs in;
    fs::copy_file(in.style, in.dir / "batch");
    fs::copy_file(in.style, in.dir / "compare");
    const auto r = run_cli("'" + in.content + "' '" + (in.dir / "batch") + "' '" + (in.dir / "compare") +
                               "' --model '" + fixtures::model() + "' -s 32 -n 2 --progress none -o '" +
                               (in.dir / "o.png") + "'",
                           in.dir);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(fs::exists(in.dir / "o.png"));
    // The main form's required arguments do not apply to a command, and its flags are not the command's.
    auto c = run_cli("compare '" + in.content + "'", in.dir);
    CHECK(c.code == 2);
    CHECK(c.err == "stylize: error: b is required (see --help)\n");
    c = run_cli("compare '" + in.content + "' '" + in.content + "' -o x.png", in.dir);
    CHECK(c.code == 2);
    CHECK_THAT(c.err, Catch::StartsWith("stylize: error: ") && Catch::Contains("-o"));
}

TEST_CASE("cli: 16-bit output whatever the case of .png/.tif; refused for .JPG", "[cli]") {
    Inputs in;
    for (const char* name : {"o.Png", "o.TIF"}) {
        const auto r = run_cli(in.base() + " -n 2 --bit-depth 16 -o '" + (in.dir / name) + "'", in.dir);
        INFO(name << ": " << r.err);
        REQUIRE(r.code == 0);
        CHECK(stylize::load_image(in.dir / name).bit_depth == 16);
    }
    const auto jpg = run_cli(in.base() + " -n 2 --bit-depth 16 -o '" + (in.dir / "o.JPG") + "'", in.dir);
    CHECK(jpg.code == 2);
    CHECK_THAT(jpg.err, Catch::Contains("--bit-depth 16 needs a .png or .tif output"));
    CHECK(!fs::exists(in.dir / "o.JPG"));
    CHECK(run_cli(in.base() + " -n 2 -o '" + (in.dir / "o.JPG") + "'", in.dir).code == 0);
}

TEST_CASE("cli: a missing input exits 3 naming the file", "[cli]") {
    Inputs in;
    const auto r = run_cli("'" + (in.dir / "nope.jpg") + "' '" + in.style + "' -o '" + (in.dir / "o.png") +
                               "' --model '" + fixtures::model() + "'",
                           in.dir);
    CHECK(r.code == 3);
    CHECK_THAT(r.err, Catch::StartsWith("stylize: error: ") && Catch::Contains("nope.jpg"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // one line
    CHECK(!fs::exists(in.dir / "o.png"));
}

TEST_CASE("cli: an unreadable image exits 3", "[cli]") {
    Inputs in;
    fixtures::write_file(in.dir / "bad.jpg", "GIF89a not really");
    const auto r = run_cli("'" + (in.dir / "bad.jpg") + "' '" + in.style + "' -o '" + (in.dir / "o.png") +
                               "' --model '" + fixtures::model() + "'",
                           in.dir);
    CHECK(r.code == 3);
    CHECK_THAT(r.err, Catch::Contains("bad.jpg"));
}

TEST_CASE("cli: bad option values exit 2 with one line", "[cli]") {
    Inputs in;
    const std::string out = " -o '" + (in.dir / "o.png") + "'";
    for (const char* bad : {"--iterations 0", "--iterations abc", "--style-weight nan", "--size -5", "--size 3",
                            "--optimizer sgd", "--style-layers relu9_1", "--style-layers ''", "--learning-rate -1",
                            "--style-blend 1,2,3", "--bit-depth 12", "--no-such-flag"}) {
        const auto r = run_cli(in.base() + out + " " + bad, in.dir);
        INFO(bad << ": " << r.err);
        CHECK(r.code == 2);
        CHECK_THAT(r.err, Catch::Contains("stylize: error: "));
        CHECK(r.err.find("stylize: error: ") == r.err.rfind("stylize: error: "));  // one error line
    }
    CHECK(!fs::exists(in.dir / "o.png"));
}

TEST_CASE("cli: refuses to overwrite an input and rejects unknown output formats", "[cli]") {
    Inputs in;
    const auto before = fixtures::read_file(in.content);
    auto r = run_cli(in.base() + " -o '" + in.content + "'", in.dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("input"));
    CHECK(fixtures::read_file(in.content) == before);
    r = run_cli(in.base() + " -o '" + (in.dir / "o.gifx") + "'", in.dir);
    CHECK(r.code == 2);
}

TEST_CASE("cli: a missing or corrupt model exits 4", "[cli]") {
    Inputs in;
    const std::string io = "'" + in.content + "' '" + in.style + "' -o '" + (in.dir / "o.png") + "' -n 2 ";
    auto r = run_cli(io + "--model '" + (in.dir / "none.pt") + "'", in.dir);
    CHECK(r.code == 4);
    CHECK_THAT(r.err, Catch::Contains("none.pt") && Catch::Contains("export"));
    r = run_cli(io + "--model '" + fixtures::model("corrupt.pt") + "'", in.dir);
    CHECK(r.code == 4);
    CHECK_THAT(r.err, Catch::Contains("corrupt.pt"));
    CHECK(!fs::exists(in.dir / "o.partial.png"));
}

TEST_CASE("cli: STYLIZE_MODEL is honoured", "[cli]") {
    Inputs in;
    const std::string cmd = "'" + in.content + "' '" + in.style + "' -o '" + (in.dir / "o.png") + "' -s 32 -n 2 -q";
    const std::string env = "env STYLIZE_MODEL='" + (in.dir / "absent.pt") + "' '" + STYLIZE_EXE + "' ";
    const int status = std::system((env + cmd + " 2>'" + (in.dir / "err") + "'").c_str());
    CHECK(WEXITSTATUS(status) == 4);
    CHECK_THAT(fixtures::read_file(in.dir / "err"), Catch::Contains("absent.pt"));
}

TEST_CASE("cli: --save-every writes numbered intermediates, 16-bit output on request", "[cli]") {
    Inputs in;
    const auto r = run_cli(in.base() + " -n 6 --save-every 3 --bit-depth 16 -o '" + (in.dir / "r.png") + "'", in.dir);
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(fs::exists(in.dir / "r.00003.png"));
    CHECK(fs::exists(in.dir / "r.00006.png"));
    CHECK(stylize::load_image(in.dir / "r.png").bit_depth == 16);
}

TEST_CASE("cli: --progress json prints one object per evaluation", "[cli]") {
    Inputs in;
    const auto r = run_cli(in.base() + " -n 5 --progress json -o '" + (in.dir / "j.png") + "'", in.dir);
    REQUIRE(r.code == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 5);
    CHECK_THAT(r.out, Catch::Contains("\"evaluation\":5,\"total\":5"));
}

TEST_CASE("cli: compare passes identical images and fails below threshold with exit 7", "[cli]") {
    TempDir dir;
    auto a = fixtures::content_image();
    stylize::save_image(dir / "a.png", a);
    stylize::save_image(dir / "b.png", (a + 0.05 * torch::randn_like(a)).clamp(0, 1));
    auto same = run_cli("compare '" + (dir / "a.png") + "' '" + (dir / "a.png") + "' --min-psnr 60 --min-ssim 0.999", dir);
    CHECK(same.code == 0);
    CHECK_THAT(same.out, Catch::Contains("PSNR inf"));
    auto diff = run_cli("compare '" + (dir / "a.png") + "' '" + (dir / "b.png") + "' --min-psnr 40", dir);
    CHECK(diff.code == 7);
    CHECK_THAT(diff.out, Catch::Contains("FAIL"));
    auto loose = run_cli("compare '" + (dir / "a.png") + "' '" + (dir / "b.png") + "' --min-psnr 20", dir);
    CHECK(loose.code == 0);
}

TEST_CASE("cli: compare --json prints JSON only, also for names with quotes and backslashes", "[cli]") {
    TempDir dir;
    fs::create_directories(dir / "ref");
    fs::create_directories(dir / "new");
    const std::string name = "q\"uo\\te \\\".png";  // q"uo\te \".png
    auto a = fixtures::content_image();
    stylize::save_image(dir / ("ref/" + name), a);
    stylize::save_image(dir / ("new/" + name), a);
    auto lines_of = [](const std::string& out) {
        std::vector<nlohmann::json> lines;
        std::istringstream in(out);
        for (std::string l; std::getline(in, l);) {
            INFO(l);
            REQUIRE_NOTHROW(lines.push_back(nlohmann::json::parse(l)));
        }
        return lines;
    };
    // Folders: identical images (psnr +inf is written as null).
    auto r = run_cli("compare '" + (dir / "ref") + "' '" + (dir / "new") + "' --json --min-ssim 0.99", dir);
    INFO(r.out + r.err);
    CHECK(r.code == 0);
    auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["a"] == dir / ("ref/" + name));
    CHECK(lines[0]["b"] == dir / ("new/" + name));
    CHECK(lines[0]["psnr"].is_null());
    CHECK(lines[0]["ssim"].get<double>() == Approx(1.0));
    CHECK(lines[0]["max_diff"] == 0.0);
    CHECK(lines[0]["ok"] == true);
    CHECK_THAT(r.err, Catch::Contains("compare: 1 image(s), 1 ok, 0 failing"));  // the summary: on stderr

    // Two files that differ, and a file missing from the second folder.
    const std::string other = "other\\\"b.png";
    stylize::save_image(dir / other, (a + 0.05 * torch::randn_like(a)).clamp(0, 1));
    r = run_cli("compare '" + (dir / ("ref/" + name)) + "' '" + (dir / other) + "' --json --min-psnr 60", dir);
    CHECK(r.code == 7);
    lines = lines_of(r.out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["a"] == dir / ("ref/" + name));
    CHECK(lines[0]["b"] == dir / other);
    CHECK(lines[0]["psnr"].is_number());
    CHECK(lines[0]["psnr"].get<double>() < 60);
    CHECK(lines[0]["ssim"].is_number());
    CHECK(lines[0]["max_diff"].get<double>() > 0);
    CHECK(lines[0]["ok"] == false);
    stylize::save_image(dir / "ref/only\\here\".png", a);
    r = run_cli("compare '" + (dir / "ref") + "' '" + (dir / "new") + "' --json", dir);
    CHECK(r.code == 7);
    lines = lines_of(r.out);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["ok"] == true);
    CHECK(lines[1]["a"] == dir / "ref/only\\here\".png");
    CHECK(lines[1]["b"].is_null());
    CHECK(lines[1]["ok"] == false);
    CHECK_THAT(lines[1]["error"].get<std::string>(), Catch::Contains("missing from"));
    CHECK_THAT(r.err, Catch::Contains("2 image(s), 1 ok, 1 failing"));
}

TEST_CASE("cli: compare pairs folders by name; missing and extra files fail", "[cli]") {
    TempDir dir;
    fs::create_directories(dir / "ref");
    fs::create_directories(dir / "new");
    stylize::save_image(dir / "ref/x.png", fixtures::content_image());
    stylize::save_image(dir / "new/x.png", fixtures::content_image());
    auto ok = run_cli("compare '" + (dir / "ref") + "' '" + (dir / "new") + "' --min-psnr 50", dir);
    CHECK(ok.code == 0);
    stylize::save_image(dir / "ref/y.png", fixtures::content_image());
    stylize::save_image(dir / "new/z.png", fixtures::content_image());
    auto bad = run_cli("compare '" + (dir / "ref") + "' '" + (dir / "new") + "'", dir);
    CHECK(bad.code == 7);
    CHECK_THAT(bad.out, Catch::Contains("y.png: missing") && Catch::Contains("z.png: extra"));
}
