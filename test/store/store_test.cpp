#include <catch2/catch.hpp>

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
  CHECK_FALSE(store.has(key));
  auto staging = store.begin();
  REQUIRE(staging);
  auto idx = unpack_tarball(tgz, &*integ, staging->files.fd(), "x@1.0.0");
  REQUIRE(idx);
  CHECK_FALSE(store.has(key));  // extracted but not committed: invisible
  REQUIRE(store.commit(*staging, key, *idx));
  CHECK(store.has(key));
  auto back = store.read_index(key);
  REQUIRE(back);
  REQUIRE(back->entries.size() == idx->entries.size());
  for (size_t i = 0; i < idx->entries.size(); ++i) {
    CHECK(back->entries[i].path == idx->entries[i].path);
    CHECK(back->entries[i].exec == idx->entries[i].exec);
  }
  CHECK(test::read_file(store.files_dir(key) + "/index.js") == "hello");
  // A second commit of the same package (another process won the race) is fine.
  auto again = store.begin();
  REQUIRE(again);
  REQUIRE(unpack_tarball(tgz, &*integ, again->files.fd(), "x@1.0.0"));
  CHECK(store.commit(*again, key, *idx));
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
