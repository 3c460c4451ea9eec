#include <catch2/catch.hpp>

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
