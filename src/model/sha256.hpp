#pragma once
// SHA-256, incremental, on OpenSSL's libcrypto (which uses the CPU's SHA
// instructions where there are some: the full VGG19's parameters hash in a
// few hundredths of a second instead of ~0.6 s). Internal to the library:
// the model loader hashes the parameters with it (see model.cpp, parameter
// digest), the commands hash style files.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace stylize::detail {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    /// Appends `size` bytes. May be called any number of times.
    void update(const void* data, size_t size);
    void update(const std::string& s) { update(s.data(), s.size()); }
    /// The digest of everything appended so far; the hasher must not be
    /// updated afterwards.
    std::array<uint8_t, 32> finish();
    /// finish() as 64 lowercase hex digits (what Python's hexdigest() gives).
    std::string hex_digest();

private:
    void* context_;  ///< OpenSSL's EVP_MD_CTX
};

/// SHA-256 of `s` as 64 lowercase hex digits.
std::string sha256_hex(const std::string& s);

}  // namespace stylize::detail
