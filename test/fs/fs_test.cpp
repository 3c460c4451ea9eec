#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tarn/fs/fs.hpp"
#include "testing.hpp"

using namespace tarn;

TEST_CASE("relative paths between directories") {
  struct Row {
    const char* from;
    const char* to;
    const char* out;
  };
  for (auto r : {Row{"node_modules/.pnpm/a@1/node_modules", "node_modules/.pnpm/b@1/node_modules/b", "../../b@1/node_modules/b"},
                 Row{"node_modules/.pnpm/a@1/node_modules/@s", "node_modules/.pnpm/b@1/node_modules/b", "../../../b@1/node_modules/b"},
                 Row{"node_modules", "node_modules/.pnpm/x/node_modules/x", ".pnpm/x/node_modules/x"},
                 Row{"/a/b", "/a/b", "."}, Row{"/a/b/c", "/a/d", "../../d"}}) {
    CAPTURE(r.from, r.to);
    CHECK(fs::relative(r.from, r.to) == r.out);
  }
  CHECK(fs::normalize("a/./b/../c//d/") == "a/c/d");
  CHECK(fs::normalize("/../x") == "/x");
}

TEST_CASE("dirfd-relative writes, links and symlinks") {
  test::TempDir t;
  auto d = fs::Dir::open(t.path());
  REQUIRE(d);
  REQUIRE(fs::mkdirs_at(d->fd(), "a/b/c") == 0);
  REQUIRE(fs::mkdirs_at(d->fd(), "a/b/c") == 0);  // idempotent
  REQUIRE(fs::write_file_at(d->fd(), "a/b/c/f", "hi", 2, 0755) == 0);
  struct stat st;
  REQUIRE(::stat((t.path() + "/a/b/c/f").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0755);
  REQUIRE(fs::link_at(d->fd(), "a/b/c/f", d->fd(), "g") == 0);
  REQUIRE(fs::link_at(d->fd(), "a/b/c/f", d->fd(), "g") == 0);  // replaces a stale file
  REQUIRE(::stat((t.path() + "/g").c_str(), &st) == 0);
  CHECK(st.st_nlink == 2);
  REQUIRE(fs::symlink_at("a/b", d->fd(), "s") == 0);
  REQUIRE(fs::symlink_at("a/b", d->fd(), "s") == 0);
  REQUIRE(fs::symlink_at("a", d->fd(), "s") == 0);  // retargets
  char buf[16] = {0};
  REQUIRE(::readlink((t.path() + "/s").c_str(), buf, sizeof buf) == 1);
  CHECK(std::string(buf) == "a");
  CHECK(fs::write_file_at(d->fd(), "missing/dir/f", "x", 1, 0644) == ENOENT);
  auto missing = fs::read_file(t.path() + "/nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().is_not_found());
}

TEST_CASE("umask_keeps: a mode the process's umask leaves alone needs no fchmod") {
  mode_t mask = ::umask(022);  // read it (this test runs before any thread creates files)
  ::umask(mask);
  for (mode_t mode : {mode_t(0644), mode_t(0755), mode_t(0666), mode_t(0777), mode_t(0600), mode_t(0)}) {
    CAPTURE(mode, mask);
    CHECK(tarn::fs::umask_keeps(mode) == ((mode & mask) == 0));
  }
}
