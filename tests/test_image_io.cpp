#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"

using namespace stylize;
using fixtures::TempDir;
namespace fs = std::filesystem;

TEST_CASE("PNG round trip is exact at 8 bits", "[unit]") {
    TempDir dir;
    auto img = (fixtures::content_image() * 255).round() / 255;
    save_image(dir / "a.png", img);
    auto back = load_image(dir / "a.png");
    CHECK(back.bit_depth == 8);
    CHECK(back.channels == 3);
    CHECK(!back.alpha.defined());
    CHECK(torch::allclose(back.rgb, img, 0, 1e-6));
}

TEST_CASE("16-bit PNG and TIFF keep 16 bits", "[unit]") {
    TempDir dir;
    auto img = fixtures::content_image();
    for (const char* name : {"a16.png", "a16.tif"}) {
        SaveOptions so;
        so.bit_depth = 16;
        save_image(dir / name, img, so);
        auto back = load_image(dir / name);
        CHECK(back.bit_depth == 16);
        CHECK((back.rgb - img).abs().max().item<double>() < 1.0 / 65535 + 1e-7);
    }
    SaveOptions so;
    so.bit_depth = 16;
    CHECK_THROWS_AS(save_image(dir / "a.jpg", img, so), InvalidArgument);
}

TEST_CASE("JPEG and WebP are written and read back close", "[unit]") {
    TempDir dir;
    auto img = fixtures::content_image();
    for (const char* name : {"a.jpg", "a.webp", "a.bmp"}) {
        save_image(dir / name, img);
        auto back = load_image(dir / name);
        CHECK(back.rgb.sizes() == img.sizes());
        CHECK((back.rgb - img).abs().mean().item<double>() < 0.02);
    }
}

TEST_CASE("grayscale input becomes three equal channels", "[unit]") {
    TempDir dir;
    cv::Mat grey(10, 12, CV_8UC1);
    for (int y = 0; y < 10; ++y)
        for (int x = 0; x < 12; ++x) grey.at<uchar>(y, x) = static_cast<uchar>(20 * x);
    cv::imwrite(dir / "g.png", grey);
    auto img = load_image(dir / "g.png");
    CHECK(img.channels == 1);
    REQUIRE(img.rgb.sizes() == torch::IntArrayRef({1, 3, 10, 12}));
    CHECK(torch::equal(img.rgb.select(1, 0), img.rgb.select(1, 2)));
    CHECK(img.rgb[0][0][0][3].item<double>() == Approx(60.0 / 255));
}

TEST_CASE("alpha input: kept separately, colour composited over white, written back", "[unit]") {
    TempDir dir;
    cv::Mat rgba(8, 8, CV_8UC4, cv::Scalar(0, 0, 255, 255));  // opaque red (BGRA)
    for (int x = 0; x < 4; ++x)
        for (int y = 0; y < 8; ++y) rgba.at<cv::Vec4b>(y, x) = cv::Vec4b(0, 0, 255, 0);  // left half transparent
    cv::imwrite(dir / "a.png", rgba);
    auto img = load_image(dir / "a.png");
    CHECK(img.channels == 4);
    REQUIRE(img.alpha.defined());
    CHECK(img.alpha[0][0][0][0].item<double>() == 0.0);
    CHECK(img.alpha[0][0][0][7].item<double>() == 1.0);
    CHECK(img.rgb[0][1][0][0].item<double>() == Approx(1.0));  // transparent -> white
    CHECK(img.rgb[0][1][0][7].item<double>() == Approx(0.0));  // opaque red keeps G = 0
    save_image(dir / "out.png", img.rgb, {}, img.alpha);
    auto back = cv::imread(dir / "out.png", cv::IMREAD_UNCHANGED);
    CHECK(back.channels() == 4);
    CHECK(back.at<cv::Vec4b>(0, 0)[3] == 0);
    CHECK(back.at<cv::Vec4b>(0, 7)[3] == 255);
}

TEST_CASE("bad image files give an ImageError naming the file", "[unit]") {
    TempDir dir;
    CHECK_THROWS_WITH(load_image(dir / "missing.png"), Catch::Contains("missing.png") && Catch::Contains("no such"));
    CHECK_THROWS_WITH(load_image(dir.path.string()), Catch::Contains("directory"));
    fixtures::write_file(dir / "empty.jpg", "");
    CHECK_THROWS_WITH(load_image(dir / "empty.jpg"), Catch::Contains("empty"));
    fixtures::write_file(dir / "text.jpg", "this is not an image\n");
    CHECK_THROWS_AS(load_image(dir / "text.jpg"), ImageError);
    save_image(dir / "ok.png", fixtures::content_image());
    const auto bytes = fixtures::read_file(dir / "ok.png");
    fixtures::write_file(dir / "truncated.png", bytes.substr(0, bytes.size() / 2));
    CHECK_THROWS_AS(load_image(dir / "truncated.png"), ImageError);
}

TEST_CASE("header dimensions are read without decoding; huge images refused", "[unit]") {
    TempDir dir;
    save_image(dir / "a.png", fixtures::content_image(30, 50));
    save_image(dir / "a.jpg", fixtures::content_image(30, 50));
    for (const char* n : {"a.png", "a.jpg"}) {
        const auto dims = read_image_dimensions(fixtures::read_file(dir / n));
        CHECK(dims.first == 30);
        CHECK(dims.second == 50);
    }
    // A PNG header that declares 100000 x 100000 pixels is refused before decoding.
    std::string png = fixtures::read_file(dir / "a.png");
    const unsigned char big[8] = {0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0};
    png.replace(16, 8, reinterpret_cast<const char*>(big), 8);
    fixtures::write_file(dir / "huge.png", png);
    CHECK_THROWS_WITH(load_image(dir / "huge.png"), Catch::Contains("--max-pixels"));
    LoadOptions small;
    small.max_pixels = 100;
    CHECK_THROWS_WITH(load_image(dir / "a.jpg", small), Catch::Contains("--max-pixels"));
}

TEST_CASE("header dimensions equal the decoded size in every format the reader knows", "[unit]") {
    TempDir dir;
    // Odd sizes above 255 in one direction: a swapped width/height, a wrong
    // byte order or a lost high byte shows.
    const int64_t h = 37, w = 300;
    const auto img = fixtures::content_image(h, w);
    save_image(dir / "a.png", img);
    save_image(dir / "a.jpg", img);
    save_image(dir / "a.bmp", img);
    save_image(dir / "lossless.webp", img);  // save_image writes lossless WebP: a VP8L chunk
    cv::Mat bgr(static_cast<int>(h), static_cast<int>(w), CV_8UC3), bgra;
    cv::randu(bgr, 0, 255);
    cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
    bgra(cv::Rect(0, 0, static_cast<int>(w / 2), static_cast<int>(h))).setTo(cv::Scalar(0, 0, 255, 0));  // an opaque image has no ALPH
    cv::imwrite(dir / "lossy.webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 80});          // VP8
    cv::imwrite(dir / "lossy-alpha.webp", bgra, {cv::IMWRITE_WEBP_QUALITY, 80});   // VP8X (+ ALPH)
    const std::pair<const char*, const char*> files[] = {
        {"a.png", "IHDR"}, {"a.jpg", ""}, {"a.bmp", "BM"}, {"lossless.webp", "VP8L"},
        {"lossy.webp", "VP8 "}, {"lossy-alpha.webp", "VP8X"}};
    for (const auto& [name, tag] : files) {
        INFO(name);
        const auto bytes = fixtures::read_file(dir / name);
        REQUIRE(bytes.find(tag) != std::string::npos);  // the variant this case is about
        const auto decoded = load_image(dir / name);
        const auto dims = read_image_dimensions(bytes);
        CHECK(dims.first == decoded.rgb.size(2));
        CHECK(dims.second == decoded.rgb.size(3));
        CHECK(dims == std::make_pair(h, w));
    }
    // A top-down BMP stores a negative height.
    auto bmp = fixtures::read_file(dir / "a.bmp");
    const int32_t negative = -static_cast<int32_t>(h);
    bmp.replace(22, 4, reinterpret_cast<const char*>(&negative), 4);  // little-endian on every CI machine
    fixtures::write_file(dir / "top-down.bmp", bmp);
    CHECK(read_image_dimensions(bmp) == std::make_pair(h, w));
    CHECK(load_image(dir / "top-down.bmp").rgb.sizes() == torch::IntArrayRef({1, 3, h, w}));
    // OpenCV reads no GIF, so the fixture's size is the one make_fixtures.py gave it (PIL, 40x24).
    const auto gif = fixtures::read_file((fs::path(STYLIZE_FIXTURE_DIR) / "images" / "anim.gif").string());
    REQUIRE(gif.compare(0, 3, "GIF") == 0);
    CHECK(read_image_dimensions(gif) == std::make_pair<int64_t, int64_t>(24, 40));
}

TEST_CASE("output formats by extension, in any case", "[unit]") {
    for (const char* name : {"a.png", "a.Png", "a.PNG", "a.tif", "a.TIF", "a.tiff", "a.TIFF"}) {
        INFO(name);
        CHECK(output_format(name).writable);
        CHECK(output_format(name).sixteen_bit);
        CHECK(output_format(name).alpha);
    }
    for (const char* name : {"a.jpg", "a.JPG", "a.Jpeg", "a.bmp", "a.BMP", "a.webp", "a.WEBP"}) {
        INFO(name);
        CHECK(output_format(name).writable);
        CHECK(is_supported_output(name));
        CHECK(!output_format(name).sixteen_bit);
    }
    CHECK(output_format("a.WebP").alpha);
    CHECK(!output_format("a.JPG").alpha);
    for (const char* name : {"a.gif", "a.GIF", "a", "png", "a.png.txt", ".png/x"}) {
        INFO(name);
        CHECK(!output_format(name).writable);
        CHECK(!is_supported_output(name));
    }
    // save_image follows the same table.
    TempDir dir;
    SaveOptions so;
    so.bit_depth = 16;
    save_image(dir / "a.Png", fixtures::content_image(), so);
    save_image(dir / "a.TIF", fixtures::content_image(), so);
    CHECK(load_image(dir / "a.Png").bit_depth == 16);
    CHECK(load_image(dir / "a.TIF").bit_depth == 16);
    CHECK_THROWS_AS(save_image(dir / "a.JPG", fixtures::content_image(), so), InvalidArgument);
    save_image(dir / "b.JPG", fixtures::content_image());
    CHECK(load_image(dir / "b.JPG").rgb.size(3) == 64);
}

TEST_CASE("writes are atomic: failures leave nothing behind", "[unit]") {
    TempDir dir;
    auto img = fixtures::content_image();
    save_image(dir / "sub/deeper/out.png", img);  // missing folders are created
    CHECK(fs::exists(dir / "sub/deeper/out.png"));
    CHECK_THROWS_AS(save_image(dir / "out.xyz", img), ImageError);
    auto nan = img.clone();
    nan[0][0][0][0] = NAN;
    CHECK_THROWS_AS(save_image(dir / "nan.png", nan), RuntimeFailure);
    CHECK(!fs::exists(dir / "nan.png"));
    // Failures that happen to root as well (CI runs as root, which ignores
    // permissions). A folder where the file should go: the final rename fails.
    fs::create_directories(dir / "taken.png");
    CHECK_THROWS_WITH(save_image(dir / "taken.png", img), Catch::Contains("taken.png") && Catch::Contains("nothing was written"));
    CHECK(fs::is_empty(dir / "taken.png"));
    // A file where a parent folder should go: the folder cannot be created.
    fixtures::write_file(dir / "plain", "x");
    CHECK_THROWS_AS(save_image(dir / "plain/out.png", img), ImageError);
    {
        // A file-size limit of one byte: the write itself fails half-way.
        rlimit before{};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &before) == 0);
        const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a kill, as in the CLI
        rlimit tiny = before;
        tiny.rlim_cur = 1;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &tiny) == 0);
        bool threw_image_error = false;
        std::string message;
        try {
            save_image(dir / "big.png", img);
        } catch (const ImageError& e) {
            threw_image_error = true;
            message = e.what();
        }
        ::setrlimit(RLIMIT_FSIZE, &before);
        std::signal(SIGXFSZ, old_handler);
        CHECK(threw_image_error);
        CHECK_THAT(message, Catch::Contains("big.png") && Catch::Contains("nothing was written"));
        CHECK(!fs::exists(dir / "big.png"));
    }
    if (::geteuid() != 0) {  // and a read-only folder, where permissions count
        fs::create_directories(dir / "ro");
        ::chmod((dir / "ro").c_str(), 0555);
        CHECK_THROWS_AS(save_image(dir / "ro/out.png", img), ImageError);
    }
    size_t files = 0;
    for (auto& e : fs::recursive_directory_iterator(dir.path)) files += e.is_regular_file();
    CHECK(files == 2);  // sub/deeper/out.png and the file "plain"
}

TEST_CASE("temporaries of killed writers are removed, a live writer's never", "[unit]") {
    TempDir dir;
    char host[256] = {};
    REQUIRE(::gethostname(host, sizeof host - 1) == 0);
    // A process that has ended: its pid no longer runs.
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    REQUIRE(child > 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    const std::string h = host;
    const std::string dead = ".out.png.tmp." + h + "." + std::to_string(child) + ".123";
    const std::string alive = ".out.png.tmp." + h + "." + std::to_string(::getppid()) + ".456";
    const std::string mine = ".out.png.tmp." + h + "." + std::to_string(::getpid()) + ".789";
    const std::string elsewhere = ".out.png.tmp.another-host." + std::to_string(child) + ".1";
    for (const auto& n : {dead, alive, mine, elsewhere, std::string(".hidden"), std::string("plain.png")})
        fixtures::write_file(dir / n, "x");
    CHECK(remove_stale_temporaries(dir.path.string()) == 1);
    CHECK_FALSE(fs::exists(dir / dead));
    for (const auto& n : {alive, mine, elsewhere, std::string(".hidden"), std::string("plain.png")})
        CHECK(fs::exists(dir / n));
    // What write_file_atomically leaves on success: the file, no temporary.
    write_file_atomically(dir / "new.txt", "abc");
    size_t entries = 0;
    for (const auto& e : fs::directory_iterator(dir.path)) entries += e.path().filename().string().rfind(".new.txt", 0) == 0;
    CHECK(entries == 0);
    CHECK(remove_stale_temporaries((dir / "missing").c_str()) == 0);
}
