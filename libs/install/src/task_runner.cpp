// The run -r / exec -r scheduler (task_runner.hpp). One thread per running task: it spawns
// the task's stages one after another; the calling thread dispatches ready tasks and, on a
// bailing failure, stops the others.
#include "task_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>

namespace tarn {

namespace {

std::mutex g_out;  // one line at a time on tarn's stdout/stderr

void print_line(FILE* to, std::string_view line) {
  std::lock_guard lk(g_out);
  std::fwrite(line.data(), 1, line.size(), to);
  std::fputc('\n', to);
  std::fflush(to);
}

// pnpm 12.21 names the exit code, or the signal that ended the script.
std::string failed_line(int code, int signal) {
  if (!signal) return "[ELIFECYCLE] Command failed with exit code " + std::to_string(code) + ".";
  static const std::pair<int, const char*> names[] = {
      {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"},
      {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"},
      {SIGUSR2, "SIGUSR2"}, {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}};
  for (auto& [n, name] : names)
    if (n == signal) return std::string("[ELIFECYCLE] Command failed with signal ") + name + ".";
  return "[ELIFECYCLE] Command failed.";
}

// The process groups of the running scripts (one slot per task), for the signal handler:
// Ctrl+C or a SIGTERM to tarn reaches every script, as pnpm's watchdog ends their groups.
constexpr size_t kMaxSlots = 4096;
// Lock-free atomics: safe in a signal handler and between threads.
static_assert(std::atomic<int>::is_always_lock_free);
std::atomic<int> g_groups[kMaxSlots];
std::atomic<int> g_interrupted{0};

extern "C" void forward_signal(int sig) {
  g_interrupted.store(sig, std::memory_order_relaxed);
  for (size_t i = 0; i < kMaxSlots; ++i)
    if (int g = g_groups[i].load(std::memory_order_relaxed); g > 0) ::kill(-static_cast<pid_t>(g), sig);
}

// Reads `fd` to its end, printing each line as "<label>: <line>".
void relay_lines(int fd, const std::string& label) {
  std::string pending;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1))
      print_line(stdout, label + ": " + pending.substr(0, nl));
  }
  if (!pending.empty()) print_line(stdout, label + ": " + pending);
}

struct Spawned {
  pid_t pid = -1;
  int out = -1;  // the read end of its output pipe (prefixed mode)
  int err = 0;   // posix_spawn's error
};

// Each script in its own process group when others may run beside it, so a bail can end
// the script and everything it started (whose open pipe would otherwise hold the run).
Spawned spawn(const Task& t, const TaskStage& s, bool prefixed, bool own_group) {
  Spawned sp;
  int fds[2] = {-1, -1};
  if (prefixed && ::pipe2(fds, O_CLOEXEC) != 0) return sp.err = errno, sp;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addchdir_np(&fa, t.dir.c_str());
  if (prefixed) {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (own_group) posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP), posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> argv, envp;
  for (auto& a : s.argv) argv.push_back(const_cast<char*>(a.c_str()));
  for (auto& e : s.env) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr), envp.push_back(nullptr);
  sp.err = ::posix_spawn(&sp.pid, "/bin/sh", &fa, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (prefixed) {
    ::close(fds[1]);
    if (sp.err) ::close(fds[0]);
    else sp.out = fds[0];
  }
  return sp;
}

class Runner {
 public:
  Runner(const std::vector<Task>& t, const TaskRunOptions& o)
      : tasks_(t), o_(o), pending_(t.size()), dependents_(t.size()), group_(t.size(), 0) {
    res_.states.assign(t.size(), TaskState::Queued);
    res_.exit_codes.assign(t.size(), 0);
    for (size_t i = 0; i < t.size(); ++i) {
      pending_[i] = t[i].deps.size();
      for (size_t d : t[i].deps) dependents_[d].push_back(i);
      if (pending_[i] == 0) ready_.push_back(i);
    }
    own_groups_ = o.concurrency > 1 && t.size() > 1 && t.size() <= kMaxSlots;
  }

  TaskRunResult run() {
    std::vector<std::thread> threads;
    std::unique_lock lk(mu_);
    for (;;) {
      while (!stopping_ && running_ < o_.concurrency && !ready_.empty()) {
        size_t i = ready_.front();
        ready_.pop_front();
        if (tasks_[i].stages.empty()) {  // nothing to run: done in its turn
          res_.states[i] = TaskState::Skipped;
          release(i);
          continue;
        }
        res_.states[i] = TaskState::Running;
        ++running_;
        threads.emplace_back([this, i] { work(i); });
      }
      if (running_ == 0) break;
      if (stopping_ && !cv_.wait_for(lk, std::chrono::seconds(2), [&] { return running_ == 0; }))
        signal_all(SIGKILL);  // pnpm 12.21: SIGTERM at the bail, SIGKILL two seconds later
      else if (!stopping_)
        cv_.wait(lk);
    }
    lk.unlock();
    for (auto& t : threads) t.join();
    for (auto& s : res_.states)
      if (s == TaskState::Queued) s = TaskState::Skipped;
    res_.interrupted_by = g_interrupted;
    return std::move(res_);
  }

 private:
  // `i` is done: its dependents with nothing else to wait for queue up.
  void release(size_t i) {
    for (size_t d : dependents_[i])
      if (--pending_[d] == 0 && res_.states[d] == TaskState::Queued) ready_.push_back(d);
  }

  void signal_all(int sig) {
    for (pid_t p : group_)
      if (p > 0) ::kill(own_groups_ ? -p : p, sig);
  }

  void work(size_t i) {
    int code = 0;
    bool started = true;
    for (auto& stage : tasks_[i].stages) {
      code = run_stage(i, stage, started);
      if (!started || code != 0) break;
    }
    std::lock_guard lk(mu_);
    --running_;
    res_.exit_codes[i] = code;
    if (!started) {
      res_.states[i] = TaskState::Skipped;
    } else if (code == 0) {
      res_.states[i] = TaskState::Passed;
      release(i);
    } else {
      res_.states[i] = TaskState::Failed;
      if ((o_.bail || g_interrupted) && !stopping_) {
        stopping_ = true;
        if (!g_interrupted) res_.first_failure = static_cast<long>(i);
        signal_all(SIGTERM);
      }
    }
    cv_.notify_all();
  }

  // Spawns one stage and waits for it; `started` is false when the run was stopping.
  int run_stage(size_t i, const TaskStage& s, bool& started) {
    const Task& t = tasks_[i];
    std::string label = t.prefix + " " + s.name;
    if (o_.lifecycle_lines && !o_.silent) {
      if (o_.prefixed) print_line(stdout, label + "$ " + s.shown);
      else print_line(stderr, "$ " + s.shown);
    }
    Spawned sp;
    {
      std::lock_guard lk(mu_);  // no spawn once the run is stopping: its SIGTERM went out
      if (stopping_) return started = false, 0;
      sp = spawn(t, s, o_.prefixed, own_groups_);
      if (!sp.err) {
        group_[i] = sp.pid;
        if (own_groups_) g_groups[i] = sp.pid;  // own_groups_ implies i < kMaxSlots
      }
    }
    if (sp.err) {
      print_line(stderr, "failed to start `" + s.shown + "` in " + t.dir + ": " + std::strerror(sp.err));
      return 127;
    }
    if (sp.out >= 0) relay_lines(sp.out, label), ::close(sp.out);
    int status = 0;
    while (::waitpid(sp.pid, &status, 0) < 0 && errno == EINTR) {
    }
    {
      std::lock_guard lk(mu_);
      group_[i] = 0;
      if (own_groups_) g_groups[i] = 0;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    report_end(label, code, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return code;
  }

  void report_end(const std::string& label, int code, int signal) {
    if (!o_.lifecycle_lines || o_.silent) return;
    if (o_.prefixed) {
      print_line(stdout, label + (code == 0 ? ": Done" : ": Failed"));
      if (code != 0 && !g_interrupted) print_line(stdout, failed_line(code, signal));
    } else if (code != 0 && !g_interrupted) {  // pnpm says nothing more when interrupted
      print_line(stderr, failed_line(code, signal));
    }
  }

  const std::vector<Task>& tasks_;
  TaskRunOptions o_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<size_t> pending_;
  std::vector<std::vector<size_t>> dependents_;
  std::vector<pid_t> group_;  // per task: its running script's pid (its group's id with own_groups_)
  std::deque<size_t> ready_;
  size_t running_ = 0;
  bool stopping_ = false;
  bool own_groups_ = false;
  TaskRunResult res_;
};

// While the run lasts, SIGINT and SIGTERM go on to the scripts' own process groups (those
// in tarn's group get them from the terminal anyway); tarn ends when they have.
struct ForwardSignals {
  struct sigaction old_int {}, old_term {};
  ForwardSignals() {
    g_interrupted.store(0);
    for (auto& g : g_groups) g.store(0);
    struct sigaction sa {};
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int);
    ::sigaction(SIGTERM, &sa, &old_term);
    // A signal tarn was started ignoring (a background job's SIGINT) stays ignored.
    if (old_int.sa_handler == SIG_IGN) ::sigaction(SIGINT, &old_int, nullptr);
    if (old_term.sa_handler == SIG_IGN) ::sigaction(SIGTERM, &old_term, nullptr);
  }
  ~ForwardSignals() {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
  }
};

}  // namespace

TaskRunResult run_tasks(const std::vector<Task>& tasks, const TaskRunOptions& o) {
  TaskRunOptions opts = o;
  if (opts.concurrency == 0) opts.concurrency = 1;
  ForwardSignals forward;
  return Runner(tasks, opts).run();
}

}  // namespace tarn
