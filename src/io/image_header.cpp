// Reads image dimensions from file headers, so huge images can be refused
// before they are decoded. Handles PNG, JPEG, BMP, WebP and GIF; anything else
// reports {0,0} (unknown) and is checked after decoding instead.
#include <cstdint>
#include <string>
#include <utility>

#include "stylize/image_header.hpp"

namespace stylize {
namespace {
uint32_t be16(const std::string& b, size_t i) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(b[i])) << 8) | static_cast<unsigned char>(b[i + 1]);
}
uint32_t be32(const std::string& b, size_t i) { return (be16(b, i) << 16) | be16(b, i + 2); }
uint32_t le16(const std::string& b, size_t i) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(b[i + 1])) << 8) | static_cast<unsigned char>(b[i]);
}
uint32_t le32(const std::string& b, size_t i) { return (le16(b, i + 2) << 16) | le16(b, i); }
}  // namespace

std::pair<int64_t, int64_t> read_image_dimensions(const std::string& b) {
    const size_t n = b.size();
    // PNG: signature, then the IHDR chunk with width and height.
    if (n >= 24 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 && b.compare(12, 4, "IHDR") == 0)
        return {be32(b, 20), be32(b, 16)};
    // JPEG: walk the markers to the first start-of-frame.
    if (n >= 4 && static_cast<unsigned char>(b[0]) == 0xFF && static_cast<unsigned char>(b[1]) == 0xD8) {
        size_t i = 2;
        while (i + 9 < n) {
            if (static_cast<unsigned char>(b[i]) != 0xFF) return {0, 0};
            const unsigned marker = static_cast<unsigned char>(b[i + 1]);
            if (marker == 0xFF) {  // fill byte
                ++i;
                continue;
            }
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                i += 2;
                continue;
            }
            const uint32_t len = be16(b, i + 2);
            if (len < 2) return {0, 0};
            const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                             marker != 0xCC;
            if (sof) return {be16(b, i + 5), be16(b, i + 7)};
            i += 2 + len;
        }
        return {0, 0};
    }
    // BMP: BITMAPINFOHEADER width/height (height may be negative for top-down).
    if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
        const auto w = static_cast<int32_t>(le32(b, 18));
        const auto h = static_cast<int32_t>(le32(b, 22));
        return {h < 0 ? -static_cast<int64_t>(h) : h, w < 0 ? -static_cast<int64_t>(w) : w};
    }
    // GIF: logical screen size.
    if (n >= 10 && b.compare(0, 3, "GIF") == 0) return {le16(b, 8), le16(b, 6)};
    // WebP: lossy (VP8), lossless (VP8L) or extended (VP8X).
    if (n >= 30 && b.compare(0, 4, "RIFF") == 0 && b.compare(8, 4, "WEBP") == 0) {
        if (b.compare(12, 4, "VP8 ") == 0) return {le16(b, 28) & 0x3FFF, le16(b, 26) & 0x3FFF};
        if (b.compare(12, 4, "VP8L") == 0) {
            const uint32_t v = le32(b, 21);
            return {((v >> 14) & 0x3FFF) + 1, (v & 0x3FFF) + 1};
        }
        if (b.compare(12, 4, "VP8X") == 0) {
            const uint32_t w = (le32(b, 24) & 0xFFFFFF) + 1;
            const uint32_t h = (le16(b, 27) | (static_cast<uint32_t>(static_cast<unsigned char>(b[29])) << 16)) + 1;
            return {h, w};
        }
    }
    return {0, 0};
}

}  // namespace stylize
