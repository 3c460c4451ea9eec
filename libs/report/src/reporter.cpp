#include "tarn/report/reporter.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

namespace tarn {

namespace {

constexpr const char* kCyan = "96";  // pnpm's cyanBright for counts
constexpr const char* kGreen = "32";
constexpr const char* kRed = "31";
constexpr const char* kYellow = "33";
constexpr long long kRedrawNs = 200'000'000;  // pnpm redraws progress at most every 200 ms

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Messages quote input files: every line goes through printable(), so control bytes and
// invalid UTF-8 reach the terminal as \xNN, never as escape sequences.
std::string terminal_safe(std::string_view msg) {
  std::string out;
  for (size_t i = 0; i <= msg.size();) {
    size_t j = std::min(msg.find('\n', i), msg.size());
    if (i) out += '\n';
    out += printable(msg.substr(i, j - i), 1 << 20);
    i = j + 1;
  }
  return out;
}

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

}  // namespace

bool parse_reporter_kind(std::string_view s, ReporterKind& out) {
  if (s == "default") out = ReporterKind::Default;
  else if (s == "append-only") out = ReporterKind::AppendOnly;
  else if (s == "ndjson") out = ReporterKind::Ndjson;
  else if (s == "silent") out = ReporterKind::Silent;
  else return false;
  return true;
}

Terminal Terminal::detect() {
  Terminal t;
  t.tty = ::isatty(STDOUT_FILENO) == 1;
  t.ci = env_set("CI");
  // NO_COLOR (no-color.org) turns colour off; FORCE_COLOR (other than "0") forces it on.
  const char* force = std::getenv("FORCE_COLOR");
  if (force && *force) t.color = std::string_view(force) != "0";
  else t.color = t.tty && !env_set("NO_COLOR");
  if (env_set("NO_COLOR") && !(force && *force)) t.color = false;
  winsize ws{};
  if (t.tty && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) t.width = ws.ws_col;
  return t;
}

Reporter::Reporter(ReporterKind kind, bool perf, Terminal term) : kind_(kind), perf_(perf), term_(term) {
  // pnpm's default reporter is static and append-only without a TTY and under CI.
  if (kind_ == ReporterKind::Default && (!term_.tty || term_.ci)) kind_ = ReporterKind::AppendOnly;
}

Reporter::~Reporter() { stop_progress(); }

std::string Reporter::json_escape(std::string_view s) {
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

std::string Reporter::paint(std::string_view text, const char* sgr) const {
  if (!term_.color || text.empty()) return std::string(text);
  return fmt::format("\x1b[{}m{}\x1b[39m", sgr, text);
}

// One ndjson event, with pnpm's envelope (time, hostname, pid, name, level).
void Reporter::write_event(std::string_view name, std::string_view level, std::string_view body) {
  static const std::string host = [] {
    char h[HOST_NAME_MAX + 1] = {0};
    ::gethostname(h, sizeof h - 1);
    return std::string(h);
  }();
  std::lock_guard lk(mu_);
  fmt::print(stderr, "{{\"time\":{},\"hostname\":\"{}\",\"pid\":{},\"name\":\"{}\",\"level\":\"{}\"{}{}}}\n", now_ms(),
             json_escape(host), ::getpid(), name, level, body.empty() ? "" : ",", body);
}

void Reporter::event(std::string_view name, std::string_view json_fields) {
  if (kind_ == ReporterKind::Ndjson) write_event(name, "debug", json_fields);
}

void Reporter::start_progress(std::string prefix) {
  prefix_ = std::move(prefix);
  event("pnpm:stage", fmt::format("\"prefix\":\"{}\",\"stage\":\"importing_started\"", json_escape(prefix_)));
  if (kind_ != ReporterKind::Default) return;
  std::lock_guard lk(mu_);
  if (ticking_) return;
  ticking_ = true;
  ticker_ = std::thread([this] { ticker(); });
}

void Reporter::stop_progress(bool end_line) {
  {
    std::lock_guard lk(mu_);
    if (!ticking_) return;
    ticking_ = false;
  }
  ticker_cv_.notify_all();
  ticker_.join();
  // The live line stays as it was last drawn; what follows starts on a line of its own.
  if (end_line) fmt::print("\n"), std::fflush(stdout);
}

// The live line on a TTY: drawn at once, then redrawn every 200 ms while counts change.
void Reporter::ticker() {
  std::unique_lock lk(mu_);
  std::string last;
  while (ticking_) {
    std::string line = progress_line(false);
    if (line != last || redraw_) {
      redraw_ = false;
      fmt::print("\r{}\x1b[K", line);
      std::fflush(stdout);
      last = std::move(line);
    }
    ticker_cv_.wait_for(lk, std::chrono::nanoseconds(kRedrawNs), [&] { return !ticking_; });
  }
}

std::string Reporter::progress_line(bool done) const {
  return fmt::format("Progress: resolved {}, reused {}, downloaded {}, added {}{}", paint(std::to_string(total_), kCyan),
                     paint(std::to_string(reused_), kCyan), paint(std::to_string(downloaded_), kCyan),
                     paint(std::to_string(added_), kCyan), done ? ", done" : "");
}

void Reporter::set_total(size_t resolved) { total_ = resolved; }

void Reporter::resolved(std::string_view id) {
  if (kind_ == ReporterKind::Ndjson)
    write_event("pnpm:progress", "debug",
                fmt::format("\"status\":\"resolved\",\"packageId\":\"{}\",\"requester\":\"{}\"", json_escape(id),
                            json_escape(prefix_)));
}

void Reporter::reused(std::string_view id) {
  ++reused_;
  if (kind_ == ReporterKind::Ndjson)
    write_event("pnpm:progress", "debug",
                fmt::format("\"status\":\"found_in_store\",\"packageId\":\"{}\",\"requester\":\"{}\"", json_escape(id),
                            json_escape(prefix_)));
  else flush_progress(false);
}

void Reporter::downloaded(std::string_view id, size_t bytes) {
  ++downloaded_;
  if (kind_ != ReporterKind::Ndjson) return flush_progress(false);
  write_event("pnpm:fetching-progress", "debug",
              fmt::format("\"status\":\"started\",\"attempt\":1,\"packageId\":\"{}\",\"size\":{}", json_escape(id), bytes));
  write_event("pnpm:progress", "debug",
              fmt::format("\"status\":\"fetched\",\"packageId\":\"{}\",\"requester\":\"{}\"", json_escape(id),
                          json_escape(prefix_)));
}

void Reporter::added(std::string_view rel_dir) {
  ++added_;
  if (kind_ == ReporterKind::Ndjson)
    write_event("pnpm:progress", "debug",
                fmt::format("\"status\":\"imported\",\"method\":\"hardlink\",\"requester\":\"{}\",\"to\":\"{}/{}\"",
                            json_escape(prefix_), json_escape(prefix_), json_escape(rel_dir)));
  else flush_progress(false);
}

// Append-only output: a progress line at most every 200 ms, so output never costs
// install time (the TTY ticker draws the default reporter's).
void Reporter::flush_progress(bool final_line) {
  if (kind_ == ReporterKind::Silent || kind_ == ReporterKind::Ndjson) return;
  if (kind_ == ReporterKind::Default) {
    if (!final_line) return;
    stop_progress(false);
    std::lock_guard lk(mu_);
    fmt::print("\r{}\x1b[K\n", progress_line(true));
    std::fflush(stdout);
    return;
  }
  long long now = now_ns();
  long long last = last_print_ns_.load();
  if (!final_line && (now - last < kRedrawNs || !last_print_ns_.compare_exchange_strong(last, now))) return;
  std::lock_guard lk(mu_);
  fmt::print("{}\n", progress_line(final_line));
  std::fflush(stdout);
}

void Reporter::stats(size_t added, size_t removed) {
  if (kind_ == ReporterKind::Ndjson) {
    write_event("pnpm:stats", "debug", fmt::format("\"prefix\":\"{}\",\"added\":{}", json_escape(prefix_), added));
    write_event("pnpm:stats", "debug", fmt::format("\"prefix\":\"{}\",\"removed\":{}", json_escape(prefix_), removed));
    return;
  }
  if (kind_ == ReporterKind::Silent || (added == 0 && removed == 0)) return;
  std::string msg = "Packages:";
  if (added) msg += " " + paint("+" + std::to_string(added), kGreen);
  if (removed) msg += " " + paint("-" + std::to_string(removed), kRed);
  // pnpm's bar: one character per change, scaled down to the terminal's width.
  size_t width = term_.width, changes = added + removed, plus = added, minus = removed;
  if (changes > width) {
    plus = removed == 0 ? width : added == 0 ? 0 : std::min(width - 1, std::max<size_t>(1, added * width / changes));
    minus = width - plus;
  }
  std::lock_guard lk(mu_);
  if (ticking_) fmt::print("\r\x1b[K"), redraw_ = true;
  fmt::print("{}\n{}{}\n", msg, paint(std::string(plus, '+'), kGreen), paint(std::string(minus, '-'), kRed));
  std::fflush(stdout);
}

void Reporter::emit(std::string_view level, std::string_view msg, FILE* to) {
  if (kind_ == ReporterKind::Silent && level != "error") return;
  if (kind_ == ReporterKind::Ndjson) {
    std::string body = fmt::format("\"message\":\"{}\"", json_escape(msg));
    if (!prefix_.empty()) body += fmt::format(",\"prefix\":\"{}\"", json_escape(prefix_));
    return write_event("pnpm", level, body);
  }
  std::lock_guard lk(mu_);
  if (ticking_) fmt::print("\r\x1b[K"), redraw_ = true;  // the live line is redrawn under the message
  if (level == "warn") fmt::print(to, " {}  {}\n", paint("WARN", kYellow), terminal_safe(msg));
  else fmt::print(to, "{}\n", terminal_safe(msg));
  std::fflush(to);
}

void Reporter::scope(size_t selected, size_t total, std::string_view workspace_prefix) {
  if (kind_ == ReporterKind::Ndjson)
    return write_event("pnpm:scope", "debug",
                       fmt::format("\"selected\":{},\"total\":{},\"workspacePrefix\":\"{}\"", selected, total,
                                   json_escape(workspace_prefix)));
  if (selected == 1) return;
  info(selected == total ? fmt::format("Scope: all {} workspace projects", total)
                         : fmt::format("Scope: {} of {} workspace projects", selected, total));
}

void Reporter::info(std::string_view line) { emit("info", line, stdout); }
void Reporter::warn(std::string_view line) { emit("warn", line, stderr); }
void Reporter::error(const Error& e) {
  stop_progress();
  if (kind_ == ReporterKind::Ndjson)
    return write_event("pnpm", "error",
                       fmt::format("\"code\":\"{}\",\"message\":\"{}\"", e.code_name(), json_escape(e.message)));
  emit("error", e.render(), stderr);
}

void Reporter::summary(const std::vector<AddedDependency>& added, double seconds) {
  if (kind_ == ReporterKind::Silent) return;
  if (kind_ == ReporterKind::Ndjson) {
    for (auto& a : added) {
      std::string_view type = a.group == "devDependencies" ? "dev" : a.group == "optionalDependencies" ? "optional" : "prod";
      write_event("pnpm:root", "debug",
                  fmt::format("\"prefix\":\"{}\",\"added\":{{\"name\":\"{}\",\"realName\":\"{}\",\"version\":\"{}\","
                              "\"dependencyType\":\"{}\"}}",
                              json_escape(prefix_), json_escape(a.name), json_escape(a.name), json_escape(a.version), type));
    }
    write_event("pnpm:stage", "debug", fmt::format("\"prefix\":\"{}\",\"stage\":\"importing_done\"", json_escape(prefix_)));
    write_event("pnpm:summary", "debug", fmt::format("\"prefix\":\"{}\"", json_escape(prefix_)));
    return;
  }
  std::lock_guard lk(mu_);
  std::string current;
  for (auto& a : added) {
    if (a.group != current) {
      current = a.group;
      fmt::print("\n{}:\n", current);
    }
    fmt::print("{} {} {}\n", paint("+", kGreen), a.name, paint(a.version, "90"));
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
