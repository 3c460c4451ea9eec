// write_lockfile against real pnpm 12.21 lockfiles (byte for byte), a Lockfile built in
// code, and save_lockfile's file handling.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "testing.hpp"

#include "tarn/lockfile/lockfile.hpp"

using namespace tarn;
namespace stdfs = std::filesystem;

namespace {

// Every pnpm-lock.yaml under `dir` (node_modules excluded), sorted.
std::vector<std::string> lockfiles_under(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory() && it->path().filename() == "node_modules") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().filename() == "pnpm-lock.yaml" || it->path().extension() == ".yaml") out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The first line where two texts differ, for a readable failure.
std::string first_difference(const std::string& a, const std::string& b) {
  size_t i = 0, line = 1;
  while (i < a.size() && i < b.size() && a[i] == b[i]) line += a[i++] == '\n';
  auto line_at = [](const std::string& s, size_t at) {
    size_t begin = s.rfind('\n', at == 0 ? 0 : at - 1);
    begin = begin == std::string::npos ? 0 : begin + 1;
    return s.substr(begin, s.find('\n', at) - begin);
  };
  if (i == a.size() && i == b.size()) return "";
  return "line " + std::to_string(line) + ":\n  expected: " + line_at(a, i) + "\n  written:  " + line_at(b, i);
}

void check_round_trip(const std::string& path) {
  CAPTURE(path);
  std::string text = test::read_file(path);
  auto lf = Lockfile::parse(text, path);
  REQUIRE(lf);
  std::string written = write_lockfile(*lf);
  INFO(first_difference(text, written));
  CHECK(written == text);
}

}  // namespace

TEST_CASE("writer: every committed fixture lockfile round-trips byte for byte") {
  std::vector<std::string> files;
  for (auto& f : lockfiles_under(std::string(TARN_SOURCE_DIR) + "/fixtures"))
    if (stdfs::path(f).filename() == "pnpm-lock.yaml") files.push_back(f);
  REQUIRE(files.size() >= 9);
  for (auto& f : files) check_round_trip(f);
}

TEST_CASE("writer: lockfiles pnpm 12.21 wrote with settings, catalogs, env documents... round-trip") {
  auto files = lockfiles_under(std::string(TARN_SOURCE_DIR) + "/test/lockfile/data");
  REQUIRE(files.size() == 4);
  for (auto& f : files) check_round_trip(f);
}

// The benchmark fixtures shared between worktrees; skipped where they are not mounted.
TEST_CASE("writer: the shared fixture lockfiles round-trip byte for byte") {
  const char* env = std::getenv("TARN_SHARED_FIXTURES");
  std::string dir = env ? env : "/work/shared/fixtures";
  if (!stdfs::is_directory(dir)) {
    WARN("skipped: " << dir << " is not a directory");
    return;
  }
  std::vector<std::string> files;
  for (auto& f : lockfiles_under(dir))
    if (stdfs::path(f).filename() == "pnpm-lock.yaml") files.push_back(f);
  CHECK(!files.empty());
  for (auto& f : files) check_round_trip(f);
}
