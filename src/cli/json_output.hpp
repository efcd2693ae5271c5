#pragma once
// JSON the CLI writes (sidecars, batch reports, compare --json, progress
// json, stylize_bench): nlohmann::ordered_json objects, so fields appear in
// the order they are set, dumped once by dump_json().
#include <string>

#include <nlohmann/json.hpp>

namespace stylize::cli {

using Json = nlohmann::ordered_json;

/// `j` as one line of compact JSON. Non-finite numbers are written as null;
/// bytes that are not UTF-8 (a file name may hold any) become U+FFFD instead
/// of making the dump throw.
inline std::string dump_json(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace stylize::cli
