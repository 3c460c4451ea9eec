#pragma once
// Progress output and per-pass timing. One Reporter per run; thread-safe counters.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
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

class Reporter {
 public:
  explicit Reporter(ReporterKind kind = ReporterKind::Default, bool perf = false);
  ~Reporter();

  ReporterKind kind() const { return kind_; }

  // Counters shown by the progress line: resolved (from the lockfile), reused (store hit),
  // downloaded, added (linked into node_modules).
  void set_total(size_t resolved);
  void add_reused(size_t n = 1);
  void add_downloaded(size_t n = 1);
  void add_added(size_t n = 1);
  void flush_progress(bool final_line);

  void info(std::string_view line);
  void warn(std::string_view line);
  void error(const Error& e);
  void summary(const std::vector<AddedDependency>& added, double seconds);

  // --perf: named pass timings.
  void record_pass(std::string_view name, double seconds);
  void print_perf();

 private:
  void emit(std::string_view level, std::string_view msg, FILE* to);
  ReporterKind kind_;
  bool perf_;
  std::mutex mu_;
  std::atomic<size_t> total_{0}, reused_{0}, downloaded_{0}, added_{0};
  std::atomic<long long> last_print_ns_{0};
  std::vector<std::pair<std::string, double>> passes_;
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
