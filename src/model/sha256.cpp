#include "model/sha256.hpp"

#include <new>
#include <stdexcept>

#include <openssl/evp.h>

namespace stylize::detail {
namespace {
EVP_MD_CTX* ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }
}  // namespace

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
    if (!context_) throw std::bad_alloc();
    if (EVP_DigestInit_ex(ctx(context_), EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx(context_));
        throw std::runtime_error("OpenSSL: cannot start a SHA-256 digest");
    }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx(context_)); }

void Sha256::update(const void* data, size_t size) {
    if (size > 0 && EVP_DigestUpdate(ctx(context_), data, size) != 1)
        throw std::runtime_error("OpenSSL: SHA-256 update failed");
}

std::array<uint8_t, 32> Sha256::finish() {
    std::array<uint8_t, 32> out{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx(context_), out.data(), &length) != 1 || length != out.size())
        throw std::runtime_error("OpenSSL: SHA-256 final failed");
    return out;
}

std::string Sha256::hex_digest() {
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (const uint8_t b : finish()) {
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    return hex;
}

std::string sha256_hex(const std::string& s) {
    Sha256 h;
    h.update(s);
    return h.hex_digest();
}

}  // namespace stylize::detail
