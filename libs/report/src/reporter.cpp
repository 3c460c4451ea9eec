#include "tarn/report/reporter.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace tarn {

bool parse_reporter_kind(std::string_view s, ReporterKind& out) {
  if (s == "default") out = ReporterKind::Default;
  else if (s == "append-only") out = ReporterKind::AppendOnly;
  else if (s == "ndjson") out = ReporterKind::Ndjson;
  else if (s == "silent") out = ReporterKind::Silent;
  else return false;
  return true;
}

static std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += c;
    }
  }
  return out;
}

static long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Reporter::Reporter(ReporterKind kind, bool perf) : kind_(kind), perf_(perf) {}
Reporter::~Reporter() = default;

void Reporter::set_total(size_t resolved) { total_ = resolved; }
void Reporter::add_reused(size_t n) { reused_ += n; flush_progress(false); }
void Reporter::add_downloaded(size_t n) { downloaded_ += n; flush_progress(false); }
void Reporter::add_added(size_t n) { added_ += n; flush_progress(false); }

void Reporter::flush_progress(bool final_line) {
  if (kind_ == ReporterKind::Silent || kind_ == ReporterKind::Ndjson) return;
  // Throttled: a progress line at most every 200 ms, so output never costs install time.
  long long now = now_ns();
  long long last = last_print_ns_.load();
  if (!final_line && (now - last < 200'000'000 || !last_print_ns_.compare_exchange_strong(last, now)))
    return;
  std::lock_guard lk(mu_);
  std::string line = fmt::format("Progress: resolved {}, reused {}, downloaded {}, added {}{}",
                                 total_.load(), reused_.load(), downloaded_.load(), added_.load(),
                                 final_line ? ", done" : "");
  bool tty = isatty(STDOUT_FILENO);
  if (kind_ == ReporterKind::Default && tty) {
    fmt::print("\r{}\x1b[K", line);
    if (final_line) fmt::print("\n");
    std::fflush(stdout);
  } else if (final_line || kind_ == ReporterKind::AppendOnly) {
    fmt::print("{}\n", line);
  }
}

void Reporter::emit(std::string_view level, std::string_view msg, FILE* to) {
  if (kind_ == ReporterKind::Silent && level != "error") return;
  std::lock_guard lk(mu_);
  if (kind_ == ReporterKind::Ndjson) {
    fmt::print(to, "{{\"level\":\"{}\",\"message\":\"{}\"}}\n", level, json_escape(msg));
  } else if (level == "warn") {
    fmt::print(to, " WARN  {}\n", msg);
  } else {
    fmt::print(to, "{}\n", msg);
  }
  std::fflush(to);
}

void Reporter::info(std::string_view line) { emit("info", line, stdout); }
void Reporter::warn(std::string_view line) { emit("warn", line, stderr); }
void Reporter::error(const Error& e) {
  if (kind_ == ReporterKind::Ndjson) {
    std::lock_guard lk(mu_);
    fmt::print(stderr, "{{\"level\":\"error\",\"code\":\"{}\",\"message\":\"{}\"}}\n", e.code_name(),
               json_escape(e.message));
    return;
  }
  emit("error", e.render(), stderr);
}

void Reporter::summary(const std::vector<AddedDependency>& added, double seconds) {
  if (kind_ == ReporterKind::Silent) return;
  if (kind_ == ReporterKind::Ndjson) {
    std::lock_guard lk(mu_);
    for (auto& a : added)
      fmt::print("{{\"level\":\"info\",\"name\":\"pnpm:root\",\"added\":{{\"dependencyType\":\"{}\",\"name\":\"{}\",\"version\":\"{}\"}}}}\n",
                 json_escape(a.group), json_escape(a.name), json_escape(a.version));
    fmt::print("{{\"level\":\"info\",\"name\":\"tarn:summary\",\"packages\":{},\"seconds\":{:.3f}}}\n",
               total_.load(), seconds);
    return;
  }
  std::lock_guard lk(mu_);
  std::string current;
  for (auto& a : added) {
    if (a.group != current) {
      current = a.group;
      fmt::print("\n{}:\n", current);
    }
    fmt::print("+ {} {}\n", a.name, a.version);
  }
  fmt::print("\nDone in {:.1f}s using tarn v{}\n", seconds, TARN_REPORT_VERSION);
}

void Reporter::record_pass(std::string_view name, double seconds) {
  std::lock_guard lk(mu_);
  passes_.emplace_back(std::string(name), seconds);
}

void Reporter::print_perf() {
  if (!perf_) return;
  std::lock_guard lk(mu_);
  double total = 0;
  for (auto& [n, s] : passes_)
    if (n.find('/') == std::string::npos) total += s;  // "pass/sub-pass" rows are inside their pass
  fmt::print(stderr, "pass timings:\n");
  for (auto& [n, s] : passes_) fmt::print(stderr, "  {:<22} {:9.1f} ms\n", n, s * 1000);
  fmt::print(stderr, "  {:<22} {:9.1f} ms\n", "(sum of passes)", total * 1000);
}

}  // namespace tarn
