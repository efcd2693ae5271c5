// The model metadata reader (src/model/model_metadata.cpp): the exporter's shape,
// the fields it validates, and text that is not JSON.
#include <catch2/catch.hpp>

#include <string>

#include "model/model_metadata.hpp"
#include "stylize/errors.hpp"

using stylize::ModelError;
using stylize::ModelInfo;

namespace {
ModelInfo read(const std::string& text) {
    ModelInfo info;
    info.path = "m.pt";
    stylize::detail::read_model_metadata(text, info);
    return info;
}
}  // namespace

TEST_CASE("metadata as scripts/export_vgg19.py writes it fills ModelInfo", "[unit]") {
    const auto info = read(R"({
 "format": "stylize-vgg/1", "architecture": "vgg19", "weights": "random", "seed": null,
 "width_divisor": 8, "source": "random (Kaiming normal fan_out, seed 1) \"q\" \u00e9",
 "mean": [0.5, 0.25, -1.5e-1], "std": [0.229, 0.224, 2E-1], "value_range": [0.0, 255],
 "channel_order": "BGR", "layers": ["conv1_1", "relu1_1"], "sha256": "ab12", "torch_version": "2.3.1"})");
    CHECK(info.has_metadata);
    CHECK(info.weights == "random");
    CHECK(info.source == "random (Kaiming normal fan_out, seed 1) \"q\" \xc3\xa9");
    CHECK(info.sha256_recorded == "ab12");
    CHECK(info.sha256.empty());  // computed by FeatureExtractor::load, never read from the metadata
    CHECK(info.mean == std::vector<double>{0.5, 0.25, -0.15});
    CHECK(info.std == std::vector<double>{0.229, 0.224, 0.2});
    CHECK(info.value_min == 0.0);
    CHECK(info.value_max == 255.0);
    CHECK(info.channel_order == "BGR");
    CHECK(info.width_divisor == 8);
    CHECK(info.path == "m.pt");
}

TEST_CASE("absent metadata keeps the ImageNet defaults; missing fields too", "[unit]") {
    const auto none = read("");
    CHECK(!none.has_metadata);
    CHECK(none.mean == std::vector<double>{0.485, 0.456, 0.406});
    const auto empty = read("{}");
    CHECK(empty.has_metadata);
    CHECK(empty.weights == "unknown");
    CHECK(empty.channel_order == "RGB");
    CHECK(empty.std == std::vector<double>{0.229, 0.224, 0.225});
    CHECK(empty.width_divisor == 1);
    // Fields of another type than expected are ignored where the old reader ignored them.
    const auto odd = read(R"({"weights": 3, "sha256": null, "width_divisor": "8", "extra": {"x": [1, 2]}})");
    CHECK(odd.weights == "unknown");
    CHECK(odd.sha256_recorded.empty());
    CHECK(odd.width_divisor == 1);
}

TEST_CASE("malformed metadata is a ModelError naming the file", "[unit]") {
    // Not JSON at all, or not strictly: loose numbers (leading zeros, a bare
    // dot), trailing text, unterminated strings, raw control characters.
    for (const char* bad : {"{", "[1,]", "{\"a\":}", "tru", "\"abc", "{\"a\":1} x", "[1 2]", "01x",
                            "{\"mean\":[01,1,1]}", "{\"mean\":[.5,1,1]}", "{\"mean\":[1.,1,1]}", "{\"a\":\"\x01\"}",
                            "{\"a\":1,}", "{'a':1}", "{\"a\":NaN}"}) {
        INFO(bad);
        CHECK_THROWS_WITH(read(bad), Catch::StartsWith("m.pt: its stylize.json metadata is malformed") &&
                                         Catch::Contains("re-export the model with scripts/export_vgg19.py"));
    }
    CHECK_THROWS_WITH(read("{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}"),
                      Catch::Contains("malformed") && Catch::Contains("nesting"));
    CHECK_NOTHROW(read("{\"a\":" + std::string(20, '[') + std::string(20, ']') + "}"));
    for (const char* not_object : {"[1]", "3", "\"s\"", "null"})
        CHECK_THROWS_WITH(read(not_object), Catch::Equals("m.pt: its stylize.json metadata is not a JSON object"));
}

TEST_CASE("metadata fields are validated with messages that say what is wrong", "[unit]") {
    auto message = [](const std::string& text) {
        try {
            read(text);
        } catch (const ModelError& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    CHECK(message(R"({"channel_order":"RGBA"})") == "m.pt: metadata channel_order 'RGBA' is neither RGB nor BGR");
    CHECK(message(R"({"mean":[1,2]})") == "m.pt: metadata field 'mean' must be an array of 3 numbers");
    CHECK(message(R"({"mean":1})") == "m.pt: metadata field 'mean' must be an array of 3 numbers");
    CHECK(message(R"({"std":[1,"2",3]})") == "m.pt: metadata field 'std' holds a non-number");
    // A number too large for a double is refused by the JSON parser itself.
    CHECK_THAT(message(R"({"std":[1,1e999,3]})"), Catch::StartsWith("m.pt: its stylize.json metadata is malformed"));
    CHECK(message(R"({"std":[1,0,3]})") == "m.pt: metadata std values must be > 0");
    CHECK(message(R"({"value_range":[1,1]})") == "m.pt: metadata value_range must be increasing");
    CHECK(message(R"({"value_range":[0,1,2]})") == "m.pt: metadata field 'value_range' must be an array of 2 numbers");
    CHECK(message(R"({"width_divisor":0})") == "m.pt: metadata width_divisor must be between 1 and 4096");
    CHECK(message(R"({"width_divisor":4097})") == "m.pt: metadata width_divisor must be between 1 and 4096");
    CHECK(message(R"({"width_divisor":4096})") == "(accepted)");
}
