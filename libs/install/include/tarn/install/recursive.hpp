#pragma once
// `run` and `exec` over workspace projects, as pnpm 12.21 runs them with -r or --filter:
// the selected projects (with -r and no inclusion selector, all but the workspace root),
// a project starting as soon as the projects it depends on are done, at most
// --workspace-concurrency at once (min(4, cores) by default).
#include <string>
#include <vector>

#include "tarn/core/error.hpp"
#include "tarn/report/reporter.hpp"

namespace tarn {

struct RecursiveOptions {
  enum class Command { Run, Exec } command = Command::Run;
  std::string dir = ".";  // where tarn runs: path selectors and output prefixes are relative to it
  std::vector<std::string> filter, filter_prod;
  std::vector<std::string> args;  // run: the script's name, then its arguments; exec: the command
  bool bail = true;               // false: --no-bail
  unsigned concurrency = 0;       // --workspace-concurrency; 0: min(4, cores)
};

// Returns the exit status when every selected project passed (0), or the error pnpm
// reports: ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL / ERR_PNPM_RECURSIVE_EXEC_FIRST_FAIL (the
// first failure stops the run), ERR_PNPM_RECURSIVE_FAIL (--no-bail, N failed),
// ERR_PNPM_RECURSIVE_RUN_NO_SCRIPT (no selected project has the script).
Result<int> run_recursive(const RecursiveOptions& o, Reporter& rep);

}  // namespace tarn
