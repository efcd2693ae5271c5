// The stylize executable: parses the command line, runs a command, and maps
// every error to one line on stderr and a documented exit code.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli_main.hpp"

int main(int argc, char** argv) { return stylize::cli::main_entry(argc, argv); }
