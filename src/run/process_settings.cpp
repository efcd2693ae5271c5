#include "stylize/process_settings.hpp"

#include <ATen/Context.h>

namespace stylize {

void apply_cuda_math_settings(Precision precision) {
    at::globalContext().setAllowTF32CuDNN(precision == Precision::TF32);
    at::globalContext().setAllowTF32CuBLAS(false);  // Gram matrices stay full fp32
    at::globalContext().setBenchmarkCuDNN(true);
}

}  // namespace stylize
