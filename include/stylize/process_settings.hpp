#pragma once
// Process-wide LibTorch settings. LibTorch keeps these in global state, so
// the library never changes them by itself: an application calls this once,
// before its runs, with the precision it will use.
#include "stylize/options.hpp"

namespace stylize {

/// On CUDA: TF32 convolutions when `precision` is TF32 (off otherwise),
/// full-fp32 matrix products (the Gram matrices), cuDNN autotuning. Does
/// nothing that matters on a CPU-only machine.
void apply_cuda_math_settings(Precision precision);

}  // namespace stylize
