#include "cli_main.hpp"

#include <csignal>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "batch_command.hpp"
#include "compare_command.hpp"
#include "exit_codes.hpp"
#include "run_command.hpp"
#include "stylize/errors.hpp"
#include "stylize/runtime_info.hpp"

namespace stylize::cli {
namespace {

void setup_logging(bool quiet, bool verbose) {
    auto logger = spdlog::stderr_logger_st("stylize");
    logger->set_pattern("stylize: %l: %v");
    logger->set_level(quiet ? spdlog::level::warn : verbose ? spdlog::level::debug : spdlog::level::info);
    spdlog::set_default_logger(logger);
}

std::string version_text() {
    std::string devices;
    for (const auto& d : available_devices()) devices += (devices.empty() ? "" : ", ") + d;
    const auto blas = detect_blas();
    return std::string("stylize ") + STYLIZE_VERSION + "\nLibTorch " + torch_version() + "\ndevices: " + devices +
           "\nBLAS: " + (blas.library.empty() ? "not loaded yet" : blas.library) +
           (blas.reference ? " (reference: slow)" : "");
}

// One line, "stylize: error: ...", and the exit code for the error's kind.
int report(const std::exception& e) {
    std::string msg = e.what();
    if (const auto nl = msg.find('\n'); nl != std::string::npos) msg = msg.substr(0, nl);
    std::fprintf(stderr, "stylize: error: %s\n", msg.c_str());
    return exit_code_for(e);
}

const char* kFooter =
    "\nModel search order: --model, $STYLIZE_MODEL, the install folder (share/stylize/models), models/ of the\n"
    "project (next to the build folder). vgg19.pt (ImageNet) is preferred to vgg19-random.pt.\n\n";

}  // namespace

int main_entry(int argc, char** argv) {
    std::signal(SIGXFSZ, SIG_IGN);  // a full disk or file-size limit is an error, not a kill
    try {
        // `stylize compare A B ...` is its own command; anything else is a run.
        if (argc > 1 && std::strcmp(argv[1], "compare") == 0) {
            CLI::App app{"Compare images (or folders of images) by PSNR, SSIM and max difference", "stylize compare"};
            CompareOptions o;
            setup_compare_command(app, o);
            app.footer(exit_code_table());
            try {
                app.parse(argc - 1, argv + 1);
            } catch (const CLI::CallForHelp&) {
                std::cout << app.help();
                return kOk;
            }
            setup_logging(false, false);
            return compare_command(o);
        }

        if (argc > 1 && std::strcmp(argv[1], "batch") == 0) {
            CLI::App app{"Stylize many images: every content x style pair, or the jobs of a jobs file.\n"
                         "  stylize batch -c CONTENT... --style STYLE... -O OUTDIR [options]\n"
                         "  stylize batch --jobs FILE [-O OUTDIR] [options]",
                         "stylize batch"};
            BatchOptions o;
            setup_batch_command(app, o);
            app.footer(std::string(kFooter) + exit_code_table());
            try {
                app.parse(argc - 1, argv + 1);
            } catch (const CLI::CallForHelp&) {
                std::cout << app.help();
                return kOk;
            }
            setup_logging(o.run.quiet, o.run.verbose);
            return batch_command(o);
        }

        CLI::App app{"Neural style transfer (Gatys et al.) with a TorchScript VGG19.\n"
                     "  stylize CONTENT STYLE [STYLE...] -o OUT [options]\n"
                     "  stylize batch -c CONTENT... --style STYLE... -O OUTDIR   (see stylize batch --help)\n"
                     "  stylize compare A B [--min-psnr DB] [--min-ssim S]",
                     "stylize"};
        app.set_version_flag("--version", [] { return version_text(); });
        RunOptions o;
        setup_run_command(app, o);
        app.footer(std::string(kFooter) + exit_code_table());
        try {
            app.parse(argc, argv);
        } catch (const CLI::CallForHelp&) {
            std::cout << app.help();
            return kOk;
        } catch (const CLI::CallForVersion&) {
            std::cout << version_text() << "\n";
            return kOk;
        }
        setup_logging(o.quiet, o.verbose);
        return run_command(o);
    } catch (const CLI::Error& e) {
        std::fprintf(stderr, "stylize: error: %s (see --help)\n", e.what());
        return kUsage;
    } catch (const Error& e) {
        return report(e);
    } catch (const c10::Error& e) {
        std::string msg = e.what();
        std::fprintf(stderr, "stylize: error: LibTorch: %s\n", msg.substr(0, msg.find('\n')).c_str());
        return kRuntime;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "stylize: error: out of memory; lower --size or --lbfgs-history\n");
        return kRuntime;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "stylize: error: %s\n", e.what());
        return kInternal;
    }
}

}  // namespace stylize::cli
