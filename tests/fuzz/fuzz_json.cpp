// libFuzzer target for src/json.cpp (model metadata reader and string quoter).
//
// Properties checked on every input:
//  1. json::parse either returns or throws std::invalid_argument; nothing else.
//  2. A parsed document, written back out (strings through json::quote, numbers
//     with 17 significant digits), parses again to an identical document.
//  3. For the raw input s taken as a string: parse(quote(s)) is a String equal
//     to s (quote must escape everything the reader rejects or rewrites).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "json.hpp"

using stylize::json::Value;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_json: property violated: %s %s\n", what, detail.c_str());
    std::abort();
}

std::string number_text(double d) {
    if (std::isinf(d)) return d > 0 ? "1e999" : "-1e999";  // strtod maps these back to +-inf
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return buf;
}

void write(const Value& v, std::string& out) {
    switch (v.type) {
        case Value::Type::Null: out += "null"; break;
        case Value::Type::Bool: out += v.boolean ? "true" : "false"; break;
        case Value::Type::Number: out += number_text(v.number); break;
        case Value::Type::String: out += stylize::json::quote(v.string); break;
        case Value::Type::Array: {
            out += '[';
            for (size_t i = 0; i < v.array.size(); ++i) {
                if (i) out += ',';
                write(v.array[i], out);
            }
            out += ']';
            break;
        }
        case Value::Type::Object: {
            out += '{';
            bool first = true;
            for (const auto& [key, child] : v.object) {
                if (!first) out += ',';
                first = false;
                out += stylize::json::quote(key);
                out += ':';
                write(child, out);
            }
            out += '}';
            break;
        }
    }
}

bool same(const Value& a, const Value& b) {
    if (a.type != b.type) return false;
    switch (a.type) {
        case Value::Type::Null: return true;
        case Value::Type::Bool: return a.boolean == b.boolean;
        case Value::Type::Number:
            // The reader never yields NaN ('n' cannot start a number), so == is exact.
            return a.number == b.number && std::signbit(a.number) == std::signbit(b.number);
        case Value::Type::String: return a.string == b.string;
        case Value::Type::Array:
            if (a.array.size() != b.array.size()) return false;
            for (size_t i = 0; i < a.array.size(); ++i)
                if (!same(a.array[i], b.array[i])) return false;
            return true;
        case Value::Type::Object: {
            if (a.object.size() != b.object.size()) return false;
            auto ib = b.object.begin();
            for (const auto& [key, child] : a.object) {
                if (key != ib->first || !same(child, ib->second)) return false;
                ++ib;
            }
            return true;
        }
    }
    return false;
}

void check_value(const Value& v) {
    if (v.type == Value::Type::Number && std::isnan(v.number)) fail("parse produced NaN");
    if (v.type != Value::Type::Object && v.find("x") != nullptr) fail("find on a non-object");
    for (const auto& c : v.array) check_value(c);
    for (const auto& [key, c] : v.object) {
        if (v.find(key) != &c) fail("find does not return the member", key);
        check_value(c);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    // 1 + 2: parse, write back, parse again.
    bool parsed = false;
    Value v;
    try {
        v = stylize::json::parse(text);
        parsed = true;
    } catch (const std::invalid_argument&) {
    }
    if (parsed) {
        check_value(v);
        std::string again;
        write(v, again);
        Value w;
        try {
            w = stylize::json::parse(again);
        } catch (const std::invalid_argument& e) {
            fail("re-serialised document does not parse:", e.what());
        }
        if (!same(v, w)) fail("re-serialised document differs:", again);
    }

    // 3: quote round trip on arbitrary bytes. Any exception here is a bug.
    const std::string quoted = stylize::json::quote(text);
    const Value s = stylize::json::parse(quoted);
    if (s.type != Value::Type::String || s.string != text) fail("parse(quote(s)) != s:", quoted);
    return 0;
}
