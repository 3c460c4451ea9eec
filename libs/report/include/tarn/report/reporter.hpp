#pragma once
// What a person (or a tool reading pnpm's ndjson log) sees of an install. One Reporter per
// run; every method is thread-safe.
//   default      pnpm's default reporter on a TTY: a live progress line (from the first
//                moment, redrawn every 200 ms), "Packages: +N -M" with its bar, colour
//   append-only  static lines; what `default` becomes without a TTY or with CI set
//   ndjson       pnpm's log events (pnpm:progress, pnpm:stage, pnpm:stats, pnpm:root,
//                pnpm:summary, ...) as one JSON object per line on stderr
//   silent       errors only
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tarn/core/error.hpp"

namespace tarn {

enum class ReporterKind { Default, AppendOnly, Ndjson, Silent };
bool parse_reporter_kind(std::string_view s, ReporterKind& out);

struct AddedDependency {
  std::string group;  // "dependencies", "devDependencies", "optionalDependencies"
  std::string name;
  std::string version;
};

// Terminal facts, read once: whether stdout is a TTY, colour (NO_COLOR / FORCE_COLOR win),
// CI, and the width for the bar.
struct Terminal {
  bool tty = false, color = false, ci = false;
  size_t width = 80;
  static Terminal detect();
};

class Reporter {
 public:
  explicit Reporter(ReporterKind kind = ReporterKind::Default, bool perf = false,
                    Terminal term = Terminal::detect());
  ~Reporter();
  Reporter(const Reporter&) = delete;
  Reporter& operator=(const Reporter&) = delete;

  ReporterKind kind() const { return kind_; }

  // An install starts: the progress line appears now and is redrawn until stop_progress().
  void start_progress(std::string prefix);
  void stop_progress(bool end_line = true);

  // Per-package progress: resolved (from the lockfile), reused (store hit), downloaded,
  // added (linked into node_modules). `id` is "name@version" for ndjson's packageId.
  void set_total(size_t resolved);
  void resolved(std::string_view id);
  void reused(std::string_view id);
  void downloaded(std::string_view id, size_t bytes);
  void added(std::string_view rel_dir);  // the package's directory, relative to the prefix
  void flush_progress(bool final_line);

  // pnpm's "Packages: +N -M" and its bar (pnpm:stats in ndjson).
  void stats(size_t added, size_t removed);
  // ndjson-only events with no text form; `json_fields` is the object's body without braces.
  void event(std::string_view name, std::string_view json_fields);

  // pnpm's reportScope: how many workspace projects a command selected ("Scope: all 4
  // workspace projects", "Scope: 2 of 4 workspace projects"); nothing for exactly one.
  // ndjson: the pnpm:scope event, always.
  void scope(size_t selected, size_t total, std::string_view workspace_prefix);

  void info(std::string_view line);
  void warn(std::string_view line);
  void error(const Error& e);
  void summary(const std::vector<AddedDependency>& added, double seconds);

  // --perf: named pass timings.
  void record_pass(std::string_view name, double seconds);
  void print_perf();

  static std::string json_escape(std::string_view s);

 private:
  void emit(std::string_view level, std::string_view msg, FILE* to);
  void write_event(std::string_view name, std::string_view level, std::string_view body);
  std::string progress_line(bool done) const;
  std::string paint(std::string_view text, const char* sgr) const;
  void ticker();

  ReporterKind kind_;
  bool perf_;
  Terminal term_;
  std::string prefix_;
  mutable std::mutex mu_;
  std::atomic<size_t> total_{0}, reused_{0}, downloaded_{0}, added_{0};
  std::atomic<long long> last_print_ns_{0};
  std::vector<std::pair<std::string, double>> passes_;
  std::thread ticker_;
  std::condition_variable ticker_cv_;
  bool ticking_ = false;
  bool redraw_ = false;  // a message went over the live line
};

// Times one named pass; records on destruction.
class PassTimer {
 public:
  PassTimer(Reporter& r, std::string name)
      : r_(r), name_(std::move(name)), start_(std::chrono::steady_clock::now()) {}
  ~PassTimer() {
    r_.record_pass(name_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  PassTimer(const PassTimer&) = delete;
  PassTimer& operator=(const PassTimer&) = delete;

 private:
  Reporter& r_;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tarn
