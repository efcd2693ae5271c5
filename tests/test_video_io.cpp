// Optical flow (optical_flow.hpp) and frames in and out (video_io.hpp).
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"
#include "stylize/optical_flow.hpp"
#include "stylize/temporal.hpp"
#include "stylize/video_io.hpp"

using namespace stylize;

namespace {

std::string clip_dir() { return fixtures::model("clip"); }

// A smooth random texture, (1,3,h,w).
torch::Tensor texture(int64_t h, int64_t w) {
    torch::manual_seed(3);
    auto t = torch::rand({1, 3, h / 4, w / 4});
    return torch::upsample_bilinear2d(t, {h, w}, false);
}

}  // namespace

TEST_CASE("optical flow finds a known shift, with both methods", "[unit]") {
    const auto a = texture(64, 80);
    auto b = torch::zeros_like(a);
    // b(p) = a(p - (3, 1)): content moved right 3 and down 1, so a(p) = b(p + (3, 1)).
    b.narrow(2, 1, 63).narrow(3, 3, 77).copy_(a.narrow(2, 0, 63).narrow(3, 0, 77));
    for (auto method : {FlowMethod::DIS, FlowMethod::Farneback}) {
        INFO(to_string(method));
        auto flow = make_optical_flow(method)->compute(a, b);
        REQUIRE(flow.sizes() == torch::IntArrayRef({1, 2, 64, 80}));
        const auto inner = flow.narrow(2, 12, 40).narrow(3, 12, 56);
        CHECK(inner.select(1, 0).median().item<double>() == Approx(3).margin(0.3));
        CHECK(inner.select(1, 1).median().item<double>() == Approx(1).margin(0.3));
        // Warping b by it gives back a.
        const auto back = warp_image(b, flow);
        CHECK((back - a).abs().narrow(2, 12, 40).narrow(3, 12, 56).mean().item<double>() < 0.02);
    }
}

TEST_CASE("frames: a folder is read in name order with its size; a video file round-trips", "[unit]") {
    auto src = open_frames(clip_dir());
    CHECK(src->info().frame_count == 8);
    CHECK(src->info().width == 64);
    CHECK(src->info().height == 48);
    CHECK_FALSE(src->info().video_file);
    CHECK(src->frame_name(0).find("0000.png") != std::string::npos);
    std::vector<torch::Tensor> frames;
    torch::Tensor f;
    while (src->next(f)) frames.push_back(f);
    REQUIRE(frames.size() == 8);
    CHECK(torch::equal(frames[3], load_image(src->frame_name(3)).rgb));

    fixtures::TempDir dir;
    for (const std::string ext : {".avi", ".mp4", ".mkv"}) {
        INFO(ext);
        const auto path = dir / ("clip" + ext);
        {
            VideoWriter w(path, 12.5, 64, 48);
            for (const auto& fr : frames) w.write(fr);
            CHECK(w.frames_written() == 8);
        }
        auto video = open_frames(path);
        CHECK(video->info().video_file);
        CHECK(video->info().fps == Approx(12.5));
        CHECK(video->info().width == 64);
        int n = 0;
        double err = 0;
        while (video->next(f)) err += (f - frames[static_cast<size_t>(n++)]).abs().mean().item<double>();
        CHECK(n == 8);
        CHECK(err / n < 0.05);  // lossy codecs, but the same pictures
    }
    // Globs, sorted.
    auto glob = open_frames(clip_dir() + "/000[2-4].png");
    CHECK(glob->info().frame_count == 3);
    CHECK(glob->frame_name(0).find("0002.png") != std::string::npos);
}

TEST_CASE("frames: bad inputs fail at opening with the reason", "[unit]") {
    fixtures::TempDir dir;
    auto message = [](const std::function<void()>& f) {
        try {
            f();
        } catch (const ImageError& e) {
            return std::string(e.what());
        }
        return std::string("no ImageError");
    };
    CHECK_THAT(message([&] { open_frames(dir / "missing.mp4"); }), Catch::Contains("no such file"));
    fixtures::write_file(dir / "text.mp4", "this is not a video\n");
    CHECK_THAT(message([&] { open_frames(dir / "text.mp4"); }), Catch::Contains("cannot open it as a video"));
    { VideoWriter w(dir / "empty.avi", 25, 64, 48); }  // a container with no frame
    const auto empty = message([&] { open_frames(dir / "empty.avi"); });
    CHECK((empty.find("no frames") != std::string::npos || empty.find("cannot open") != std::string::npos));
    fixtures::TempDir none;
    CHECK_THAT(message([&] { open_frames(none.path.string()); }), Catch::Contains("has no images"));
    CHECK_THAT(message([&] { open_frames(none / "*.png"); }), Catch::Contains("matches no image"));
    CHECK_THAT(message([&] { open_frames(fixtures::model("clip_mixed")); }),
               Catch::Contains("0002.png: frame 3 is 60x48") && Catch::Contains("is 64x48"));
    CHECK_THROWS_AS(VideoWriter(dir / "no/such/folder/x.avi", 25, 64, 48), ImageError);
}

TEST_CASE("video output kinds by extension; unknown ones are refused", "[unit]") {
    fixtures::TempDir dir;
    CHECK(video_output_kind(dir / "out.MP4") == VideoOutputKind::VideoFile);
    CHECK(video_output_kind(dir / "out.avi") == VideoOutputKind::VideoFile);
    CHECK(video_output_kind(dir / "frames") == VideoOutputKind::Folder);
    CHECK(video_output_kind(dir / "frames.d/") == VideoOutputKind::Folder);
    CHECK(video_output_kind(dir.path.string()) == VideoOutputKind::Folder);
    CHECK_THROWS_WITH(video_output_kind(dir / "out.png"), Catch::Contains("unknown video extension '.png'"));
    CHECK(frame_path("out", 0) == "out/frame_00001.png");
    CHECK(frame_path("out", 41, ".jpg") == "out/frame_00042.jpg");
}
