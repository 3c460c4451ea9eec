#pragma once
// The scheduler behind run -r / exec -r (recursive.cpp): tasks with dependencies, each a
// list of commands run one after another in the task's directory.
#include <cstddef>
#include <string>
#include <vector>

namespace tarn {

struct TaskStage {
  std::string name;                // the script name ("prebuild", "build"); exec: ""
  std::string shown;               // the command as printed after "$ "
  std::vector<std::string> argv;   // what is spawned
  std::vector<std::string> env;    // KEY=value
};

struct Task {
  std::string dir;     // absolute: the cwd of every stage
  std::string prefix;  // the project's directory relative to where tarn runs ("." for there)
  std::vector<TaskStage> stages;  // empty: nothing to run (a project without the script)
  std::vector<size_t> deps;       // tasks that must pass first
};

struct TaskRunOptions {
  unsigned concurrency = 1;
  bool bail = true;
  // pnpm's output when several scripts can be in flight: every line of a script's output
  // as "<prefix> <script>: <line>" on stdout, framed by "<prefix> <script>$ <command>" and
  // "... Done" / "... Failed". Otherwise the scripts write to tarn's own stdout/stderr and
  // "$ <command>" goes to stderr before each.
  bool prefixed = false;
  bool lifecycle_lines = true;  // "$ ..." and "[ELIFECYCLE] ..." (run prints them, exec not)
  bool silent = false;
};

enum class TaskState { Queued, Running, Passed, Failed, Skipped };

struct TaskRunResult {
  std::vector<TaskState> states;  // per task; never-started ones are Skipped
  std::vector<int> exit_codes;
  long first_failure = -1;        // with bail: the task whose failure stopped the run
  int interrupted_by = 0;         // SIGINT / SIGTERM that tarn received (forwarded to the scripts)
};

// Runs `tasks` in dependency order: a task is started as soon as its deps passed and fewer
// than `concurrency` run; ready tasks start in the order they became ready (the initial
// ones in task order). With bail, the first failure stops dispatching and the running
// tasks get SIGTERM (SIGKILL 2 s later, as pnpm 12.21). Without bail, tasks depending on
// a failed one are skipped. SIGINT and SIGTERM received meanwhile are passed on to the
// scripts, and stop the run without a bail error (pnpm ends with the script's status).
TaskRunResult run_tasks(const std::vector<Task>& tasks, const TaskRunOptions& o);

}  // namespace tarn
