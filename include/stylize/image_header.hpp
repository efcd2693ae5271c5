#pragma once
// Image dimensions from file headers, without decoding (and without LibTorch).
#include <cstdint>
#include <string>
#include <utility>

namespace stylize {

/// (height, width) read from a PNG/JPEG/BMP/GIF/WebP header; {0,0} if unknown.
std::pair<int64_t, int64_t> read_image_dimensions(const std::string& header_bytes);

}  // namespace stylize
