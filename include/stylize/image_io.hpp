#pragma once
// Image files <-> tensors, through OpenCV. Tensors are (1,3,H,W) fp32 RGB in
// [0,1]; alpha, when present, travels separately as (1,1,H,W).
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "stylize/image_header.hpp"

namespace stylize {

struct LoadedImage {
    torch::Tensor rgb;    ///< (1,3,H,W) fp32 RGB in [0,1], composited over white if it had alpha
    torch::Tensor alpha;  ///< (1,1,H,W) fp32 in [0,1], or undefined
    int bit_depth = 8;    ///< 8 or 16 as stored
    int channels = 3;     ///< as stored: 1 gray, 3 colour, 4 with alpha
};

struct LoadOptions {
    int64_t max_pixels = 64LL * 1024 * 1024;  ///< refuse larger images (before decoding where possible)
};

/// Checks that `path` is a non-empty regular file; throws ImageError naming
/// the problem (missing, a directory, empty). Cheap: no decoding.
void check_image_file(const std::string& path);

/// Reads an image, honouring EXIF orientation. Throws ImageError naming the
/// path and the problem (missing, a directory, empty, not an image, too large).
LoadedImage load_image(const std::string& path, const LoadOptions& options = {});

struct SaveOptions {
    int bit_depth = 8;     ///< 8, or 16 for PNG/TIFF
    int jpeg_quality = 95;
};

/// What save_image can do with a path's extension, case-insensitively (".PNG"
/// is ".png"). The one list of output formats: option checks, save_image and
/// folder scans (batch, compare) all ask here.
struct OutputFormat {
    bool writable = false;     ///< png, jpg, jpeg, webp, tif, tiff, bmp
    bool sixteen_bit = false;  ///< png, tif, tiff
    bool alpha = false;        ///< png, webp, tif, tiff
};
OutputFormat output_format(const std::string& path);

/// output_format(path).writable.
bool is_supported_output(const std::string& path);

/// The OpenCV version the images are read and written with, e.g. "4.6.0".
std::string opencv_version();

/// Writes atomically: encodes in memory, writes a temporary file in the same
/// folder, then renames it over `path`. Creates missing parent folders. On
/// any failure nothing is left behind. `alpha` (1,1,H,W) is kept if defined
/// and the format supports it.
void save_image(const std::string& path, const torch::Tensor& rgb,
                const SaveOptions& options = {}, const torch::Tensor& alpha = {});

/// Writes `bytes` to `path` atomically (temp file + fsync + rename); throws ImageError.
void write_file_atomically(const std::string& path, const std::string& bytes);

/// Removes the temporary files that write_file_atomically left in `folder`
/// when its process was killed before it could clean up: those written on
/// this host by a process that no longer runs. A live writer's temporary is
/// never touched. Returns how many were removed.
int remove_stale_temporaries(const std::string& folder);


}  // namespace stylize
