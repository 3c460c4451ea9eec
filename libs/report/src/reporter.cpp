#include "tarn/report/reporter.hpp"

#include <sys/resource.h>

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

namespace tarn {

namespace {

constexpr const char* kCyan = "96";  // pnpm's cyanBright for counts
constexpr const char* kGreen = "32";
constexpr const char* kRed = "31";
constexpr const char* kYellow = "33";
constexpr long long kRedrawNs = 200'000'000;  // pnpm redraws progress at most every 200 ms
// pnpm's tarball fetcher emits in_progress at most every 500 ms (lodash.throttle's leading
// and trailing edges); its append-only sink drops progress lines within 1 s of the last.
constexpr long long kDownloadEventNs = 500'000'000;
constexpr long long kAppendOnlyDownloadNs = 1'000'000'000;

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

// Columns a line takes: SGR sequences take none, a UTF-8 character one.
size_t visible_width(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    w += (static_cast<unsigned char>(s[i]) & 0xc0) != 0x80;
  }
  return w;
}

// Terminal rows `text` covers at `width` columns (a full row does not wrap by itself).
size_t rows_of(std::string_view text, size_t width) {
  size_t rows = 0;
  for (size_t i = 0; i <= text.size();) {
    size_t j = std::min(text.find('\n', i), text.size());
    size_t w = visible_width(text.substr(i, j - i));
    rows += w == 0 ? 1 : (w + width - 1) / std::max<size_t>(width, 1);
    i = j + 1;
  }
  return rows;
}

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

}  // namespace

std::string pretty_bytes(uint64_t n) {
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  uint64_t divisor = 1;
  size_t i = 0;
  for (; n / divisor >= 1000 && i + 1 < std::size(units); ++i) divisor *= 1000;
  uint64_t fraction = divisor >= 100 ? (n % divisor) / (divisor / 100) : 0;
  return fmt::format("{}.{:02} {}", n / divisor, fraction, units[i]);
}

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
  // The live area stays as it was last drawn; what follows starts on a line of its own.
  if (!end_line) return;
  std::lock_guard lk(mu_);
  fmt::print("\n");
  std::fflush(stdout);
  live_rows_ = 0;
  live_text_.clear();
}

// The live area on a TTY: drawn at once, then redrawn every 200 ms while it changes.
void Reporter::ticker() {
  std::unique_lock lk(mu_);
  while (ticking_) {
    print_done_downloads_locked();
    draw_live_locked();
    ticker_cv_.wait_for(lk, std::chrono::nanoseconds(kRedrawNs), [&] { return !ticking_; });
  }
}

// pnpm's frame keeps the progress line and each running big download in place below what
// scrolls: the cursor goes back to the area's first row, each line is rewritten and
// erased to its end, and what is left below is erased (the area may have shrunk).
void Reporter::draw_live_locked() {
  std::string text = progress_line(false);
  for (auto& d : downloads_) {
    uint64_t n = d.shown.load(std::memory_order_relaxed);
    if (!d.done_printed && n < d.size) text += "\n" + download_line(d, n);
  }
  if (text == live_text_ && live_rows_) return;
  std::string out = "\r";
  if (live_rows_ > 1) out += fmt::format("\x1b[{}A", live_rows_ - 1);
  for (size_t i = 0; i <= text.size();) {
    size_t j = std::min(text.find('\n', i), text.size());
    out.append(text, i, j - i);
    out += j < text.size() ? "\x1b[K\n" : "\x1b[K\x1b[J";
    i = j + 1;
  }
  fmt::print("{}", out);
  std::fflush(stdout);
  live_rows_ = rows_of(text, term_.width);
  live_text_ = std::move(text);
}

void Reporter::clear_live_locked() {
  if (!live_rows_) return;
  if (live_rows_ > 1) fmt::print("\r\x1b[{}A\x1b[J", live_rows_ - 1);
  else fmt::print("\r\x1b[J");
  live_rows_ = 0;
  live_text_.clear();
}

// A finished download's line leaves the live area for good, above it, as pnpm moves it out
// of its fixed block.
void Reporter::print_done_downloads_locked() {
  for (auto& d : downloads_) {
    if (d.done_printed || d.shown.load(std::memory_order_relaxed) < d.size) continue;
    clear_live_locked();
    fmt::print("{}\n", download_line(d, d.size));
    d.done_printed = true;
  }
}

std::string Reporter::download_line(const Download& d, uint64_t done) const {
  std::string a = pretty_bytes(done), b = pretty_bytes(d.size);
  std::string tail = done >= d.size ? ", done" : "";
  // One row per line, or the live area's row count is wrong: a long id is cut.
  size_t fixed = std::string_view("Downloading : /").size() + a.size() + b.size() + tail.size();
  std::string id = d.id;
  if (term_.tty && term_.width > fixed + 4 && fixed + id.size() >= term_.width) id = id.substr(0, term_.width - fixed - 4) + "...";
  return fmt::format("Downloading {}: {}/{}{}", id, paint(a, kCyan), paint(b, kCyan), tail);
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

Reporter::Download* Reporter::fetch_started(std::string_view id, unsigned attempt, std::optional<uint64_t> size) {
  if (kind_ == ReporterKind::Ndjson)
    write_event("pnpm:fetching-progress", "debug",
                fmt::format("\"status\":\"started\",\"attempt\":{},\"packageId\":\"{}\",\"size\":{}", attempt,
                            json_escape(id), size ? std::to_string(*size) : "null"));
  // pnpm: no size, a retry (so the line does not start over) or under 5 MiB: no line.
  if (kind_ == ReporterKind::Silent || !size || *size < kBigDownload || attempt != 1) return nullptr;
  std::lock_guard lk(mu_);
  Download& d = downloads_.emplace_back();
  d.id = id;
  d.size = *size;
  if (kind_ == ReporterKind::AppendOnly) {
    fmt::print("{}\n", download_line(d, 0));
    std::fflush(stdout);
    d.printed_ns = now_ns();
  } else if (ticking_) {
    draw_live_locked();
  }
  return &d;
}

void Reporter::fetch_progress(Download* d, uint64_t received) {
  if (!d) return;
  long long now = now_ns();
  bool last = received >= d->size;
  if (!last && d->last_ns && now - d->last_ns < kDownloadEventNs) return;
  d->last_ns = now;
  d->shown.store(std::min(received, d->size), std::memory_order_relaxed);
  if (kind_ == ReporterKind::Ndjson) {
    write_event("pnpm:fetching-progress", "debug",
                fmt::format("\"status\":\"in_progress\",\"downloaded\":{},\"packageId\":\"{}\"", received,
                            json_escape(d->id)));
    return;
  }
  // The default reporter's ticker draws `shown`; append-only prints here. Its last line is
  // always printed (pnpm's sink may drop it within 1 s of the one before).
  if (kind_ != ReporterKind::AppendOnly || (!last && now - d->printed_ns < kAppendOnlyDownloadNs)) return;
  std::lock_guard lk(mu_);
  if (d->done_printed) return;
  fmt::print("{}\n", download_line(*d, std::min(received, d->size)));
  std::fflush(stdout);
  d->printed_ns = now;
  d->done_printed = last;
}

void Reporter::downloaded(std::string_view id) {
  ++downloaded_;
  if (kind_ != ReporterKind::Ndjson) return flush_progress(false);
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
    print_done_downloads_locked();
    clear_live_locked();
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
  print_done_downloads_locked();  // a download that just finished was reported first
  clear_live_locked();
  fmt::print("{}\n{}{}\n", msg, paint(std::string(plus, '+'), kGreen), paint(std::string(minus, '-'), kRed));
  if (ticking_) draw_live_locked();
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
  print_done_downloads_locked();
  clear_live_locked();
  std::fflush(stdout);  // the erase reaches the terminal before a message on stderr
  if (level == "warn") fmt::print(to, " {}  {}\n", paint("WARN", kYellow), terminal_safe(msg));
  else fmt::print(to, "{}\n", terminal_safe(msg));
  std::fflush(to);
  if (ticking_) draw_live_locked();  // the live area goes on under the message
}

void Reporter::scope(size_t selected, size_t total, std::string_view workspace_prefix) {
  // Outside a workspace pnpm 12.21 logs `{"selected":1}`: no total, no prefix.
  if (kind_ == ReporterKind::Ndjson && workspace_prefix.empty())
    return write_event("pnpm:scope", "debug", fmt::format("\"selected\":{}", selected));
  if (kind_ == ReporterKind::Ndjson)
    return write_event("pnpm:scope", "debug",
                       fmt::format("\"selected\":{},\"total\":{},\"workspacePrefix\":\"{}\"", selected, total,
                                   json_escape(workspace_prefix)));
  if (selected == 1) return;
  info(selected == total ? fmt::format("Scope: all {} workspace projects", total)
                         : fmt::format("Scope: {} of {} workspace projects", selected, total));
}

void Reporter::info(std::string_view line) { emit("info", line, stdout); }
void Reporter::info_stderr(std::string_view line) { emit("info", line, stderr); }
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
    // pnpm:ignored-scripts and pnpm:summary follow, from the install (they name its builds).
    write_event("pnpm:stage", "debug", fmt::format("\"prefix\":\"{}\",\"stage\":\"importing_done\"", json_escape(prefix_)));
    return;
  }
  // pnpm's SUMMARY_ORDER (prod, optional, peer, dev), names in byte order within a group,
  // each group's header in cyanBright.
  auto rank = [](const std::string& g) {
    return g == "dependencies" ? 0 : g == "optionalDependencies" ? 1 : g == "peerDependencies" ? 2 : g == "devDependencies" ? 3 : 4;
  };
  std::vector<const AddedDependency*> sorted;
  for (auto& a : added) sorted.push_back(&a);
  std::stable_sort(sorted.begin(), sorted.end(), [&](auto* x, auto* y) {
    return std::make_pair(rank(x->group), std::string_view(x->name)) < std::make_pair(rank(y->group), std::string_view(y->name));
  });
  std::lock_guard lk(mu_);
  std::string current;
  for (auto* p : sorted) {
    const AddedDependency& a = *p;
    if (a.group != current) {
      current = a.group;
      fmt::print("\n{}\n", paint(current + ":", kCyan));
    }
    fmt::print("{} {} {}\n", paint("+", kGreen), a.name, paint(a.version, "90"));
  }
  fmt::print("\nDone in {:.1f}s using tarn v{}\n", seconds, TARN_REPORT_VERSION);
}

void Reporter::record_pass(std::string_view name, double seconds) {
  // The peak RSS so far, so --perf shows which pass raised it (the 64 MB target).
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  std::lock_guard lk(mu_);
  passes_.push_back({std::string(name), seconds, ru.ru_maxrss});
}

void Reporter::print_perf() {
  if (!perf_) return;
  std::lock_guard lk(mu_);
  double total = 0;
  for (auto& p : passes_)
    if (p.name.find('/') == std::string::npos) total += p.seconds;  // "pass/sub-pass" rows are inside their pass
  fmt::print(stderr, "pass timings (and the peak RSS when each ended):\n");
  for (auto& p : passes_)
    fmt::print(stderr, "  {:<22} {:9.1f} ms  {:6.1f} MB\n", p.name, p.seconds * 1000, p.peak_rss_kb / 1024.0);
  fmt::print(stderr, "  {:<22} {:9.1f} ms\n", "(sum of passes)", total * 1000);
}

}  // namespace tarn
