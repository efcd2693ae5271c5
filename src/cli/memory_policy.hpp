#pragma once
// How the process gets and gives back large blocks of memory. A process-wide
// decision, so it lives with the executables, not in the library.
//
// An evaluation allocates the same large tensors (activations, gradients,
// up to ~70 MB each at 512 px) every time. glibc serves blocks above its mmap
// threshold (at most 32 MiB) with a fresh mmap and unmaps them on free, so
// every evaluation pays page faults and the kernel's zeroing for each of them
// again: measured 2.9x slower on a 2-core AMD EPYC VM, a sixth of the wall
// time in the kernel on a Xeon (docs/BENCHMARKS.md).
//
// Recycle (the default) installs the library's recycling allocator
// (src/memory/recycling_allocator.hpp) as LibTorch's CPU allocator: from the second
// evaluation of a scale on, the large blocks come from one planned arena,
// without touching the kernel. System leaves glibc as it is.
#include <cstddef>
#include <memory>
#include <string>

#include "stylize/memory_stats.hpp"

namespace stylize::cli {

enum class MemoryPolicy { Recycle, System };

const char* to_string(MemoryPolicy);

/// What the policy may hold above the engine's estimate of a plain run's
/// peak (`estimate` bytes): idle blocks and the slack of reusing a larger one.
double policy_overhead_bytes(MemoryPolicy policy, double estimate);

/// Installs `policy` for the rest of the process (the first call wins; later
/// calls with another policy are ignored and return false). Under
/// AddressSanitizer the recycling allocator poisons its idle ranges.
bool install_memory_policy(MemoryPolicy policy);

/// With Recycle: unmaps the idle blocks that nobody asked for since the
/// previous call. Call it before each evaluation (Hooks::before_evaluation);
/// does nothing under System.
void recycle_idle_memory();

/// The Hooks::before_evaluation of a run: before the first evaluation of a
/// scale every idle block goes (what the targets and the previous scale
/// left), before the others those that the last evaluation did not reuse.
void before_evaluation(int index_in_scale);

/// With Recycle: from now on unmap every freed block at once (still 2 MiB
/// aligned, with transparent huge pages), or go back to keeping them. For
/// checkpointed runs, which are checkpointed to have the lowest peak: kept
/// blocks cost 850 MB more at 2048 px (docs/BENCHMARKS.md).
void keep_peak_low(bool on);

/// With Recycle: unmaps every idle block (at the end of a job).
void release_idle_memory();

MemoryStats memory_stats();

/// Makes glibc serve allocations of 1 MiB or more by mmap, so freed memory
/// goes back to the system at once: for checkpointed runs under System,
/// where fragmentation kept peak RSS higher. Returns false where the C
/// library offers no such setting.
bool return_freed_memory_promptly();

}  // namespace stylize::cli
