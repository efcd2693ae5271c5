#pragma once
// Frames in and out, through OpenCV: a video file (VideoCapture with the
// FFmpeg backend), a folder of images or a glob as input; a video file
// (VideoWriter) or a folder of numbered images as output. Frames are
// (1,3,H,W) fp32 RGB in [0,1], like image_io.hpp's images.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "stylize/image_io.hpp"

namespace stylize {

struct VideoInfo {
    int64_t frame_count = 0;  ///< from the container for video files (may be approximate), exact for folders
    double fps = 0;           ///< 0 when unknown (folders, globs)
    int64_t width = 0, height = 0;
    bool video_file = false;  ///< a video file, not a folder or glob
};

/// A sequence of frames, read once from the first to the last.
class FrameSource {
public:
    virtual ~FrameSource() = default;
    virtual const VideoInfo& info() const = 0;
    /// The next frame, or false at the end. Throws ImageError for a frame
    /// that cannot be decoded or differs in size from the first.
    virtual bool next(torch::Tensor& frame) = 0;
    /// What to call frame `index` (0-based) in messages and reports.
    virtual std::string frame_name(int64_t index) const = 0;
};

/// Opens `spec`: a folder (its images, sorted by name), a glob with * ? or [
/// (its matches, sorted), or a video file. Reads the first frame (or the
/// first image's header) so that a bad input fails here: ImageError for a
/// video that cannot be opened, one without frames, a folder or glob without
/// images, or images of differing sizes (naming the first that differs).
std::unique_ptr<FrameSource> open_frames(const std::string& spec, const LoadOptions& options = {});

/// Images in a folder (sorted by name) or matching a glob (sorted); empty if none.
/// Only extensions save_image can write count as images; hidden files are skipped.
std::vector<std::string> list_images(const std::string& folder_or_glob);

/// True if `spec` names a glob pattern rather than an existing path.
bool is_glob(const std::string& spec);

/// Where video frames go.
enum class VideoOutputKind { Folder, VideoFile };

/// A folder when `path` ends with '/', is an existing folder or has no
/// extension; a video file for .avi (Motion JPEG), .mp4 and .mov (MPEG-4
/// part 2), .mkv (Motion JPEG). Anything else: InvalidArgument naming the
/// extension and the choices.
VideoOutputKind video_output_kind(const std::string& path);

/// Writes frames to a video file.
class VideoWriter {
public:
    /// Opens `path` for `width` x `height` frames at `fps`; throws ImageError
    /// if it cannot be written.
    VideoWriter(const std::string& path, double fps, int64_t width, int64_t height);
    ~VideoWriter();
    VideoWriter(const VideoWriter&) = delete;
    VideoWriter& operator=(const VideoWriter&) = delete;
    /// Appends a (1,3,H,W) frame of the size given at opening.
    void write(const torch::Tensor& rgb);
    /// Finishes the file (also done by the destructor).
    void close();
    int64_t frames_written() const { return written_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int64_t written_ = 0;
};

/// "<folder>/frame_00001.png" for index 0 (numbered from 1, five digits).
std::string frame_path(const std::string& folder, int64_t index, const std::string& extension = ".png");

}  // namespace stylize
