#pragma once
// What a batch writes besides its outputs: the --report file (and how a
// resumed batch keeps one final line per job) and the --sheet contact sheet.
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "json_output.hpp"
#include "commands/run_command.hpp"

namespace stylize::cli {

/// The final report lines ("status":"ok") of an earlier --report at `path`
/// for jobs of this shard whose outputs still exist, by job index (1-based).
/// Unreadable or cut-short lines are ignored.
std::map<int, std::string> carried_report_lines(const std::string& path, const std::vector<JobSpec>& jobs,
                                                const std::vector<size_t>& mine);

/// Writes the contact sheet of this shard's jobs to `path`: a row per
/// content, a column per style (set), each existing output in its cell,
/// cells sized so the sheet stays under about 16 megapixels. A failure to
/// write it is logged, not thrown.
void write_sheet(const std::string& path, const std::vector<JobSpec>& jobs, const std::vector<size_t>& mine);

/// The provenance record in OUTPUT.json (the sidecar), or null when there is
/// none for this output: a skipped job's report line is made from it.
Json sidecar_record(const std::string& output);

/// The --report file, opened for appending after `carried` replaced its
/// contents (atomically), its folder created; not open when `path` is empty.
/// Throws ImageError when it cannot be written.
std::ofstream open_report(const std::string& path, const std::map<int, std::string>& carried = {});

}  // namespace stylize::cli
