#include "commands/train_command.hpp"

#include "commands/video_command.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "commands/batch_command.hpp"
#include "exit_codes.hpp"
#include "memory_policy.hpp"
#include "progress_printer.hpp"
#include "model/sha256.hpp"
#include "signals.hpp"
#include "stylize/crop_sampler.hpp"
#include "stylize/errors.hpp"
#include "stylize/fast_training.hpp"
#include "stylize/image_io.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/loss_plot.hpp"
#include "stylize/compare.hpp"

namespace fs = std::filesystem;

namespace stylize::cli {
namespace {

std::string file_sha256(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return detail::sha256_hex(bytes);
}

void write_loss_log(const std::string& dir, const std::vector<LossTerms>& history) {
    std::ostringstream csv;
    csv << "step,content,style,tv,total\n";
    csv.precision(9);
    for (size_t i = 0; i < history.size(); ++i) {
        const auto& t = history[i];
        csv << i + 1 << ',' << t.content << ',' << t.style << ',' << t.tv << ',' << t.total << '\n';
    }
    write_file_atomically((fs::path(dir) / "loss.csv").string(), csv.str());
    std::vector<PlotSeries> series(4);
    series[0].name = "total";
    series[1].name = "content";
    series[2].name = "style";
    series[3].name = "tv";
    for (const auto& t : history) {
        series[0].values.push_back(t.total);
        series[1].values.push_back(t.content);
        series[2].values.push_back(t.style);
        series[3].values.push_back(t.tv);
    }
    save_loss_plot((fs::path(dir) / "loss.png").string(), series);
}

LossTerms recent_mean(const std::vector<LossTerms>& history, size_t window) {
    LossTerms m;
    const size_t n = std::min(window, history.size());
    for (size_t i = history.size() - n; i < history.size(); ++i) {
        m.content += history[i].content;
        m.style += history[i].style;
        m.tv += history[i].tv;
        m.total += history[i].total;
    }
    if (n > 0) m.content /= n, m.style /= n, m.tv /= n, m.total /= n;
    return m;
}

// The luminance SSIM under which a validation image has lost the photo
// (the quality bar of docs/BENCHMARKS.md, Fast mode).
constexpr double kKeepsThePhoto = 0.25;

void check_count(int v, int lo, const char* name) {
    if (v < lo) throw InvalidArgument(std::string(name) + " must be >= " + std::to_string(lo) + ", got " + std::to_string(v));
}

}  // namespace

std::string training_dir(const TrainOptions& o) {
    if (!o.log_dir.empty()) return o.log_dir;
    const fs::path out(o.output);
    return (out.parent_path() / (out.stem().string() + "-training")).string();
}

void setup_train_command(CLI::App& app, TrainOptions& o) {
    app.add_option("styles", o.styles, "Style image(s); several are blended (see --style-blend)")->required();
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("--content-dir", o.contents,
                   "Training images: folders, globs or files (COCO, or your own photos); repeatable")
        ->required()->expected(1, 1 << 20)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("-o,--output", o.output, "The trained network (.pt, TorchScript)")->required();
    const std::string t = "Training";
    app.add_option("--crop", o.crop, "Side of the square training crops, in pixels (the style is matched at this size)")
        ->capture_default_str()->group(t);
    app.add_option("--batch", o.batch, "Crops per step")->capture_default_str()->group(t);
    app.add_option("--steps", o.steps, "Adam steps in all (a resumed run continues to this count)")
        ->capture_default_str()->group(t);
    app.add_option("--learning-rate", o.learning_rate, "Adam's step size")->capture_default_str()->group(t);
    app.add_option("--width", o.width, "Channels of the network's first layer (x2, x4 deeper); fewer = faster")
        ->capture_default_str()->group(t);
    app.add_option("--blocks", o.blocks, "Residual blocks")->capture_default_str()->group(t);
    app.add_option("--seed", o.seed, "Seed of the initial weights and of the crops")->capture_default_str()->group(t);
    o.run.job.engine.style_scale = kTrainStyleScale;
    app.add_option("--style-scale", o.run.job.engine.style_scale,
                   "Style image size relative to the crop: the style is matched as in a stylization of crop x scale "
                   "pixels (2 with 256 px crops: for 512 px outputs)")
        ->capture_default_str()->group(t);
    app.add_option("--checkpoint-every", o.checkpoint_every, "Save a checkpoint every N steps (0 = only at the end "
                   "and on Ctrl-C)")->capture_default_str()->group(t);
    app.add_option("--resume", o.resume, "Continue from this checkpoint (same settings; the result equals an "
                   "uninterrupted run's); auto = the log folder's checkpoint.pt if it exists, else start")->group(t);
    app.add_option("--validation", o.validation, "Stylize this image every --validate-every steps into the log folder")
        ->group(t);
    app.add_option("--validate-every", o.validate_every, "Steps between validation images")
        ->capture_default_str()->group(t);
    app.add_option("--log-every", o.log_every, "Steps between progress lines")->capture_default_str()->group(t);
    app.add_option("--log-dir", o.log_dir, "Folder for loss.csv, loss.png, validation images and checkpoint.pt "
                   "(default: OUTPUT's name + -training)")->group(t);
    o.run.job.engine.style_weight = kTrainStyleWeight;  // before binding: --help shows it
    bind_loss_options(app, o.run.job);
    const std::string run = "Model and device";
    app.add_option("-m,--model", o.run.model, "TorchScript VGG19 file (as for the main command)")->group(run);
    app.add_option("--device", o.run.job.engine.device, "auto|cpu|cuda|cuda:N")->capture_default_str()->group(run);
    add_setting(app, settings::threads, o.run.threads, "-j")->group(run);
    app.add_flag("-q,--quiet", o.run.quiet, "No progress or info messages")->group("Messages");
    app.add_flag("-v,--verbose", o.run.verbose, "More detail")->group("Messages");
}

namespace {

FastTrainOptions fast_options(TrainOptions& o) {
    check_count(o.steps, 1, "--steps");
    check_count(o.checkpoint_every, 0, "--checkpoint-every");
    check_count(o.validate_every, 1, "--validate-every");
    check_count(o.log_every, 1, "--log-every");
    check_process_options(o.run);
    finalize_job_options(o.run.job, o.styles.size());
    FastTrainOptions fo;
    fo.losses = o.run.job.engine;
    fo.net.width = o.width;
    fo.net.residual_blocks = o.blocks;
    fo.crop = o.crop;
    fo.batch = o.batch;
    fo.learning_rate = o.learning_rate;
    fo.seed = o.seed;
    validate(fo);
    std::error_code ec;
    if (fs::is_directory(o.output, ec)) throw InvalidArgument("--output " + o.output + " is a directory");
    return fo;
}

// The style images with their blend weights, the key of the training data
// (their digests, for the checkpoint's fingerprint) and their record.
struct TrainingStyles {
    std::vector<StyleImage> images;
    std::string data_key;
    nlohmann::json record = nlohmann::json::array();
};

TrainingStyles load_styles(const TrainOptions& o, const FastTrainOptions& fo) {
    TrainingStyles out;
    for (size_t i = 0; i < o.styles.size(); ++i) {
        auto image = load_image(o.styles[i]).rgb;
        const double weight = fo.losses.style_blend.empty() ? 1.0 : fo.losses.style_blend[i];
        out.images.push_back({image, weight});
        const auto digest = file_sha256(o.styles[i]);
        out.data_key += (out.data_key.empty() ? "" : ",") + digest;
        out.record.push_back({{"file", fs::path(o.styles[i]).filename().string()}, {"sha256", digest}, {"weight", weight}});
    }
    return out;
}

// The validation record: the image of step `done` saves as val_NNNNNN.png;
// validation.csv and validation.png are remade from every val_*.png up to
// `done` (so a resumed run writes what an uninterrupted one would): the
// luminance SSIM of each to the photo, and the photo beside the latest
// four. Returns the SSIM of step `done`.
double write_validation(const std::string& dir, const torch::Tensor& photo, int64_t done, const torch::Tensor& output) {
    char name[32];
    std::snprintf(name, sizeof name, "val_%06lld.png", static_cast<long long>(done));
    save_image((fs::path(dir) / name).string(), output);
    std::vector<std::pair<int64_t, fs::path>> saved;
    for (const auto& e : fs::directory_iterator(dir)) {
        const auto f = e.path().filename().string();
        long long step = 0;
        char tail[8] = {0};
        if (std::sscanf(f.c_str(), "val_%lld.%4s", &step, tail) == 2 && std::string(tail) == "png" && step <= done)
            saved.emplace_back(step, e.path());
    }
    std::sort(saved.begin(), saved.end());
    std::ostringstream csv;
    csv << "step,luminance_ssim\n";
    std::vector<LabelledImage> row{{"photo", photo}};
    double latest = 0;
    for (size_t i = 0; i < saved.size(); ++i) {
        const auto image = load_image(saved[i].second.string()).rgb;
        latest = image.sizes() == photo.sizes() ? luminance_ssim(image, photo) : 0.0;
        csv << saved[i].first << ',' << latest << '\n';
        if (i + 4 >= saved.size()) {
            char label[64];
            std::snprintf(label, sizeof label, "step %lld  SSIM(Y) %.2f", static_cast<long long>(saved[i].first), latest);
            row.push_back({label, image});
        }
    }
    write_file_atomically((fs::path(dir) / "validation.csv").string(), csv.str());
    save_picture_row((fs::path(dir) / "validation.png").string(), row);
    return latest;
}

}  // namespace

// Longer than most functions here: it is the order of the steps above (set
// up and resume, then per step: interrupt, step, log, validate, checkpoint;
// then write the network), which reads best in one place, like video_command.
int train_command(TrainOptions& o) {
    const auto fo = fast_options(o);
    const auto contents = expand_inputs(o.contents, "--content-dir");
    CropSampler sampler(contents, o.crop, o.seed);
    if (!sampler.smaller_than_crop().empty())
        spdlog::warn("{} of {} content images are smaller than the {}-pixel crop and are enlarged (e.g. {}); "
                     "lower --crop or add larger images", sampler.smaller_than_crop().size(), contents.size(), o.crop,
                     sampler.smaller_than_crop().front());
    const auto styles = load_styles(o, fo);
    torch::Tensor validation;  // at 512 px at most: a progress picture, not a product
    if (!o.validation.empty()) {
        validation = load_image(o.validation).rgb;
        if (std::max(validation.size(2), validation.size(3)) > 512)
            validation = resize_long_side(validation, 512).clamp(0, 1);
    }
    // Where the results go must exist before hours of training, not after.
    if (const auto parent = fs::path(o.output).parent_path(); !parent.empty()) fs::create_directories(parent);

    apply_threads(o.run.threads);
    install_memory_policy(o.run.memory_policy);
    auto model = load_configured_model(o.run, {&fo.losses});
    FastTrainer trainer(model, styles.images, fo, styles.data_key);
    const auto dir = training_dir(o);
    fs::create_directories(dir);
    remove_stale_temporaries(dir);  // validation images half-written by a killed run
    const auto checkpoint = (fs::path(dir) / "checkpoint.pt").string();
    // "auto": the log folder's checkpoint if there is one (a job requeued
    // after a kill runs the same command again), else a fresh start.
    std::error_code ec;
    const std::string resume = o.resume != "auto" ? o.resume : fs::exists(checkpoint, ec) ? checkpoint : "";
    if (o.resume == "auto" && resume.empty()) spdlog::info("train: no checkpoint in {} yet; starting at step 0", dir);
    if (!resume.empty()) {
        trainer.load_checkpoint(resume);
        spdlog::info("train: resumed from {} at step {}", resume, trainer.steps_done());
    }
    spdlog::info("train: {} content images, {} px crops, batch {}, {} steps; log in {}", contents.size(), o.crop,
                 o.batch, o.steps, dir);
    install_signal_handlers();
    auto save_all = [&] {
        trainer.save_checkpoint(checkpoint);
        if (!trainer.history().empty()) write_loss_log(dir, trainer.history());
    };
    const auto start = std::chrono::steady_clock::now();
    const int64_t first = trainer.steps_done();
    try {
        while (trainer.steps_done() < o.steps) {
            if (const int sig = pending_signal()) {
                save_all();
                spdlog::warn("train: stopped at step {}; checkpoint {} (continue with --resume {})",
                             trainer.steps_done(), checkpoint, checkpoint);
                return sig == SIGTERM ? kTerminated : kInterrupted;
            }
            const int64_t step = trainer.steps_done();
            const auto losses = trainer.step(sampler.batch(step, o.batch));
            const int64_t done = trainer.steps_done();
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (done % o.log_every == 0 || done == o.steps) {
                const double per_step = elapsed / static_cast<double>(done - first);
                spdlog::info("train: step {}/{}  loss {:.4g} (content {:.4g}, style {:.4g}, tv {:.4g})  {:.2f} img/s  "
                             "ETA {}", done, o.steps, losses.total, losses.content, losses.style, losses.tv,
                             o.batch / per_step, format_duration(per_step * static_cast<double>(o.steps - done)));
            }
            if (validation.defined() && (done % o.validate_every == 0 || done == o.steps)) {
                const double ssim = write_validation(dir, validation, done, trainer.net().stylize(validation));
                spdlog::info("train: validation at step {}: luminance SSIM to the photo {:.3f}{}", done, ssim,
                             ssim < kKeepsThePhoto ? " (under 0.25: the photo's structure is being lost)" : "");
            }
            if (o.checkpoint_every > 0 && done % o.checkpoint_every == 0) save_all();
        }
    } catch (...) {
        if (trainer.steps_done() > first) save_all();  // hours of work are not lost to a bad file
        throw;
    }
    save_all();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto final_losses = recent_mean(trainer.history(), 50);
    nlohmann::json info{
        {"tool", std::string("stylize ") + STYLIZE_VERSION},
        {"styles", styles.record},
        {"steps", trainer.steps_done()},
        {"content_images", contents.size()},
        {"final_losses", {{"content", final_losses.content}, {"style", final_losses.style}, {"tv", final_losses.tv},
                          {"total", final_losses.total}, {"over_last_steps", std::min<size_t>(50, trainer.history().size())}}},
        {"options", nlohmann::json::parse(trainer.fingerprint())},
        {"model", {{"path", model.info().path}, {"sha256", model.info().sha256}, {"weights", model.info().weights}}},
        {"seconds_this_run", seconds}};
    trainer.net().save(o.output, info.dump());
    spdlog::info("train: wrote {} after {} steps in {}; loss curve {}", o.output, trainer.steps_done(),
                 format_duration(seconds), (fs::path(dir) / "loss.png").string());
    return kOk;
}

}  // namespace stylize::cli
