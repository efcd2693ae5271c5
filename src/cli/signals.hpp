#pragma once
// SIGINT/SIGTERM become a cancellation request that the run polls between
// evaluations; a second SIGINT kills the process at once.
namespace stylize::cli {

/// Installs the handlers (idempotent).
void install_signal_handlers();

/// 0 if no signal arrived, else the signal number.
int pending_signal();

}  // namespace stylize::cli
