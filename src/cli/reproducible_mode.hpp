#pragma once
// --reproducible: the same bytes on any x86-64 machine with AVX2 and FMA,
// whatever its newer instruction sets. A process-wide decision.
//
// The libraries stylize runs on choose their kernels by instruction set, and
// kernels for different vector widths add in different orders: ATen's
// reductions and elementwise kernels (AVX2 or AVX-512 builds of each),
// oneDNN's convolutions (jit:avx2 or jit:avx512_core, Winograd only on
// AVX-512) and OpenBLAS's matrix products (Haswell or SkylakeX kernels).
// Each reads its cap from the environment once, OpenBLAS already when it is
// loaded, so the mode sets all three caps to AVX2 and starts the program
// again with them (exec of /proc/self/exe, same arguments); the run then also
// uses direct convolutions. The caps and the mode are recorded in the
// sidecar and the batch report.
#include <string>

namespace stylize::cli {

/// Whether argv asks for the mode (the flag is a process option, so it is
/// looked for before parsing).
bool wants_reproducible(int argc, char** argv);

/// In the mode's re-executed process already (the caps are in place)?
bool reproducible_caps_in_place();

/// Sets the caps and re-executes the program; returns only on failure, with
/// a message saying why. Refuses (message) on a CPU without AVX2 and FMA.
std::string enter_reproducible_mode(char** argv);

/// The caps in force, e.g. "ATen avx2, oneDNN AVX2, OpenBLAS Haswell", for
/// the provenance records; empty outside the mode.
std::string reproducible_caps();

}  // namespace stylize::cli
