#pragma once
namespace stylize::cli {
/// Whole-program entry point: returns the process exit code, never throws.
int main_entry(int argc, char** argv);
}  // namespace stylize::cli
