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
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
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

// pnpm's pretty-bytes, as its reporter prints download sizes: decimal units, two decimals
// cut (not rounded): 6004190 -> "6.00 MB", 8070 -> "8.07 kB", 0 -> "0.00 B".
std::string pretty_bytes(uint64_t n);

class Reporter {
 public:
  // pnpm's BIG_TARBALL_SIZE: downloads from 5 MiB up get a "Downloading" line.
  static constexpr uint64_t kBigDownload = uint64_t{5} << 20;
  // One download whose progress is shown; owned by the reporter, valid until it is destroyed.
  struct Download {
    std::string id;
    uint64_t size = 0;
    std::atomic<uint64_t> shown{0};  // the bytes last reported (throttled as pnpm throttles)
    long long last_ns = 0;           // when; the network thread's own
    long long printed_ns = 0;        // append-only: when its last line was printed
    bool done_printed = false;       // under the reporter's mutex
  };

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
  void downloaded(std::string_view id);
  void added(std::string_view rel_dir);  // the package's directory, relative to the prefix
  // pnpm:fetching-progress. An attempt to download `id` got its response (size: its
  // Content-Length). Every one is an ndjson event; a download of kBigDownload or more, on
  // its first attempt, gets pnpm's "Downloading <id>: <done>/<total>" line and a handle.
  // Otherwise nullptr, and nothing more to do for this attempt.
  Download* fetch_started(std::string_view id, unsigned attempt, std::optional<uint64_t> size);
  // Bytes so far of a shown download, from the network thread: a clock read and an atomic
  // store; a line (append-only) or an ndjson event at most every 500 ms, as pnpm
  // throttles its in_progress events, and at the last byte.
  void fetch_progress(Download* d, uint64_t received);
  void flush_progress(bool final_line);

  // pnpm's "Packages: +N -M" and its bar (pnpm:stats in ndjson).
  void stats(size_t added, size_t removed);
  // ndjson-only events with no text form; `json_fields` is the object's body without braces.
  void event(std::string_view name, std::string_view json_fields);

  // pnpm's reportScope: how many workspace projects a command selected ("Scope: all 4
  // workspace projects", "Scope: 2 of 4 workspace projects"); nothing for exactly one.
  // ndjson: the pnpm:scope event, always; `workspace_prefix` empty: not a workspace, and the
  // event has `selected` only, as pnpm's.
  void scope(size_t selected, size_t total, std::string_view workspace_prefix);

  void info(std::string_view line);
  // An info line on stderr, where pnpm's reporter prints a command's messages when stdout
  // is kept for results (store status).
  void info_stderr(std::string_view line);
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
  std::string download_line(const Download& d, uint64_t done) const;
  // The live area on a TTY: the progress line and a line per download in progress, drawn
  // over what was drawn before; clear_live_locked() erases it (the caller prints above).
  void draw_live_locked();
  void clear_live_locked();
  // Finished downloads, once each, as static lines ("..., done").
  void print_done_downloads_locked();
  std::string paint(std::string_view text, const char* sgr) const;
  void ticker();

  ReporterKind kind_;
  bool perf_;
  Terminal term_;
  std::string prefix_;
  mutable std::mutex mu_;
  std::atomic<size_t> total_{0}, reused_{0}, downloaded_{0}, added_{0};
  std::atomic<long long> last_print_ns_{0};
  struct Pass {
    std::string name;
    double seconds;
    long peak_rss_kb;  // the process's peak RSS when the pass ended
  };
  std::vector<Pass> passes_;
  std::thread ticker_;
  std::condition_variable ticker_cv_;
  bool ticking_ = false;
  std::deque<Download> downloads_;  // under mu_; a deque, so handles stay valid
  size_t live_rows_ = 0;            // under mu_: terminal rows the live area covers
  std::string live_text_;           // under mu_: what the live area shows
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
