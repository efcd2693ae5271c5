#pragma once
// `stylize train STYLE... --content-dir DIR -o NET.pt`: fast mode's
// training (fast_training.hpp), with progress and ETA, checkpoints (also on
// Ctrl-C), --resume, validation images, and a loss log and plot.
#include <string>
#include <vector>

#include "commands/run_command.hpp"

namespace stylize::cli {

/// Fast mode trains with the stills' loss defaults (content relu2_2 and
/// relu4_2, mean-cov style) but a style weight of 2, not 3: measured to keep
/// the photo (docs/BENCHMARKS.md, Fast mode: with 3, one held-out photo of
/// four kept too little of its content; with 1, one was barely stylized;
/// with 2, all four met the bar after 530 steps). The style is matched at
/// twice the crop, as in a 512 px stylization when the crops are 256 px: a
/// network trained with the style at the crop's own size paints strokes half
/// as large, in proportion, on the 512 px images it is applied to.
constexpr double kTrainStyleWeight = 2.0;
constexpr double kTrainStyleScale = 2.0;

struct TrainOptions {
    std::vector<std::string> styles;
    std::vector<std::string> contents;  ///< --content-dir: folders, globs or files
    std::string output;
    int crop = 256;
    int batch = 4;
    int steps = 2000;
    double learning_rate = 1e-3;
    int width = 32;
    int blocks = 5;
    uint64_t seed = 0;
    int checkpoint_every = 200;
    std::string resume;
    std::string validation;
    int validate_every = 100;
    int log_every = 10;
    std::string log_dir;  ///< default: OUTPUT's stem + "-training" beside it
    RunOptions run;       ///< model, device, threads, messages, and the loss options in run.job
};

void setup_train_command(CLI::App& app, TrainOptions& o);

/// Returns kOk, or kInterrupted/kTerminated after saving a checkpoint.
int train_command(TrainOptions& o);

/// The folder for the log, plot, validation images and checkpoint.
std::string training_dir(const TrainOptions& o);

}  // namespace stylize::cli
