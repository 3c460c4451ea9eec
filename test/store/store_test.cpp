#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <thread>

#include "tarn/fs/fs.hpp"
#include "tarn/store/store.hpp"
#include "tarn/tarball/tarball.hpp"
#include "testing.hpp"

using namespace tarn;

TEST_CASE("store: a package appears only when committed, with its index") {
  test::TempDir t;
  Store store(t.path() + "/store");
  REQUIRE(store.open());
  auto tgz = test::make_tgz({{"package/index.js", "hello"}, {"package/bin/x", "#!/bin/sh\n", 0755}});
  auto integ = Integrity::parse(test::sri_sha512(tgz));
  auto key = StoreKey::from_integrity(*integ);
  CHECK(key.rel().size() == 2 + 1 + 126 + 7);
  CHECK(store.check(key) == Store::Health::Missing);
  auto staging = store.begin();
  REQUIRE(staging);
  auto idx = unpack_tarball(tgz, &*integ, staging->dir.fd(), "x@1.0.0");
  REQUIRE(idx);
  CHECK(store.check(key) == Store::Health::Missing);  // extracted but not committed: invisible
  REQUIRE(store.commit(*staging, key, *idx));
  CHECK(store.check(key) == Store::Health::Present);
  auto back = store.load(key);
  REQUIRE(back);
  REQUIRE(back->index.entries.size() == idx->entries.size());
  for (size_t i = 0; i < idx->entries.size(); ++i) {
    CHECK(back->index.entries[i].path == idx->entries[i].path);
    CHECK(back->index.entries[i].exec == idx->entries[i].exec);
  }
  auto blob = fs::read_file_at(back->dir.fd(), PackageIndex::blob_name(0).c_str());
  REQUIRE(blob);
  CHECK(*blob == "hello");
  // A second commit of the same package (another process won the race) is fine.
  auto again = store.begin();
  REQUIRE(again);
  REQUIRE(unpack_tarball(tgz, &*integ, again->dir.fd(), "x@1.0.0"));
  auto dir = store.commit(*again, key, *idx);
  REQUIRE(dir);
  auto first = fs::read_file_at(dir->fd(), "index");
  CHECK((first && *first == idx->serialize()));
}

TEST_CASE("store: a package missing from the store is 'not found', not a failure") {
  test::TempDir t;
  Store store(t.path() + "/store");
  REQUIRE(store.open());
  auto key = StoreKey::from_url("https://example.test/a.tgz");
  auto r = store.load(key);
  REQUIRE_FALSE(r);
  CHECK(r.error().is_not_found());
}

TEST_CASE("store index round-trips and rejects garbage") {
  PackageIndex i;
  i.entries = {{"lib", true, false}, {"lib/a b.js", false, true}};
  auto back = PackageIndex::parse(i.serialize());
  REQUIRE(back);
  CHECK(back->entries[1].path == "lib/a b.js");
  CHECK(back->entries[1].exec);
  CHECK_FALSE(PackageIndex::parse("garbage"));
}

// ----------------------------------------------------------------- v3: modes, checks, sweeps

namespace {

// A store with one committed package, and what it takes to damage it.
struct Stored {
  test::TempDir t;
  Store store{t.path() + "/store"};
  std::vector<uint8_t> tgz;
  Integrity integ;
  StoreKey key;
  std::string dir;  // the entry's directory

  explicit Stored(const std::vector<test::TarEntry>& files) {
    REQUIRE(store.open());
    tgz = test::make_tgz(files);
    integ = *Integrity::parse(test::sri_sha512(tgz));
    key = StoreKey::from_integrity(integ);
    dir = Store::layout_dir(store.root()) + "/" + key.rel();
    REQUIRE(commit());
  }
  Result<fs::Dir> commit() {
    auto s = store.begin();
    REQUIRE(s);
    auto idx = unpack_tarball(tgz, &integ, s->dir.fd(), "x@1.0.0");
    REQUIRE(idx);
    return store.commit(*s, key, *idx);
  }
  PackageIndex index() {
    auto p = store.load(key);
    REQUIRE(p);
    return p->index;
  }
  // The blob holding `path`.
  std::string blob(const std::string& path) {
    size_t n = 0;
    for (auto& e : index().entries) {
      if (e.path == path) return dir + "/" + PackageIndex::blob_name(n);
      n += !e.dir;
    }
    FAIL("no file " << path);
    return "";
  }
};

const std::vector<test::TarEntry> kFiles = {
    {"package/package.json", R"({"name":"x","version":"1.0.0","bin":{"x":"./bin/x.js"}})"},
    {"package/index.js", "module.exports = 'hello'\n"},
    {"package/bin/x.js", "#!/usr/bin/env node\n", 0644},
    {"package/run.sh", "#!/bin/sh\n", 0755},
};

mode_t mode_of(const std::string& p) {
  struct stat st;
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void truncate_to(const std::string& p, off_t n) { REQUIRE(::truncate(p.c_str(), n) == 0); }

}  // namespace

TEST_CASE("store: a damaged entry is Damaged (or Missing), verify() names it, a commit replaces it") {
  namespace sfs = std::filesystem;
  struct Row {
    const char* name;
    std::function<void(Stored&)> damage;
    Store::Health want;
  };
  std::vector<Row> rows = {
      {"intact", [](Stored&) {}, Store::Health::Present},
      {"truncated blob", [](Stored& s) { truncate_to(s.blob("index.js"), 0); }, Store::Health::Damaged},
      {"blob cut short by one byte", [](Stored& s) { truncate_to(s.blob("index.js"), 3); }, Store::Health::Damaged},
      {"blob grown", [](Stored& s) { truncate_to(s.blob("index.js"), 4096); }, Store::Health::Damaged},
      {"deleted blob", [](Stored& s) { sfs::remove(s.blob("index.js")); }, Store::Health::Damaged},
      {"blob replaced by a directory",
       [](Stored& s) {
         auto b = s.blob("index.js");
         sfs::remove(b);
         sfs::create_directory(b);
       },
       Store::Health::Damaged},
      {"bin blob lost its exec bit", [](Stored& s) { ::chmod(s.blob("bin/x.js").c_str(), 0644); }, Store::Health::Damaged},
      {"plain blob gained exec bits (tolerated)", [](Stored& s) { ::chmod(s.blob("index.js").c_str(), 0755); },
       Store::Health::Present},
      {"deleted index", [](Stored& s) { sfs::remove(s.dir + "/index"); }, Store::Health::Damaged},
      {"garbage index", [](Stored& s) { test::write_file(s.dir + "/index", "garbage"); }, Store::Health::Damaged},
      {"index cut mid-line",
       [](Stored& s) { truncate_to(s.dir + "/index", static_cast<off_t>(sfs::file_size(s.dir + "/index") - 3)); },
       Store::Health::Damaged},
      {"index of layout v2", [](Stored& s) { test::write_file(s.dir + "/index", "tarn-index 2\nf-\tindex.js\n"); },
       Store::Health::Damaged},
      {"index with a bad size", [](Stored& s) { test::write_file(s.dir + "/index", "tarn-index 3\nf- 1x\tindex.js\n"); },
       Store::Health::Damaged},
      {"index naming a path outside", [](Stored& s) { test::write_file(s.dir + "/index", "tarn-index 3\nf- 0\t../x\n"); },
       Store::Health::Damaged},
      {"entry directory deleted", [](Stored& s) { sfs::remove_all(s.dir); }, Store::Health::Missing},
      {"entry directory replaced by a file",
       [](Stored& s) {
         sfs::remove_all(s.dir);
         test::write_file(s.dir, "x");
       },
       Store::Health::Damaged},
  };
  for (auto& row : rows) {
    SECTION(row.name) {
      Stored s(kFiles);
      row.damage(s);
      CHECK(s.store.check(s.key) == row.want);
      auto damaged = s.store.verify();
      REQUIRE(damaged);
      if (row.want == Store::Health::Damaged) {
        REQUIRE(damaged->size() == 1);
        CHECK((*damaged)[0].rel == s.key.rel());
        CHECK_FALSE((*damaged)[0].why.empty());
      } else {
        CHECK(damaged->empty());
      }
      // Fetching again repairs it: the damaged entry goes, ours takes its place.
      auto dir = s.commit();
      REQUIRE(dir);
      CHECK(s.store.check(s.key) == Store::Health::Present);
      CHECK(test::read_file(s.blob("index.js")) == "module.exports = 'hello'\n");
      CHECK(s.store.verify()->empty());
      CHECK(sfs::is_empty(Store::layout_dir(s.store.root()) + "/tmp"));  // nothing left aside
    }
  }
}

TEST_CASE("store: processes repairing one damaged entry at once all end with an intact entry") {
  Stored s(kFiles);
  // What one racing installer does; no Catch assertions off the main thread.
  auto repair = [&s]() -> std::string {
    Store other(s.store.root());  // as another process would
    if (auto r = other.open(); !r) return r.error().render();
    auto st = other.begin();
    if (!st) return st.error().render();
    auto idx = unpack_tarball(s.tgz, &s.integ, st->dir.fd(), "x@1.0.0");
    if (!idx) return idx.error().render();
    auto dir = other.commit(*st, s.key, *idx);
    if (!dir) return dir.error().render();
    auto blob = fs::read_file_at(dir->fd(), "1");  // index.js, read through the returned directory
    return blob && *blob == "module.exports = 'hello'\n" ? "" : "blob unreadable through the returned directory";
  };
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    truncate_to(s.blob("index.js"), 0);
    REQUIRE(s.store.check(s.key) == Store::Health::Damaged);
    std::vector<std::string> got(4);
    std::vector<std::thread> threads;
    for (auto& g : got) threads.emplace_back([&] { g = repair(); });
    for (auto& t : threads) t.join();
    for (auto& g : got) CHECK(g == "");
    CHECK(s.store.check(s.key) == Store::Health::Present);
  }
}

TEST_CASE("store: blob modes are final at commit: tar exec bits plus every bin a package.json names") {
  struct Row {
    const char* name;
    std::vector<test::TarEntry> files;  // besides package/package.json
    std::string manifest;
    std::vector<std::string> exec;  // every executable file; the others must be 0644
  };
  std::vector<test::TarEntry> three = {{"package/a.js", "a"}, {"package/bin/b", "bb"}, {"package/bin/sub/c", "ccc"},
                                       {"package/lib/d.js", "dddd"}};
  std::vector<Row> rows = {
      {"no bin", three, R"({"name":"x"})", {}},
      {"tar mode 0755", {{"package/a.js", "a", 0755}, {"package/b.js", "b", 0700}}, R"({"name":"x"})", {"a.js", "b.js"}},
      {"bin string", three, R"({"name":"x","bin":"./a.js"})", {"a.js"}},
      {"bin map", three, R"({"name":"x","bin":{"a":"a.js","b":"lib/../bin/b"}})", {"a.js", "bin/b"}},
      {"directories.bin", three, R"({"name":"x","directories":{"bin":"./bin"}})", {"bin/b", "bin/sub/c"}},
      {"bin wins over directories.bin", three, R"({"name":"x","bin":{"a":"a.js"},"directories":{"bin":"bin"}})", {"a.js"}},
      {"bin leaving the package", three, R"({"name":"x","bin":{"a":"../a.js","b":"/bin/b"}})", {}},
      {"bin naming a missing file", three, R"({"name":"x","bin":"nope.js"})", {}},
      {"invalid manifest", three, R"({"name":"x","bin":)", {}},
      {"bundled dependency's bin",
       {{"package/node_modules/dep/package.json", R"({"name":"dep","bin":"cli.js"})"},
        {"package/node_modules/dep/cli.js", "c"},
        {"package/node_modules/@s/dep/package.json", R"({"name":"@s/dep","bin":{"d":"d.js"}})"},
        {"package/node_modules/@s/dep/d.js", "d"},
        {"package/node_modules/dep/lib/package.json", R"({"bin":"x.js"})"},
        {"package/node_modules/dep/lib/x.js", "x"}},
       R"({"name":"x"})",
       {"node_modules/dep/cli.js", "node_modules/@s/dep/d.js"}},
  };
  for (auto& row : rows) {
    SECTION(row.name) {
      auto files = row.files;
      files.push_back({"package/package.json", row.manifest});
      Stored s(files);
      CHECK(s.store.check(s.key) == Store::Health::Present);
      for (auto& e : s.index().entries) {
        if (e.dir) continue;
        CAPTURE(e.path);
        bool want = std::find(row.exec.begin(), row.exec.end(), e.path) != row.exec.end();
        CHECK(e.exec == want);
        CHECK(mode_of(s.blob(e.path)) == (want ? 0755 : 0644));
        CHECK(e.size == std::filesystem::file_size(s.blob(e.path)));
      }
    }
  }
}

TEST_CASE("store: open() removes staging left by dead processes, never a live one's") {
  namespace sfs = std::filesystem;
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);  // now a dead pid
  std::string dead = std::to_string(child), self = std::to_string(::getpid());
  struct Row {
    std::string name;
    int idle_seconds;
    bool removed;
  };
  std::vector<Row> rows = {
      {dead + "-aaaa", 60, true},      // killed install
      {dead + "-bbbb", 0, false},      // just written: maybe a live process in another pid namespace
      {self + "-cccc", 600, false},    // alive
      {self + "-dddd", 7200, true},    // idle for hours: the pid was reused
      {"old-eeee", 7200, true},        // a damaged entry moved aside, then the process died
      {"old-ffff", 60, false},         // moved aside a minute ago: someone may still read it
      {"junk", 60, false},
  };
  test::TempDir t;
  Store store(t.path() + "/store");
  REQUIRE(store.open());
  std::string tmp = Store::layout_dir(store.root()) + "/tmp/";
  for (auto& r : rows) {
    test::write_file(tmp + r.name + "/0", "blob");
    struct timespec ts[2] = {{::time(nullptr) - r.idle_seconds, 0}, {::time(nullptr) - r.idle_seconds, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (tmp + r.name).c_str(), ts, 0) == 0);
  }
  Store again(store.root());
  REQUIRE(again.open());
  for (auto& r : rows) {
    CAPTURE(r.name);
    CHECK(sfs::exists(tmp + r.name) == !r.removed);
  }
}

// ----------------------------------------------------------------- sums (tarn store status)
#include <zlib.h>

TEST_CASE("store: the sums file records each file's CRC-32 as extracted, or read back for staged files") {
  test::TempDir t;
  Store store(t.path() + "/store");
  REQUIRE(store.open());
  std::string big(300000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 251);
  std::vector<test::TarEntry> files = {
      {"package/index.js", "hello"}, {"package/lib/empty.js", ""}, {"package/lib/big.bin", big}, {"package/index.js", "again"}};
  auto zcrc = [](const std::string& s) {
    return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
  };
  auto tgz = test::make_tgz(files);
  auto key = StoreKey::from_integrity(*Integrity::parse(test::sri_sha512(tgz)));
  auto staging = store.begin();
  REQUIRE(staging);
  auto idx = unpack_tarball(tgz, nullptr, staging->dir.fd(), "x@1.0.0");
  REQUIRE(idx);
  for (auto& e : idx->entries) CHECK(e.dir != e.crc.has_value());  // every file, as extracted
  REQUIRE(store.commit(*staging, key, *idx));
  auto back = store.load(key);
  REQUIRE(back);
  auto sums = read_sums(back->dir.fd(), 3);
  REQUIRE(sums);
  // File ordinals in first-seen order; a repeated entry's last content wins.
  CHECK(*sums == std::vector<uint32_t>{zcrc("again"), zcrc(""), zcrc(big)});
  CHECK_FALSE(read_sums(back->dir.fd(), 2));  // a count that is not the index's: not trusted
  auto c = crc32_file(back->dir.fd(), PackageIndex::blob_name(2));
  REQUIRE(c);
  CHECK(c->crc == zcrc(big));
  CHECK(c->size == big.size());

  // Files staged by hand (as git packages are) carry no CRC: commit reads their blobs.
  auto staged = store.begin();
  REQUIRE(staged);
  REQUIRE(fs::write_file_at(staged->dir.fd(), "0", "abc", 3, 0644) == 0);
  PackageIndex hand;
  hand.entries = {{"a.txt", false, false}};
  auto key2 = StoreKey::from_url("https://example.test/hand.tgz");
  REQUIRE(store.commit(*staged, key2, hand));
  auto back2 = store.load(key2);
  REQUIRE(back2);
  CHECK(read_sums(back2->dir.fd(), 1) == std::optional<std::vector<uint32_t>>(std::vector<uint32_t>{zcrc("abc")}));
  // An entry committed before sums existed has none.
  REQUIRE(::unlinkat(back2->dir.fd(), kSumsFile, 0) == 0);
  CHECK_FALSE(read_sums(back2->dir.fd(), 1));
}
