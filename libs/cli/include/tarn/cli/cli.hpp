#pragma once

namespace tarn {

// Command-line entry point: parses argv, dispatches the command, returns the exit status.
int run_cli(int argc, char** argv);

}  // namespace tarn
