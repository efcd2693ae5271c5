#include "commands/apply_command.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>

#include <spdlog/spdlog.h>

#include "commands/batch_command.hpp"
#include "exit_codes.hpp"
#include "json_output.hpp"
#include "memory_policy.hpp"
#include "progress_printer.hpp"
#include "commands/run_command.hpp"
#include "signals.hpp"
#include "stylize/engine.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/transform_net.hpp"

namespace fs = std::filesystem;

namespace stylize::cli {

void setup_apply_command(CLI::App& app, ApplyOptions& o) {
    app.add_option("network", o.network, "A network made by stylize train (.pt)")->required();
    app.add_option("contents", o.contents, "Content images: files, folders or globs")->required()->expected(1, 1 << 20);
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("-O,--output-dir", o.output_dir, "Folder for the outputs (created if missing)")->required();
    app.add_option("--name", o.name_pattern, "Output name pattern: {content} {style} (the network's name) {index}")
        ->capture_default_str();
    app.add_flag("--skip-existing", o.skip_existing, "Skip images whose output exists (resume)");
    app.add_option("--report", o.report, "Write one JSON line per image to this file");
    app.add_option("--shard", o.shard, "Run only slice K of N of the images, e.g. 2/8");
    add_setting(app, settings::size, o.size, "-s");
    add_setting(app, settings::bit_depth, o.bit_depth);
    add_setting(app, settings::jpeg_quality, o.jpeg_quality);
    app.add_option("--max-pixels", o.max_pixels, "Refuse input images with more pixels than this")
        ->capture_default_str();
    app.add_option("--device", o.run.job.engine.device, "auto|cpu|cuda|cuda:N")->capture_default_str();
    add_choice(app, "--precision", o.precision,
               "auto (bf16 on a CPU with AVX512_BF16: about 2x faster, within a few 8-bit levels; fp32 elsewhere), "
               "fp32 or bf16",
               {"auto", "fp32", "bf16"});
    add_setting(app, settings::threads, o.run.threads, "-j");
    app.add_flag("-q,--quiet", o.run.quiet, "No progress or info messages");
    app.add_flag("-v,--verbose", o.run.verbose, "More detail");
}

namespace {

// The output path of every content image; refuses two images writing one
// file and outputs that would overwrite an input.
std::vector<std::string> output_paths(const ApplyOptions& o, const std::vector<std::string>& contents) {
    const std::vector<std::string> style_name{o.network};
    std::vector<std::string> outputs;
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < contents.size(); ++i) {
        outputs.push_back((fs::path(o.output_dir) /
                           format_output_name(o.name_pattern, contents[i], style_name, static_cast<int>(i) + 1)).string());
        const auto key = fs::path(outputs.back()).lexically_normal().string();
        if (seen.count(key))
            throw InvalidArgument("images " + std::to_string(seen[key] + 1) + " and " + std::to_string(i + 1) +
                                  " would both write " + key + "; put {index} in --name");
        seen[key] = i;
        check_output_path(outputs.back(), {contents[i], o.network}, o.bit_depth);
    }
    return outputs;
}

// One image: read, resize, one forward pass, write. Returns the seconds of
// the forward pass; throws what the steps throw.
double apply_one(const ApplyOptions& o, const TransformNet& net, const std::string& content, const std::string& output) {
    LoadOptions lo;
    lo.max_pixels = o.max_pixels;
    auto image = load_image(content, lo).rgb;
    if (o.size > 0) image = resize_long_side(image, o.size).clamp(0, 1);
    const auto t0 = std::chrono::steady_clock::now();
    const auto out = net.stylize(image);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    SaveOptions so;
    so.bit_depth = o.bit_depth;
    so.jpeg_quality = o.jpeg_quality;
    save_image(output, out, so);
    return seconds;
}

// --precision: auto is the library's choice for this device; bf16 on a CPU
// that emulates it is allowed, with the warning the main command gives.
Precision apply_precision(const std::string& requested, torch::Device device) {
    const auto chosen = requested == "auto" ? fast_apply_precision(device)
                        : requested == "bf16" ? Precision::BF16 : Precision::FP32;
    if (requested == "bf16" && fast_apply_precision(device) != Precision::BF16 && device.is_cpu())
        spdlog::warn("--precision bf16: this CPU has no AVX512_BF16, so bf16 is emulated and slower than fp32");
    spdlog::debug("apply: the network runs in {} (--precision {})", to_string(chosen), requested);
    return chosen;
}

}  // namespace

int apply_command(ApplyOptions& o) {
    check_setting(settings::size, o.size);
    check_setting(settings::bit_depth, o.bit_depth);
    check_setting(settings::jpeg_quality, o.jpeg_quality);
    int shard_k = 1, shard_n = 1;
    if (!o.shard.empty()) std::tie(shard_k, shard_n) = parse_shard(o.shard);
    const auto contents = expand_inputs(o.contents, "content");
    const auto outputs = output_paths(o, contents);
    check_process_options(o.run);
    apply_threads(o.run.threads);
    install_memory_policy(o.run.memory_policy);  // without it, page faults triple the time
    auto net = TransformNet::load(o.network);
    const auto device = resolve_device(o.run.job.engine.device);
    net.to(device);
    net.set_precision(apply_precision(o.precision, device));
    fs::create_directories(o.output_dir);
    install_signal_handlers();
    std::ofstream report = open_report(o.report);
    int ok = 0, skipped = 0, failed = 0, done = 0, mine = 0;
    for (size_t i = 0; i < contents.size(); ++i)
        if (static_cast<int>(i % static_cast<size_t>(shard_n)) == shard_k - 1) ++mine;
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < contents.size(); ++i) {
        if (static_cast<int>(i % static_cast<size_t>(shard_n)) != shard_k - 1) continue;
        if (const int sig = pending_signal()) return sig == SIGTERM ? kTerminated : kInterrupted;
        ++done;
        std::string status = "ok", error;
        double seconds = 0;
        std::error_code ec;
        if (o.skip_existing && fs::exists(outputs[i], ec)) {
            status = "skipped";
            ++skipped;
        } else {
            try {
                seconds = apply_one(o, net, contents[i], outputs[i]);
                ++ok;
                spdlog::info("[{}/{}] {} -> {} ({:.2f} s)", done, mine, contents[i], outputs[i], seconds);
            } catch (const std::exception& e) {
                const auto failure = job_failure(e);
                status = failure.status;
                error = failure.message;
                ++failed;
                spdlog::error("[{}/{}] {} failed: {}", done, mine, contents[i], error);
            }
        }
        if (report.is_open()) {
            Json line;
            line["index"] = static_cast<int>(i) + 1;
            line["content"] = contents[i];
            line["output"] = outputs[i];
            line["network"] = o.network;
            line["status"] = status;
            line["error"] = error.empty() ? Json() : Json(error);
            line["seconds"] = seconds;
            line["precision"] = to_string(net.precision());
            report << dump_json(line) << "\n";
            report.flush();
        }
    }
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spdlog::info("apply: {} image(s): {} ok, {} skipped, {} failed in {}", mine, ok, skipped, failed,
                 format_duration(total));
    return failed ? kPartial : kOk;
}

}  // namespace stylize::cli
