#include "exit_codes.hpp"

#include <new>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include "stylize/errors.hpp"

namespace stylize::cli {

int exit_code_for(const std::exception& e) {
    if (dynamic_cast<const InvalidArgument*>(&e) || dynamic_cast<const CLI::Error*>(&e)) return kUsage;
    if (dynamic_cast<const ImageError*>(&e)) return kImage;
    if (dynamic_cast<const ModelError*>(&e)) return kModel;
    if (dynamic_cast<const RuntimeFailure*>(&e) || dynamic_cast<const c10::Error*>(&e) ||
        dynamic_cast<const std::bad_alloc*>(&e))
        return kRuntime;
    return kInternal;
}

std::string exit_code_table() {
    return "Exit codes:\n"
           "  0    success\n"
           "  1    internal error (please report it)\n"
           "  2    usage: bad option or value\n"
           "  3    image: an input could not be read or the output not written\n"
           "  4    model: missing, corrupt or unusable model file\n"
           "  5    runtime: device unavailable, out of memory, NaN during the run\n"
           "  6    batch: some jobs failed\n"
           "  7    compare: thresholds not met, or files missing/extra\n"
           "  130  interrupted (SIGINT); 143 terminated (SIGTERM): partial image kept as *.partial.*\n";
}

}  // namespace stylize::cli
