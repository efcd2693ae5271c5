#pragma once
// Documented process exit codes (README.md and docs/REFERENCE.md, "Exit codes", and --help).
#include <exception>
#include <string>

namespace stylize::cli {

enum ExitCode : int {
    kOk = 0,
    kInternal = 1,       ///< a bug: an error the tool did not expect
    kUsage = 2,          ///< bad command line or option value
    kImage = 3,          ///< an input image could not be read, or the output not written
    kModel = 4,          ///< the model is missing, corrupt or unusable
    kRuntime = 5,        ///< device unavailable, out of memory, NaN during the run
    kPartial = 6,        ///< batch: some jobs failed (the others were written)
    kCompareFailed = 7,  ///< compare: thresholds not met, or files missing/extra
    kInterrupted = 130,  ///< SIGINT (128+2): the current image was saved as *.partial.*
    kTerminated = 143,   ///< SIGTERM (128+15), likewise
};

/// Exit code for an exception thrown by the library or the CLI (LibTorch's
/// c10::Error and std::bad_alloc are runtime failures; anything unexpected is internal).
int exit_code_for(const std::exception& e);

/// The table of exit codes, one per line, for --help and the README.
std::string exit_code_table();

}  // namespace stylize::cli
