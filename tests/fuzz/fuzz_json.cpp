// libFuzzer target for the untrusted JSON stylize reads and writes: the model
// metadata reader (src/model/model_metadata.cpp, nlohmann-json underneath) and the
// CLI's JSON writer (src/cli/json_output.hpp).
//
// Properties checked on every input:
//  1. read_model_metadata(text) either returns or throws ModelError naming the
//     file; any other exception escaping is a bug.
//  2. When it returns, the ModelInfo is usable: RGB or BGR, three finite
//     means, three finite stds > 0, a finite increasing value range, a width
//     divisor in [1, 4096]; has_metadata exactly when the text is not empty.
//  3. The raw input as a string value: dump_json never throws and always
//     writes JSON that parses back; for valid UTF-8 it parses back to the
//     input, also through the metadata reader ({"source": input}).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/json_output.hpp"
#include "model/model_metadata.hpp"
#include "stylize/errors.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_json: property violated: %s %s\n", what, detail.c_str());
    std::abort();
}

const char* const kPath = "fuzz.pt";

void check_info(const stylize::ModelInfo& info, bool has_text) {
    if (info.has_metadata != has_text) fail("has_metadata does not follow the text");
    if (info.path != kPath) fail("path changed");
    if (info.channel_order != "RGB" && info.channel_order != "BGR") fail("channel_order", info.channel_order);
    if (info.mean.size() != 3 || info.std.size() != 3) fail("mean/std are not 3 values");
    for (double m : info.mean)
        if (!std::isfinite(m)) fail("mean not finite");
    for (double s : info.std)
        if (!std::isfinite(s) || !(s > 0)) fail("std not finite and > 0");
    if (!std::isfinite(info.value_min) || !std::isfinite(info.value_max) || !(info.value_max > info.value_min))
        fail("value range");
    if (info.width_divisor < 1 || info.width_divisor > 4096) fail("width_divisor");
}

// 1 + 2. Returns whether the text was accepted.
bool read(const std::string& text, stylize::ModelInfo& info) {
    info = stylize::ModelInfo{};
    info.path = kPath;
    try {
        stylize::detail::read_model_metadata(text, info);
    } catch (const stylize::ModelError& e) {
        if (std::string(e.what()).rfind(std::string(kPath) + ": ", 0) != 0) fail("ModelError does not name the file:", e.what());
        return false;
    } catch (const std::exception& e) {
        fail("an exception other than ModelError escaped:", e.what());
    }
    check_info(info, !text.empty());
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    stylize::ModelInfo info;
    read(text, info);

    // 3. The writer on arbitrary bytes. Any exception here is a bug.
    using stylize::cli::Json;
    const std::string written = stylize::cli::dump_json(Json(text));
    Json back;
    try {
        back = Json::parse(written);
    } catch (const std::exception& e) {
        fail("dump_json wrote invalid JSON:", e.what());
    }
    if (!back.is_string()) fail("a string was not written as a string");
    bool valid_utf8 = true;
    try {
        (void)Json(text).dump();  // the strict handler throws on invalid UTF-8
    } catch (const nlohmann::json::type_error&) {
        valid_utf8 = false;
    }
    if (valid_utf8) {
        if (back.get<std::string>() != text) fail("dump_json did not round-trip:", written);
        const std::string meta = stylize::cli::dump_json(Json{{"source", text}, {"weights", "random"}});
        if (!read(meta, info)) fail("written metadata was refused:", meta);
        if (info.source != text || info.weights != "random") fail("written metadata read back differently:", meta);
    }
    return 0;
}
