#pragma once
// SHA-256 (FIPS 180-4), incremental. Internal to the library: the model
// loader hashes the parameters with it (see model.cpp, parameter digest).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace stylize::detail {

class Sha256 {
public:
    Sha256();
    /// Appends `size` bytes. May be called any number of times.
    void update(const void* data, size_t size);
    void update(const std::string& s) { update(s.data(), s.size()); }
    /// The digest of everything appended so far; the hasher must not be
    /// updated afterwards.
    std::array<uint8_t, 32> finish();
    /// finish() as 64 lowercase hex digits (what Python's hexdigest() gives).
    std::string hex_digest();

private:
    void compress(const uint8_t* block);
    std::array<uint32_t, 8> state_;
    std::array<uint8_t, 64> buffer_{};
    size_t buffered_ = 0;
    uint64_t length_ = 0;  ///< total bytes appended
};

/// SHA-256 of `s` as 64 lowercase hex digits.
std::string sha256_hex(const std::string& s);

}  // namespace stylize::detail
