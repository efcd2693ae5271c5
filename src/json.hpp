#pragma once
// A small JSON reader and string escaper: enough for model metadata and
// report lines, with no dependency beyond the standard library.
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace stylize::json {

struct Value {
    enum class Type { Null, Bool, Number, String, Array, Object } type = Type::Null;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<Value> array;
    std::map<std::string, Value> object;

    const Value* find(const std::string& key) const;
};

/// Parses a complete JSON document; throws std::invalid_argument with the
/// offset of the first error. Nesting is limited to 64 levels.
Value parse(const std::string& text);

/// Quotes and escapes `s` as a JSON string literal.
std::string quote(const std::string& s);

}  // namespace stylize::json
