#pragma once
// Reads a model's metadata (the archive's extra file stylize.json, written by
// scripts/export_vgg19.py). Internal to the library; needs no LibTorch, so the
// fuzz target (tests/fuzz/fuzz_json.cpp) builds it on its own.
#include <string>

#include "stylize/model_info.hpp"

namespace stylize::detail {

/// Fills `info` from the metadata `text`; info.path names the file in errors.
/// Empty text means no metadata: `info` keeps its ImageNet defaults and
/// has_metadata stays false. Throws ModelError when the text is not a JSON
/// object or a known field is malformed (mean/std/value_range, channel_order,
/// width_divisor); unknown fields are ignored.
void read_model_metadata(const std::string& text, ModelInfo& info);

}  // namespace stylize::detail
