#include "stylize/video_io.hpp"

#include <glob.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "stylize/errors.hpp"
#include "stylize/image_header.hpp"

namespace fs = std::filesystem;

namespace stylize {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string size_text(int64_t w, int64_t h) { return std::to_string(w) + "x" + std::to_string(h); }

std::pair<int64_t, int64_t> header_size(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string head(64 * 1024, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
    return read_image_dimensions(head);
}

// A folder's images or a glob's matches, one image file per frame.
class ImageSequence final : public FrameSource {
public:
    ImageSequence(const std::string& spec, std::vector<std::string> files, const LoadOptions& options)
        : files_(std::move(files)), options_(options) {
        // Fail before any work on images of differing sizes, from the headers
        // where they tell (PNG, JPEG, BMP, GIF, WebP); the rest when decoded.
        const auto first = load_image(files_.front(), options_);
        info_.width = first.rgb.size(3);
        info_.height = first.rgb.size(2);
        info_.frame_count = static_cast<int64_t>(files_.size());
        for (size_t i = 1; i < files_.size(); ++i) {
            const auto [h, w] = header_size(files_[i]);
            if (h > 0 && w > 0 && (h != info_.height || w != info_.width)) mismatch(i, w, h);
        }
        (void)spec;
    }
    const VideoInfo& info() const override { return info_; }
    bool next(torch::Tensor& frame) override {
        if (index_ >= files_.size()) return false;
        auto img = load_image(files_[index_], options_).rgb;
        if (img.size(2) != info_.height || img.size(3) != info_.width) mismatch(index_, img.size(3), img.size(2));
        frame = img;
        ++index_;
        return true;
    }
    std::string frame_name(int64_t index) const override {
        return index >= 0 && static_cast<size_t>(index) < files_.size() ? files_[static_cast<size_t>(index)]
                                                                         : "frame " + std::to_string(index + 1);
    }

private:
    [[noreturn]] void mismatch(size_t i, int64_t w, int64_t h) const {
        throw ImageError(files_[i] + ": frame " + std::to_string(i + 1) + " is " + size_text(w, h) +
                         " but the first frame (" + files_.front() + ") is " + size_text(info_.width, info_.height) +
                         "; every frame of a sequence must have the same size");
    }
    std::vector<std::string> files_;
    LoadOptions options_;
    VideoInfo info_;
    size_t index_ = 0;
};

torch::Tensor bgr_to_tensor(const cv::Mat& bgr) {
    cv::Mat rgb, f;
    if (bgr.channels() == 1) cv::cvtColor(bgr, rgb, cv::COLOR_GRAY2RGB);
    else if (bgr.channels() == 4) cv::cvtColor(bgr, rgb, cv::COLOR_BGRA2RGB);
    else cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    rgb.convertTo(f, CV_32F, bgr.depth() == CV_16U ? 1.0 / 65535.0 : 1.0 / 255.0);
    if (!f.isContinuous()) f = f.clone();
    return torch::from_blob(f.data, {f.rows, f.cols, 3}, torch::kFloat).permute({2, 0, 1}).unsqueeze(0).clone();
}

// A video file decoded by OpenCV's FFmpeg backend.
class VideoFile final : public FrameSource {
public:
    VideoFile(const std::string& path, const LoadOptions& options) : path_(path) {
        std::error_code ec;
        if (!fs::exists(path, ec)) throw ImageError(path + ": no such file");
        if (!capture_.open(path, cv::CAP_FFMPEG))
            throw ImageError(path + ": cannot open it as a video (not a video file, or a codec this OpenCV lacks)");
        if (!capture_.read(first_) || first_.empty())
            throw ImageError(path + ": the video has no frames");
        info_.video_file = true;
        info_.width = first_.cols;
        info_.height = first_.rows;
        info_.fps = capture_.get(cv::CAP_PROP_FPS);
        if (!std::isfinite(info_.fps) || info_.fps <= 0 || info_.fps > 1000) info_.fps = 0;
        info_.frame_count = std::max<int64_t>(1, std::llround(capture_.get(cv::CAP_PROP_FRAME_COUNT)));
        if (info_.width * info_.height > options.max_pixels)
            throw ImageError(path + ": frames of " + size_text(info_.width, info_.height) +
                             " are larger than --max-pixels");
    }
    const VideoInfo& info() const override { return info_; }
    bool next(torch::Tensor& frame) override {
        cv::Mat m;
        if (!first_.empty()) {
            m = first_;
            first_ = cv::Mat();
        } else {
            bool ok = false;
            try {
                ok = capture_.read(m);
            } catch (const cv::Exception& e) {
                throw ImageError(path_ + ": cannot decode frame " + std::to_string(index_ + 1) + " (" + e.err + ")");
            }
            if (!ok || m.empty()) return false;
        }
        if (m.cols != info_.width || m.rows != info_.height)
            throw ImageError(path_ + ": frame " + std::to_string(index_ + 1) + " is " + size_text(m.cols, m.rows) +
                             ", the first " + size_text(info_.width, info_.height));
        frame = bgr_to_tensor(m);
        ++index_;
        return true;
    }
    std::string frame_name(int64_t index) const override { return path_ + "#" + std::to_string(index + 1); }

private:
    std::string path_;
    cv::VideoCapture capture_;
    cv::Mat first_;
    VideoInfo info_;
    int64_t index_ = 0;
};

int fourcc_for(const std::string& ext) {
    if (ext == ".mp4" || ext == ".mov") return cv::VideoWriter::fourcc('m', 'p', '4', 'v');
    return cv::VideoWriter::fourcc('M', 'J', 'P', 'G');  // .avi, .mkv
}

}  // namespace

bool is_glob(const std::string& spec) {
    std::error_code ec;
    return spec.find_first_of("*?[") != std::string::npos && !fs::exists(spec, ec);
}

std::vector<std::string> list_images(const std::string& spec) {
    std::vector<std::string> found;
    std::error_code ec;
    if (fs::is_directory(spec, ec)) {
        for (fs::directory_iterator it(spec, ec), end; !ec && it != end; it.increment(ec)) {
            // A broken or looping symlink is listed, so that its job fails
            // with the reason instead of vanishing; folders (a link to one
            // included) are not entered.
            std::error_code e1, e2, e3;
            const bool file = it->is_regular_file(e1) || (it->is_symlink(e2) && !it->is_directory(e3));
            const auto name = it->path().filename().string();
            if (file && is_supported_output(name) && name[0] != '.') found.push_back(it->path().string());
        }
    } else if (is_glob(spec)) {
        glob_t g{};
        if (::glob(spec.c_str(), 0, nullptr, &g) == 0)
            for (size_t i = 0; i < g.gl_pathc; ++i)
                if (fs::is_regular_file(g.gl_pathv[i], ec)) found.emplace_back(g.gl_pathv[i]);
        globfree(&g);
    }
    std::sort(found.begin(), found.end());
    return found;
}

std::unique_ptr<FrameSource> open_frames(const std::string& spec, const LoadOptions& options) {
    std::error_code ec;
    if (fs::is_directory(spec, ec) || is_glob(spec)) {
        auto files = list_images(spec);
        if (files.empty())
            throw ImageError(spec + (is_glob(spec) ? ": the pattern matches no image" : ": the folder has no images"));
        return std::make_unique<ImageSequence>(spec, std::move(files), options);
    }
    return std::make_unique<VideoFile>(spec, options);
}

VideoOutputKind video_output_kind(const std::string& path) {
    if (path.empty()) throw InvalidArgument("--output: empty path");
    std::error_code ec;
    const auto ext = lower(fs::path(path).extension().string());
    if (path.back() == '/' || fs::is_directory(path, ec) || ext.empty()) return VideoOutputKind::Folder;
    if (ext == ".avi" || ext == ".mp4" || ext == ".mov" || ext == ".mkv") return VideoOutputKind::VideoFile;
    throw InvalidArgument("--output " + path + ": unknown video extension '" + ext +
                          "' (use .avi, .mp4, .mov or .mkv, or a folder for numbered frames)");
}

struct VideoWriter::Impl {
    cv::VideoWriter writer;
    std::string path;
    int64_t width, height;
};

VideoWriter::VideoWriter(const std::string& path, double fps, int64_t width, int64_t height)
    : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    impl_->width = width;
    impl_->height = height;
    if (!std::isfinite(fps) || fps <= 0) throw InvalidArgument("--fps must be a positive number");
    const auto parent = fs::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty() && !fs::is_directory(parent, ec))
        throw ImageError(path + ": cannot write (folder " + parent.string() + " does not exist)");
    const auto ext = lower(fs::path(path).extension().string());
    bool opened = false;
    try {
        opened = impl_->writer.open(path, cv::CAP_FFMPEG, fourcc_for(ext), fps,
                                    cv::Size(static_cast<int>(width), static_cast<int>(height)));
    } catch (const cv::Exception& e) {
        throw ImageError(path + ": cannot write the video (" + e.err + ")");
    }
    if (!opened) throw ImageError(path + ": cannot write the video (no permission, or no encoder for " + ext + ")");
}

VideoWriter::~VideoWriter() { close(); }

void VideoWriter::write(const torch::Tensor& rgb) {
    if (!impl_->writer.isOpened()) throw ImageError(impl_->path + ": the video is already closed");
    if (rgb.dim() != 4 || rgb.size(1) != 3 || rgb.size(2) != impl_->height || rgb.size(3) != impl_->width)
        throw InvalidArgument(impl_->path + ": a frame must be " + size_text(impl_->width, impl_->height));
    auto t = rgb.detach().to(torch::kFloat).cpu().clamp(0, 1).squeeze(0);
    t = t.index_select(0, torch::tensor({2, 1, 0}, torch::kLong)).permute({1, 2, 0}).mul(255.0).round();
    t = t.to(torch::kByte).contiguous();
    const cv::Mat bgr(static_cast<int>(impl_->height), static_cast<int>(impl_->width), CV_8UC3, t.data_ptr());
    try {
        impl_->writer.write(bgr);
    } catch (const cv::Exception& e) {
        throw ImageError(impl_->path + ": cannot write a frame (" + e.err + ")");
    }
    ++written_;
}

void VideoWriter::close() {
    if (impl_ && impl_->writer.isOpened()) impl_->writer.release();
}

std::string frame_path(const std::string& folder, int64_t index, const std::string& extension) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%05lld", static_cast<long long>(index + 1));
    return (fs::path(folder) / (std::string(name) + extension)).string();
}

}  // namespace stylize
