#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "tarn/fs/fs.hpp"
#include "tarn/tarball/tarball.hpp"
#include "testing.hpp"

using namespace tarn;
using test::TarEntry;

TEST_CASE("tarball: verify, inflate and extract, dropping the top folder and keeping exec bits") {
  auto tgz = test::make_tgz({{"package/package.json", R"({"name":"a"})"},
                             {"package/bin/cli.js", "#!/usr/bin/env node\n", 0755},
                             {"package/lib/deep/x.js", "x"},
                             {"package/lib/", "", 0755, 'd'},
                             {"package/lib/inner-link", "deep/x.js", 0777, 'l'}});
  auto want = Integrity::parse(test::sri_sha512(tgz));
  REQUIRE(want);
  test::TempDir t;
  auto d = fs::Dir::open(t.path());
  REQUIRE(d);
  auto idx = unpack_tarball(tgz, &*want, d->fd(), "a@1.0.0");
  REQUIRE(idx);
  std::vector<std::string> files;
  for (auto& e : idx->entries)
    if (!e.dir) files.push_back(e.path + (e.exec ? " x" : " -"));
  CHECK(files == std::vector<std::string>{"package.json -", "bin/cli.js x", "lib/deep/x.js -"});
  // Stored flat, numbered by position among the files.
  CHECK(test::read_file(t.path() + "/" + PackageIndex::blob_name(2)) == "x");
  struct stat st;
  REQUIRE(::stat((t.path() + "/" + PackageIndex::blob_name(1)).c_str(), &st) == 0);
  CHECK((st.st_mode & 0111) != 0);
  CHECK(::stat((t.path() + "/lib").c_str(), &st) != 0);  // no directories in the store
}

TEST_CASE("tarball: integrity mismatch names the package and both digests") {
  auto tgz = test::make_tgz({{"package/index.js", "1"}});
  auto other = Integrity::parse(test::sri_sha512(test::make_tgz({{"package/index.js", "2"}})));
  auto r = verify_integrity(tgz, *other, "left-pad@1.3.0");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Code::TarballIntegrity);
  CHECK(r.error().message.find("left-pad@1.3.0") != std::string::npos);
  CHECK(r.error().message.find(other->str()) != std::string::npos);
  CHECK(r.error().message.find(test::sri_sha512(tgz)) != std::string::npos);
}

TEST_CASE("tarball: entries that leave the package folder are rejected") {
  struct Row {
    const char* name;
    TarEntry bad;
  };
  for (auto& r : {Row{"dot-dot path", {"package/../../etc/x", "evil"}},
                  Row{"absolute path", {"/etc/x", "evil"}},
                  Row{"top-level dot-dot", {"../x", "evil"}},
                  Row{"symlink outside", {"package/link", "../../outside", 0777, 'l'}},
                  Row{"absolute symlink", {"package/link", "/etc/passwd", 0777, 'l'}},
                  Row{"hardlink outside", {"package/hl", "../x", 0644, 'h'}}}) {
    CAPTURE(r.name);
    auto tgz = test::make_tgz({{"package/ok.js", "ok"}, r.bad});
    test::TempDir t;
    auto d = fs::Dir::open(t.path());
    auto idx = unpack_tarball(tgz, nullptr, d->fd(), "evil@1.0.0");
    REQUIRE_FALSE(idx);
    CHECK(idx.error().code == Code::TarballExtract);
    CHECK(idx.error().message.find("evil@1.0.0") != std::string::npos);
    CHECK_FALSE(fs::exists("/etc/x"));
  }
}

TEST_CASE("tarball: corrupt data is an error, not a crash") {
  std::vector<uint8_t> junk = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  test::TempDir t;
  auto d = fs::Dir::open(t.path());
  CHECK_FALSE(unpack_tarball(junk, nullptr, d->fd(), "junk@1.0.0"));
}
