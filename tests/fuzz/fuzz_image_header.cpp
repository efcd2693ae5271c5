// libFuzzer target for src/io/image_header.cpp: read_image_dimensions(bytes).
//
// The reader sees untrusted file headers (the first 64 KiB of every input
// image), so it must never read out of bounds (ASan + _GLIBCXX_ASSERTIONS),
// never throw, and report non-negative sizes that fit the formats' fields.
// It must also not depend on the byte just past the end: std::string keeps a
// '\0' there, which hides an off-by-one read from ASan, so the harness
// replaces that terminator with a different byte and compares the results.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "stylize/image_header.hpp"

namespace {

[[noreturn]] void fail(const char* what, std::pair<int64_t, int64_t> r) {
    std::fprintf(stderr, "fuzz_image_header: property violated: %s (h=%lld, w=%lld)\n", what,
                 static_cast<long long>(r.first), static_cast<long long>(r.second));
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    const auto r = stylize::read_image_dimensions(bytes);
    if (r.first < 0 || r.second < 0) fail("negative dimension", r);
    // Every supported header stores at most 32 bits per dimension (BMP's
    // INT32_MIN gives 2^31 after taking the absolute value).
    if (r.first > 0xFFFFFFFFLL || r.second > 0xFFFFFFFFLL) fail("dimension wider than 32 bits", r);

    // Result must not depend on the byte at index size() (see above). Writing the
    // terminator is outside the std::string contract but is a plain char in
    // libstdc++'s buffer; it is restored before `bytes` is used again.
    char* end = bytes.data() + bytes.size();
    *end = '\x5a';
    const auto r2 = stylize::read_image_dimensions(bytes);
    *end = '\0';
    if (r2 != r) fail("result depends on the byte past the end of the input", r2);
    return 0;
}
