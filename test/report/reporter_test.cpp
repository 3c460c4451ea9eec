#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "tarn/report/reporter.hpp"
#include "testing.hpp"

using namespace tarn;

namespace {

// What `f` prints on stdout and stderr (the reporter writes to the real streams).
std::pair<std::string, std::string> capture(const std::function<void()>& f) {
  test::TempDir t;
  std::string out_path = t.path() + "/out", err_path = t.path() + "/err";
  std::fflush(stdout);
  std::fflush(stderr);
  int saved_out = ::dup(1), saved_err = ::dup(2);
  REQUIRE(std::freopen(out_path.c_str(), "w", stdout));
  REQUIRE(std::freopen(err_path.c_str(), "w", stderr));
  f();
  std::fflush(stdout);
  std::fflush(stderr);
  ::dup2(saved_out, 1);
  ::dup2(saved_err, 2);
  ::close(saved_out);
  ::close(saved_err);
  return {test::read_file(out_path), test::read_file(err_path)};
}

}  // namespace

TEST_CASE("reporter: the --reporter names pnpm accepts") {
  struct Row {
    const char* name;
    bool ok;
    ReporterKind kind;
  };
  for (auto& r : {Row{"default", true, ReporterKind::Default}, Row{"append-only", true, ReporterKind::AppendOnly},
                  Row{"ndjson", true, ReporterKind::Ndjson}, Row{"silent", true, ReporterKind::Silent},
                  Row{"json", false, ReporterKind::Default}, Row{"", false, ReporterKind::Default}}) {
    CAPTURE(r.name);
    ReporterKind k = ReporterKind::Default;
    CHECK(parse_reporter_kind(r.name, k) == r.ok);
    if (r.ok) CHECK(k == r.kind);
  }
}

TEST_CASE("reporter: summary grouped by dependency type, errors with their code, silent prints nothing") {
  std::vector<AddedDependency> added = {{"devDependencies", "c", "3.0.0"}, {"dependencies", "b", "2.0.0"},
                                        {"optionalDependencies", "o", "1.0.0"}, {"dependencies", "a", "1.0.0"}};
  auto [out, err] = capture([&] {
    Reporter r(ReporterKind::AppendOnly);
    r.summary(added, 1.25);
    r.error(Error::failed(Code::OutdatedLockfile, "stale"));
  });
  // pnpm's group order: dependencies, optionalDependencies, devDependencies; names sorted.
  CHECK(out.find("\ndependencies:\n+ a 1.0.0\n+ b 2.0.0\n\noptionalDependencies:\n+ o 1.0.0\n\ndevDependencies:\n+ c 3.0.0\n") !=
        std::string::npos);
  CHECK(out.find("Done in 1.2s") != std::string::npos);
  CHECK(err.find("ERR_PNPM_OUTDATED_LOCKFILE") != std::string::npos);
  auto [sout, serr] = capture([&] {
    Reporter r(ReporterKind::Silent);
    r.summary(added, 1.0);
    r.info("hello");
  });
  CHECK(sout.empty());
}

TEST_CASE("reporter: --perf sums passes, not their sub-passes") {
  auto [out, err] = capture([&] {
    Reporter r(ReporterKind::Silent, true);
    r.record_pass("a", 0.010);
    r.record_pass("a/inner", 0.008);
    r.record_pass("b", 0.005);
    r.print_perf();
  });
  CHECK(err.find("a/inner") != std::string::npos);
  CHECK(err.find("(sum of passes)             15.0 ms") != std::string::npos);
}

TEST_CASE("reporter: bytes quoted from input files never reach the terminal raw") {
  auto [out, err] = capture([&] {
    Reporter r(ReporterKind::AppendOnly);
    r.error(Error::failed(Code::BrokenLockfile, "invalid package name \"\x1b[31mevil\xff\"\n  second line"));
  });
  CHECK(err.find('\x1b') == std::string::npos);
  CHECK(err.find("\\x1b[31mevil\\xff") != std::string::npos);
  CHECK(err.find("\n  second line") != std::string::npos);
}

TEST_CASE("reporter: download sizes in pnpm's pretty-bytes (its render tests' values)") {
  constexpr uint64_t MiB = 1 << 20;
  struct Row {
    uint64_t n;
    const char* text;
  };
  for (auto& r : {Row{0, "0.00 B"}, Row{999, "999.00 B"}, Row{1000, "1.00 kB"}, Row{8070, "8.07 kB"},
                  Row{11 * MiB / 2, "5.76 MB"}, Row{7 * MiB, "7.34 MB"}, Row{10 * MiB, "10.48 MB"},
                  Row{19 * MiB, "19.92 MB"}, Row{20 * MiB, "20.97 MB"}, Row{6004190, "6.00 MB"},
                  Row{UINT64_MAX, "18.44 EB"}}) {
    CAPTURE(r.n);
    CHECK(pretty_bytes(r.n) == r.text);
  }
}

TEST_CASE("reporter: big downloads on a TTY: a live line under the progress line, then a done line above it") {
  Terminal tty{true, false, false, 120};
  auto [out, err] = capture([&] {
    Reporter r(ReporterKind::Default, false, tty);
    r.start_progress("/p");
    CHECK(r.fetch_started("small@1.0.0", 1, 4096) == nullptr);
    CHECK(r.fetch_started("chunked@1.0.0", 1, std::nullopt) == nullptr);
    CHECK(r.fetch_started("retried@1.0.0", 2, 10 << 20) == nullptr);  // pnpm: attempt 1 only
    auto* d = r.fetch_started("big@1.0.0", 1, 10'000'000);
    REQUIRE(d != nullptr);
    r.fetch_progress(d, 4'000'000);
    std::this_thread::sleep_for(std::chrono::milliseconds(650));  // three ticks of the 200 ms redraw
    r.fetch_progress(d, 10'000'000);
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
    r.flush_progress(true);
  });
  CHECK(out.find("Progress: resolved 0, reused 0, downloaded 0, added 0\x1b[K\n"
                 "Downloading big@1.0.0: 0.00 B/10.00 MB\x1b[K\x1b[J") != std::string::npos);
  CHECK(out.find("\x1b[1AProgress: resolved 0, reused 0, downloaded 0, added 0\x1b[K\n"
                 "Downloading big@1.0.0: 4.00 MB/10.00 MB\x1b[K\x1b[J") != std::string::npos);
  // The done line is printed once, where the live area was, and the area goes on below it.
  std::string done = "\r\x1b[1A\x1b[JDownloading big@1.0.0: 10.00 MB/10.00 MB, done\n";
  REQUIRE(out.find(done) != std::string::npos);
  CHECK(out.find(done) == out.rfind(done));
  CHECK(out.find("Progress: resolved 0, reused 0, downloaded 0, added 0, done", out.find(done)) != std::string::npos);
  CHECK(out.find("small@") == std::string::npos);
  CHECK(out.find("retried@") == std::string::npos);
}

TEST_CASE("reporter: ndjson fetching-progress: started for every attempt, in_progress for big ones, throttled") {
  auto [out, err] = capture([&] {
    Reporter r(ReporterKind::Ndjson);
    CHECK(r.fetch_started("small@1.0.0", 1, 4096) == nullptr);
    r.fetch_started("gone@1.0.0", 1, std::nullopt);
    auto* d = r.fetch_started("big@1.0.0", 1, 6'000'000);
    REQUIRE(d != nullptr);
    for (uint64_t n = 8192; n < 6'000'000; n += 8192) r.fetch_progress(d, n);  // far under 500 ms
    r.fetch_progress(d, 6'000'000);
  });
  CHECK(out.empty());
  CHECK(err.find("\"status\":\"started\",\"attempt\":1,\"packageId\":\"small@1.0.0\",\"size\":4096}") != std::string::npos);
  CHECK(err.find("\"status\":\"started\",\"attempt\":1,\"packageId\":\"gone@1.0.0\",\"size\":null}") != std::string::npos);
  // The leading and the trailing edge: the first bytes and the last.
  size_t events = 0;
  for (size_t at = err.find("in_progress"); at != std::string::npos; at = err.find("in_progress", at + 1)) ++events;
  CHECK(events == 2);
  CHECK(err.find("\"status\":\"in_progress\",\"downloaded\":8192,\"packageId\":\"big@1.0.0\"}") != std::string::npos);
  CHECK(err.find("\"status\":\"in_progress\",\"downloaded\":6000000,\"packageId\":\"big@1.0.0\"}") != std::string::npos);
}
