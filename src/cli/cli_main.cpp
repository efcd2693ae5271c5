#include "cli_main.hpp"

#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "commands/apply_command.hpp"
#include "commands/batch_command.hpp"
#include "commands/compare_command.hpp"
#include "completion.hpp"
#include "exit_codes.hpp"
#include "reproducible_mode.hpp"
#include "commands/run_command.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"
#include "stylize/model.hpp"
#include "stylize/runtime_info.hpp"
#include "commands/train_command.hpp"
#include "commands/video_command.hpp"

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
    const auto cpu = cpu_info();
    std::string features;
    for (const auto& f : cpu.features) features += (features.empty() ? "" : " ") + f;
    const auto onednn = onednn_version();
    return std::string("stylize ") + STYLIZE_VERSION + "\nLibTorch " + torch_version() +
           "\noneDNN " + (onednn.empty() ? "not built in" : onednn) + "\nOpenCV " + opencv_version() +
           "\nBLAS: " + (blas.library.empty() ? "not loaded yet" : blas.library) +
           (blas.reference ? " (reference: slow)" : "") + "\nCPU: " + (cpu.model.empty() ? "unknown" : cpu.model) +
           "; " + (features.empty() ? "no AVX2" : features) + "; ATen kernels " + cpu.aten_capability +
           "; Winograd convolutions " + (winograd_supported() ? "available" : "not available (needs AVX-512)") +
           "; usable cores: " + std::to_string(usable_cores()) + " (the default --threads)" +
           "\ndevices: " + devices;
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

// What --help says about each form; the first line also goes in the list of commands.
const char* kRunHelp =
    "Neural style transfer (Gatys et al.) with a TorchScript VGG19.\n"
    "  stylize CONTENT STYLE [STYLE...] -o OUT [options]\n"
    "  stylize batch -c CONTENT... --style STYLE... -O OUTDIR   (see stylize batch --help)\n"
    "  stylize video INPUT STYLE [STYLE...] -o OUTPUT       (see stylize video --help)\n"
    "  stylize train STYLE... --content-dir DIR -o NET.pt   (fast mode; see stylize train --help)\n"
    "  stylize apply NET.pt CONTENT... -O OUTDIR            (see stylize apply --help)\n"
    "  stylize compare A B [--min-psnr DB] [--min-ssim S]\n"
    "  stylize COMMAND --help";
const char* kBatchHelp =
    "Stylize many images: every content x style pair, or the jobs of a jobs file.\n"
    "  stylize batch -c CONTENT... --style STYLE... -O OUTDIR [options]\n"
    "  stylize batch --jobs FILE [-O OUTDIR] [options]";
const char* kVideoHelp =
    "Stylize a video, a folder of frames or a glob, with temporal consistency (Ruder et al. 2016).\n"
    "  stylize video INPUT STYLE [STYLE...] -o OUTPUT [options]\n"
    "Each frame after the first starts from the previous stylized frame warped by the optical flow of\n"
    "the content frames; a temporal loss holds it there where the flow is reliable. OUTPUT is a video\n"
    "file (.avi .mp4 .mov .mkv; no audio) or a folder of numbered frames (resumable with --skip-existing).\n"
    "Ctrl-C finishes the current frame and keeps the frames so far; a second Ctrl-C stops at once.";
const char* kTrainHelp =
    "Fast mode: train a feed-forward network for a style (Johnson et al. 2016), then stylize with stylize apply.\n"
    "  stylize train STYLE [STYLE...] --content-dir DIR -o NET.pt [options]\n"
    "Adam on random square crops of the images in DIR, against the same content, style and TV losses as the\n"
    "optimisation. Writes NET.pt (TorchScript, with its training metadata) and a log folder with loss.csv,\n"
    "loss.png, validation images and checkpoint.pt. Ctrl-C saves a checkpoint; --resume continues from it.";
const char* kApplyHelp =
    "Fast mode: stylize images with a network made by stylize train, one forward pass each.\n"
    "  stylize apply NET.pt CONTENT... -O OUTDIR [options]";
const char* kCompareHelp = "Compare images (or folders of images) by PSNR, SSIM and max difference";

// `stylize --help` lists the commands with the first line of each one's
// description (`stylize COMMAND --help` shows all of it), and its usage puts
// COMMAND first, where a command must be, not after the positionals.
class Formatter : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App* app, std::string name) const override {
        const std::string usage = CLI::Formatter::make_usage(app, name);
        const std::string badge = " [" + get_label("SUBCOMMAND") + "]";
        const auto at = usage.find(badge);
        if (at == std::string::npos) return usage;
        return usage.substr(0, at) + "\n       " + name + " COMMAND [OPTIONS]" + usage.substr(at + badge.size());
    }
    std::string make_subcommand(const CLI::App* sub) const override {
        std::stringstream out;
        const std::string& d = sub->get_description();
        CLI::detail::format_help(out, sub->get_name(), d.substr(0, d.find('\n')), column_width_);
        return out.str();
    }
};

/// A subcommand: its CLI11 app, and how to run it once parsed.
struct Command {
    CLI::App* app;
    std::function<int()> run;
};

/// Registers `stylize NAME`: `setup` binds its flags to an options struct
/// owned by the command, `run` runs it. Its help ends with `footer` and the
/// exit codes. `process` names the struct's RunOptions, whose -q/-v set the
/// logging (without one: info level).
template <class Options>
Command add_command(CLI::App& parent, const std::string& name, const std::string& description,
                    const std::string& footer, std::function<void(CLI::App&, Options&)> setup,
                    std::function<int(Options&)> run, RunOptions Options::*process = nullptr) {
    auto options = std::make_shared<Options>();
    CLI::App* app = parent.add_subcommand(name, description);
    app->group("Commands")->footer(footer + exit_code_table());
    // Each command picks its own policy for repeated flags, not the main form's.
    app->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::Throw);
    setup(*app, *options);
    return {app, [options, run, process] {
                const RunOptions* p = process ? &((*options).*process) : nullptr;
                setup_logging(p && p->quiet, p && p->verbose);
                return run(*options);
            }};
}

// The exception being handled as one error line on stderr and its exit code.
int report_current_exception() {
    try {
        throw;
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
    } catch (...) {
        std::fprintf(stderr, "stylize: error: an unknown exception\n");
        return kInternal;
    }
}

}  // namespace

int main_entry(int argc, char** argv) {
    std::signal(SIGXFSZ, SIG_IGN);  // a full disk or file-size limit is an error, not a kill
    // Before anything loads a kernel: the mode restarts the program with the
    // instruction-set caps in its environment (reproducible_mode.hpp).
    if (wants_reproducible(argc, argv) && !reproducible_caps_in_place()) {
        const auto why = enter_reproducible_mode(argv);
        std::fprintf(stderr, "stylize: error: %s\n", why.c_str());
        return kRuntime;
    }
    try {
        CLI::App app{kRunHelp, "stylize"};
        app.formatter(std::make_shared<Formatter>());
        app.set_version_flag("--version", [] { return version_text(); });
        app.footer(std::string(kFooter) + exit_code_table());
        app.require_subcommand(0, 1);

        // The commands, one line each; a new one is a setup/run pair and a line here.
        const std::vector<Command> commands{
            add_command<BatchOptions>(app, "batch", kBatchHelp, kFooter, setup_batch_command, batch_command,
                                      &BatchOptions::run),
            add_command<VideoOptions>(app, "video", kVideoHelp, kFooter, setup_video_command, video_command,
                                      &VideoOptions::run),
            add_command<TrainOptions>(app, "train", kTrainHelp, kFooter, setup_train_command, train_command,
                                      &TrainOptions::run),
            add_command<ApplyOptions>(app, "apply", kApplyHelp, "", setup_apply_command, apply_command,
                                      &ApplyOptions::run),
            add_command<CompareOptions>(app, "compare", kCompareHelp, "", setup_compare_command, compare_command),
        };

        // Without a command: `stylize CONTENT STYLE... -o OUT`, on the top-level app.
        RunOptions o;
        setup_run_command(app, o);

        // `stylize --completion bash`: the completion script, from the flags above.
        if (argc == 3 && std::string(argv[1]) == "--completion") {
            if (std::string(argv[2]) != "bash") throw InvalidArgument("--completion: only bash is supported");
            std::vector<const CLI::App*> apps;
            for (const auto& c : commands) apps.push_back(c.app);
            std::cout << bash_completion(app, apps);
            return kOk;
        }

        // A command is only ever the first word: anywhere else a word is a file
        // (`stylize photo.jpg batch -o x.png` reads a style image named batch),
        // and with a command the main form's required arguments do not apply.
        const Command* chosen = nullptr;
        for (const auto& c : commands)
            if (argc > 1 && c.app->get_name() == argv[1]) chosen = &c;
        for (const auto& c : commands) c.app->disabled(&c != chosen);
        if (chosen)
            for (auto* opt : app.get_options()) opt->required(false);

        try {
            app.parse(argc, argv);
        } catch (const CLI::CallForHelp&) {
            for (const auto& c : commands) c.app->disabled(false);  // list them all in the help
            std::cout << app.help();  // the chosen command's, if there is one
            return kOk;
        } catch (const CLI::CallForVersion&) {
            std::cout << version_text() << "\n";
            return kOk;
        }
        if (chosen) return chosen->run();
        setup_logging(o.quiet, o.verbose);
        return run_command(o);
    } catch (...) {
        return report_current_exception();
    }
}

}  // namespace stylize::cli
