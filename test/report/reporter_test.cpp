#include <unistd.h>

#include <cstdio>

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
  std::vector<AddedDependency> added = {{"dependencies", "a", "1.0.0"}, {"dependencies", "b", "2.0.0"},
                                        {"devDependencies", "c", "3.0.0"}};
  auto [out, err] = capture([&] {
    Reporter r(ReporterKind::AppendOnly);
    r.summary(added, 1.25);
    r.error(Error::failed(Code::OutdatedLockfile, "stale"));
  });
  CHECK(out.find("\ndependencies:\n+ a 1.0.0\n+ b 2.0.0\n\ndevDependencies:\n+ c 3.0.0\n") != std::string::npos);
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
