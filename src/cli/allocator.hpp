#pragma once
// Process-wide allocator setting for memory-tight runs. A process-level
// decision, so it lives with the executables, not in the library.
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace stylize::cli {

/// Makes glibc serve every allocation of 1 MiB or more with its own mmap, so
/// freed activations go back to the system at once instead of staying in the
/// heap, where fragmentation kept peak RSS about 230 MB higher at 512 px with
/// checkpointing (docs/BENCHMARKS.md). Costs page faults on each new tensor,
/// about 10% more time, so it is only used when checkpointing is on. It is
/// process-wide and stays: in a batch, the jobs after the first checkpointed
/// one keep it. Returns false where the C library offers no such setting.
inline bool return_freed_memory_promptly() {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1;
#else
    return false;
#endif
}

}  // namespace stylize::cli
