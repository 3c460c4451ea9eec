#include <catch2/catch.hpp>

#include "testing.hpp"

#include "tarn/core/types.hpp"

using namespace tarn;

TEST_CASE("PkgName accepts npm names and rejects path tricks") {
  struct Row {
    const char* in;
    bool ok;
    const char* scope;
    const char* bare;
  };
  for (auto r : {Row{"lodash", true, "", "lodash"}, Row{"@babel/core", true, "@babel", "core"},
                 Row{"", false, "", ""}, Row{"@babel", false, "", ""}, Row{"..", false, "", ""},
                 Row{"a/b", false, "", ""}, Row{"@s/../x", false, "", ""}, Row{".hidden", false, "", ""},
                 Row{"@s/a/b", false, "", ""}}) {
    CAPTURE(r.in);
    auto n = PkgName::parse(r.in);
    REQUIRE(bool(n) == r.ok);
    if (r.ok) {
      CHECK(n->scope() == r.scope);
      CHECK(n->bare() == r.bare);
    }
  }
}

TEST_CASE("DepPath splits name, version and peer suffix") {
  struct Row {
    const char* in;
    const char* name;
    const char* version;
    const char* peers;
  };
  for (auto r : {Row{"lodash@4.17.21", "lodash", "4.17.21", ""},
                 Row{"@babel/core@7.0.0", "@babel/core", "7.0.0", ""},
                 Row{"react-dom@16.14.0(react@16.14.0)", "react-dom", "16.14.0", "(react@16.14.0)"},
                 Row{"a@1.0.0(b@2.0.0(c@3.0.0))(d@4.0.0)", "a", "1.0.0", "(b@2.0.0(c@3.0.0))(d@4.0.0)"},
                 Row{"/old@1.0.0", "old", "1.0.0", ""}}) {
    CAPTURE(r.in);
    auto p = DepPath::parse(r.in);
    REQUIRE(p);
    CHECK(p->name().str() == r.name);
    CHECK(p->version() == r.version);
    CHECK(p->peers() == r.peers);
  }
  for (auto bad : {"lodash", "@scope/x", "a@1.0.0(b@2", "a@1.0.0)", "a@", "../x@1.0.0"}) {
    CAPTURE(bad);
    CHECK_FALSE(DepPath::parse(bad));
  }
}

TEST_CASE("SlotName follows pnpm's depPathToFilename") {
  struct Row {
    const char* in;
    const char* out;
  };
  for (auto r : {Row{"foo@1.0.0", "foo@1.0.0"}, Row{"@scope/foo@1.0.0", "@scope+foo@1.0.0"},
                 Row{"foo@1.0.0(bar@2.0.0)(baz@3.0.0)", "foo@1.0.0_bar@2.0.0_baz@3.0.0"},
                 Row{"eslint-plugin-testing-library@7.7.0(eslint@9.35.0(jiti@2.6.1))(typescript@6.0.3)",
                     "eslint-plugin-testing-library@7.7.0_eslint@9.35.0_jiti@2.6.1__typescript@6.0.3"},
                 Row{"react-dom@16.14.0(react@16.14.0)", "react-dom@16.14.0_react@16.14.0"},
                 Row{"file:packages/foo", "file+packages+foo"},
                 Row{"local-pkg@file:../local-pkg", "local-pkg@file+..+local-pkg"},
                 Row{"patchme@1.0.0(patch_hash=1fdda25c4820fce988f0d549c1cd3b176f88a05504ca1dba84ae692614e26fab)",
                     "patchme@1.0.0_patch_hash=1fdda25c4820fce988f0d549c1cd3b176f88a05504ca1dba84ae692614e26fab"},
                 // URL versions (tarball, git), all measured with pnpm 12.21: a character
                 // escaped beyond "://" and '/' (a port, '?', '#') appends the key's hash...
                 Row{"leftpad@http://127.0.0.1:48731/leftpad/-/leftpad-1.0.0.tgz",
                     "leftpad@http+++127.0.0.1+48731+leftpad+-+leftpad-1.0.0.tgz_fdbee042a0591ad748f4b8c9a2969ecb"},
                 Row{"gitpkg@git+http://127.0.0.1:48732/repo.git#4899ba454abb2c3ecdbda9614ef978fa98c7654c",
                     "gitpkg@git+http+++127.0.0.1+48732+repo.git+4899ba454abb2c3ecdbda9614ef978fa98c7654c_"
                     "2d2564c5529a76afee6be61059264edd"},
                 Row{"gitsub@git+http://127.0.0.1:48732/repo.git#4899ba454abb2c3ecdbda9614ef978fa98c7654c&path:packages/sub",
                     "gitsub@git+http+++127.0.0.1+48732+repo.git+4899ba454abb2c3ecdbda9614ef978fa98c7654c&pat_"
                     "ee913c83af573d1d7c09321534e016aa"},
                 Row{"escape-html@http://localhost:48799/escape-html/-/escape-html-1.0.3.tgz",
                     "escape-html@http+++localhost+48799+escape-html+-+escape-html-1.0.3.tgz_"
                     "845fb4ac015e34ecfc09e1f808cffdba"},
                 Row{"escape-html@http://127.0.0.1/escape-html/-/escape-html-1.0.3.tgz?x=1",
                     "escape-html@http+++127.0.0.1+escape-html+-+escape-html-1.0.3.tgz+x=1_"
                     "eb370e468d6ab5e16d21ab2b82feb45c"},
                 Row{"escape-html@http://127.0.0.1/escape-html/-/escape-html-1.0.3.tgz#frag",
                     "escape-html@http+++127.0.0.1+escape-html+-+escape-html-1.0.3.tgz+frag_"
                     "9bfe757d1486ebc7becfe1369c1cf3fb"},
                 Row{"gitpkg@git+http://127.0.0.1/repo.git#4899ba454abb2c3ecdbda9614ef978fa98c7654c",
                     "gitpkg@git+http+++127.0.0.1+repo.git+4899ba454abb2c3ecdbda9614ef978fa98c7654c_"
                     "527af47df25d29db568c48b8d9f438ce"},
                 // ...and a URL with none keeps the plain escaped name (fixtures/native).
                 Row{"escape-html@https://registry.npmjs.org/escape-html/-/escape-html-1.0.3.tgz",
                     "escape-html@https+++registry.npmjs.org+escape-html+-+escape-html-1.0.3.tgz"},
                 Row{"escape-html@http://127.0.0.1/escape-html/-/escape-html-1.0.3.tgz",
                     "escape-html@http+++127.0.0.1+escape-html+-+escape-html-1.0.3.tgz"}}) {
    CAPTURE(r.in);
    CHECK(SlotName::from_text(r.in).str() == r.out);
  }
  // Upper case and over-long names get a truncated prefix and a 32-hex sha256.
  auto upper = SlotName::from_text("FOO@1.0.0").str();
  CHECK(upper.rfind("FOO@1.0.0_", 0) == 0);
  CHECK(upper.size() == std::string("FOO@1.0.0_").size() + 32);
  std::string long_key = "foo@1.0.0";
  for (int i = 0; i < 40; ++i) long_key += "(bar@2.0.0)";
  auto shortened = SlotName::from_text(long_key, 60).str();
  CHECK(shortened.size() == 60);
  CHECK(shortened.find_first_not_of("0123456789abcdef", shortened.size() - 32) == std::string::npos);
  // The same input always maps to the same name; different inputs do not collide.
  CHECK(SlotName::from_text(long_key, 60).str() == shortened);
  CHECK(SlotName::from_text(long_key + "(x@1.0.0)", 60).str() != shortened);
}

TEST_CASE("Integrity parses SRI and picks the strongest hash") {
  auto i = Integrity::parse("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk= sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==");
  REQUIRE(i);
  CHECK(i->algo() == Integrity::Algo::Sha512);
  CHECK(i->digest().size() == 64);
  CHECK(i->str() == "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==");
  auto s1 = Integrity::parse("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
  REQUIRE(s1);
  CHECK(s1->hex() == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  for (auto bad : {"", "md5-abc", "sha512-tooshort", "sha512-!!!!"}) {
    CAPTURE(bad);
    CHECK_FALSE(Integrity::parse(bad));
  }
}
