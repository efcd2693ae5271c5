#include <catch2/catch.hpp>
#include <stdexcept>

#include "json.hpp"

using namespace stylize;

TEST_CASE("JSON reader handles the metadata shapes", "[unit]") {
    const auto v = json::parse(R"({"mean":[0.485,0.456,0.406],"seed":null,"ok":true,"s":"a\"b\u00e9","n":-1.5e2})");
    REQUIRE(v.type == json::Value::Type::Object);
    REQUIRE(v.find("mean")->array.size() == 3);
    CHECK(v.find("mean")->array[1].number == Approx(0.456));
    CHECK(v.find("seed")->type == json::Value::Type::Null);
    CHECK(v.find("ok")->boolean);
    CHECK(v.find("s")->string == "a\"b\xc3\xa9");
    CHECK(v.find("n")->number == -150.0);
    CHECK(v.find("missing") == nullptr);
}

TEST_CASE("JSON reader rejects malformed text", "[unit]") {
    for (const char* bad : {"", "{", "[1,]", "{\"a\":}", "tru", "\"abc", "{\"a\":1} x", "[1 2]", "01x"})
        CHECK_THROWS_AS(json::parse(bad), std::invalid_argument);
    CHECK_THROWS_AS(json::parse(std::string(100, '[') + std::string(100, ']')), std::invalid_argument);
}

TEST_CASE("JSON quoting escapes control characters", "[unit]") {
    CHECK(json::quote("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
}
