#pragma once
// Running one lifecycle script as pnpm's executor does: `/bin/sh -c <script>` in the
// package's directory, with an environment built from tarn's own (pnpm's stamps replaced,
// auth settings dropped), the package's node_modules/.bin ancestors first on PATH, and
// npm's variables set. No shell string is ever assembled: the script is one argv entry.
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "tarn/core/error.hpp"

namespace tarn {

// What every script of one install shares: computed once.
struct ScriptEnv {
  std::vector<std::string> base;  // the parent environment, filtered (no PATH)
  std::string path;               // the parent PATH
  std::string node;               // `node` found on PATH, or ""
  std::string exe;                // tarn's own path (npm_execpath)
  std::string user_agent;         // npm_config_user_agent
  std::string init_cwd;           // the workspace root (pnpm's lockfileDir)
  bool private_tmp = false;       // running as root: TMPDIR under the package (pnpm's unsafe-perm=false)

  static ScriptEnv from_process(std::string init_cwd);
};

struct ScriptRun {
  std::string pkg_root;  // absolute; the script's cwd
  std::string stage;     // npm_lifecycle_event
  std::string script;    // npm_lifecycle_script
  const boost::json::object* manifest = nullptr;  // npm_package_* stamps
  bool capture = false;  // true: output collected into ScriptResult::output; false: inherited
};

struct ScriptResult {
  int exit_code = 0;  // 128+signal when killed
  std::string output;  // the last 64 KiB of stdout+stderr when captured
  bool ok() const { return exit_code == 0; }
};

// The environment one script sees ("KEY=value" entries), exposed for tests.
std::vector<std::string> script_environment(const ScriptEnv& env, const ScriptRun& run);
// The .bin directories pnpm puts first on PATH for a package at `pkg_root`: one per
// node_modules ancestor, deepest first.
std::vector<std::string> ancestor_bin_dirs(const std::string& pkg_root);
// Whether `command` is an executable file in one of the PATH entries.
bool on_path(const std::string& path, const std::string& command);

// Spawns and waits. Fails only when the process cannot be started.
Result<ScriptResult> run_script(const ScriptEnv& env, const ScriptRun& run);

// The last `lines` lines of `text`, for error messages.
std::string tail_lines(std::string_view text, size_t lines);

}  // namespace tarn
