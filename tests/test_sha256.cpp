#include <catch2/catch.hpp>

#include <string>

#include "model/sha256.hpp"

using stylize::detail::Sha256;
using stylize::detail::sha256_hex;

TEST_CASE("SHA-256 gives the FIPS 180-2 test vectors", "[unit]") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // The 448-bit message: padding then needs a second block.
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // One million 'a' (FIPS 180-2 appendix B.3), fed in uneven pieces.
    Sha256 h;
    const std::string piece(997, 'a');
    size_t left = 1000000;
    while (left > 0) {
        const size_t n = std::min(left, piece.size());
        h.update(piece.data(), n);
        left -= n;
    }
    CHECK(h.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 does not depend on how the input is split", "[unit]") {
    std::string text;
    for (int i = 0; i < 300; ++i) text += static_cast<char>(i * 7 + 3);
    const std::string whole = sha256_hex(text);
    for (size_t split : {0, 1, 55, 56, 63, 64, 65, 128, 299, 300}) {
        Sha256 h;
        h.update(text.data(), split);
        h.update(text.data() + split, text.size() - split);
        CHECK(h.hex_digest() == whole);
    }
}
