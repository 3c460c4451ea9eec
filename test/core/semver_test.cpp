// Version and Range against node-semver. Every expected value below is what node-semver 7.8
// answers (rows ported from its test/fixtures: range-include, range-exclude, comparisons,
// equality, invalid versions, range-parse, max/min-satisfying, plus tarn's own); regenerate
// or extend them by asking node-semver, never by hand.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/core/semver.hpp"

using namespace tarn;

namespace {

Version V(std::string_view s) {
  auto v = Version::parse(s);
  REQUIRE(v);
  return *v;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("Version parses strict semver plus the loose v/= prefix") {
  struct Row {
    const char* in;
    const char* str;  // nullptr: invalid
  };
  // node: semver.valid(in) (strict).
  for (auto r : std::initializer_list<Row>{
      {"1.2.3", "1.2.3"},
      {"v1.2.3", "1.2.3"},
      {" 1.2.3 ", "1.2.3"},
      {"\t1.2.3\n", "1.2.3"},
      {"1.2.3-rc.1+build.5", "1.2.3-rc.1"},
      {"0.0.0-0", "0.0.0-0"},
      {"1.2.3-0.a.00a", "1.2.3-0.a.00a"},
      {"1.2.3--", "1.2.3--"},
      {"1.2.3-a-b.c-d", "1.2.3-a-b.c-d"},
      {"9007199254740991.9007199254740991.9007199254740991", "9007199254740991.9007199254740991.9007199254740991"},
      {"1.2.3+01", "1.2.3"},
      {"1.0.0-999999999999999999999", "1.0.0-999999999999999999999"},
      {"1.2.3.4", nullptr},
      {"NOT VALID", nullptr},
      {"1.2", nullptr},
      {"1", nullptr},
      {"", nullptr},
      {"latest", nullptr},
      {"01.2.3", nullptr},
      {"1.02.3", nullptr},
      {"1.2.03", nullptr},
      {"1.2.3-01", nullptr},
      {"1.2.3-", nullptr},
      {"1.2.3+", nullptr},
      {"1.2.3-a..b", nullptr},
      {"1.2.3+a..b", nullptr},
      {"a.b.c", nullptr},
      {"-1.2.3", nullptr},
      {"1.2.3 4", nullptr},
      {"9007199254740992.0.0", nullptr},
      {"0.9007199254740992.0", nullptr},
      {"1.2.3-a_b", nullptr},
      {"1.2.3-é", nullptr},
      {"V1.2.3", nullptr},
      {"1.2.3beta", nullptr},
      {"x.2.3", nullptr},
      {"1.2.3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1.2.3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
      {"1.2.3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nullptr},
       }) {
    CAPTURE(r.in);
    auto v = Version::parse(r.in);
    REQUIRE(bool(v) == (r.str != nullptr));
    if (v) CHECK(v->str() == r.str);
  }
  // node: semver.valid(in, {loose: true}); tarn takes only the loose prefix, not the rest of loose.
  for (auto r : std::initializer_list<Row>{
      {"vv1.2.3", "1.2.3"},
      {"=1.2.3", "1.2.3"},
      {"v=1.2.3", "1.2.3"},
      {"= 1.2.3", "1.2.3"},
      {"=v1.2.3-rc.1", "1.2.3-rc.1"},
       }) {
    CAPTURE(r.in);
    auto v = Version::parse(r.in);
    REQUIRE(v);
    CHECK(v->str() == r.str);
  }
}

TEST_CASE("Version parts, limits and build metadata") {
  auto v = V("1.22.333-rc.1.x-y+build.7");
  CHECK(v.major() == 1);
  CHECK(v.minor() == 22);
  CHECK(v.patch() == 333);
  REQUIRE(v.prerelease().size() == 3);
  CHECK(v.prerelease()[1].numeric);
  CHECK_FALSE(v.prerelease()[2].numeric);
  CHECK(v.build() == "build.7");
  CHECK(v.is_prerelease());
  CHECK(V("9007199254740991.0.0").major() == kSemverMaxSafeInteger);
  std::string longest = "1.0.0-" + std::string(250, 'a');
  CHECK(Version::parse(longest));
  CHECK_FALSE(Version::parse(longest + "a"));  // 257 characters: node-semver's MAX_LENGTH is 256
  CHECK_FALSE(Version::parse(std::string(100000, '1')));
}

TEST_CASE("Version precedence follows semver 2.0") {
  struct Row {
    const char* a;
    const char* b;
    int cmp;
  };
  // node: semver.compare(a, b).
  for (auto r : std::initializer_list<Row>{
      {"0.0.0", "0.0.0-foo", 1},
      {"0.0.1", "0.0.0", 1},
      {"1.0.0", "0.9.9", 1},
      {"0.10.0", "0.9.0", 1},
      {"0.99.0", "0.10.0", 1},
      {"2.0.0", "1.2.3", 1},
      {"v0.0.0", "0.0.0-foo", 1},
      {"v0.0.1", "0.0.0", 1},
      {"v1.0.0", "0.9.9", 1},
      {"v0.10.0", "0.9.0", 1},
      {"v0.99.0", "0.10.0", 1},
      {"v2.0.0", "1.2.3", 1},
      {"0.0.0", "v0.0.0-foo", 1},
      {"1.2.3", "1.2.3-asdf", 1},
      {"1.2.3", "1.2.3-4", 1},
      {"1.2.3", "1.2.3-4-foo", 1},
      {"1.2.3-5-foo", "1.2.3-5", 1},
      {"1.2.3-5", "1.2.3-4", 1},
      {"1.2.3-5-foo", "1.2.3-5-Foo", 1},
      {"3.0.0", "2.7.2+asdf", 1},
      {"1.2.3-a.10", "1.2.3-a.5", 1},
      {"1.2.3-a.b", "1.2.3-a.5", 1},
      {"1.2.3-a.b", "1.2.3-a", 1},
      {"1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100", 1},
      {"1.2.3-r2", "1.2.3-r100", 1},
      {"1.2.3-r100", "1.2.3-R2", 1},
      {"1.0.0-alpha.1", "1.0.0-alpha", 1},
      {"1.0.0-alpha.beta", "1.0.0-alpha.1", 1},
      {"1.0.0-beta", "1.0.0-alpha.beta", 1},
      {"1.0.0-beta.2", "1.0.0-beta", 1},
      {"1.0.0-beta.11", "1.0.0-beta.2", 1},
      {"1.0.0-rc.1", "1.0.0-beta.11", 1},
      {"1.0.0", "1.0.0-rc.1", 1},
      {"1.0.0-0.0", "1.0.0-0", 1},
      {"1.0.0-a", "1.0.0-999999999999999999999", 1},
      {"1.0.0-alpha.10", "1.0.0-alpha.9", 1},
      {"9007199254740991.0.0", "9007199254740990.9.9", 1},
      {"1.0.0-A", "1.0.0-9", 1},
      {"1.0.0--", "1.0.0-9", 1},
      {"1.0.0-a", "1.0.0-Z", 1},
       }) {
    CAPTURE(r.a, r.b);
    auto a = V(r.a), b = V(r.b);
    CHECK(a.compare(b) == r.cmp);
    CHECK(b.compare(a) == -r.cmp);
    CHECK(a.compare(a) == 0);
    CHECK((a > b) == (r.cmp > 0));
  }
  // node: semver.eq(a, b, true): equal up to prefix, whitespace and build metadata.
  struct Eq {
    const char* a;
    const char* b;
    bool eq;
  };
  for (auto r : std::initializer_list<Eq>{
      {"1.2.3", "v1.2.3", true},
      {"1.2.3", "=1.2.3", true},
      {"1.2.3", "v 1.2.3", true},
      {"1.2.3", "= 1.2.3", true},
      {"1.2.3", " v1.2.3", true},
      {"1.2.3", " =1.2.3", true},
      {"1.2.3", " v 1.2.3", true},
      {"1.2.3", " = 1.2.3", true},
      {"1.2.3-0", "v1.2.3-0", true},
      {"1.2.3-0", "=1.2.3-0", true},
      {"1.2.3-0", "v 1.2.3-0", true},
      {"1.2.3-1", "v1.2.3-1", true},
      {"1.2.3-beta", "v1.2.3-beta", true},
      {"1.2.3-beta", "=1.2.3-beta", true},
      {"1.2.3-beta+build", " = 1.2.3-beta+otherbuild", true},
      {"1.2.3+build", " = 1.2.3+otherbuild", true},
      {"1.2.3-beta+build", "1.2.3-beta+otherbuild", true},
      {"1.2.3+build", "1.2.3+otherbuild", true},
      {"  v1.2.3+build", "1.2.3+otherbuild", true},
       }) {
    CAPTURE(r.a, r.b);
    CHECK((V(r.a) == V(r.b)) == r.eq);
    CHECK(V(r.a).str() == V(r.b).str());
  }
}

TEST_CASE("Versions sort by precedence") {
  std::vector<Version> vs;
  for (auto s : {"1.0.0", "1.0.0-rc.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-beta", "1.0.0-alpha.beta",
                 "1.0.0-alpha.1", "1.0.0-alpha", "0.9.0", "10.0.0", "2.0.0"})
    vs.push_back(V(s));
  std::sort(vs.begin(), vs.end());
  std::vector<std::string> got;
  for (auto& v : vs) got.push_back(v.str());
  CHECK(got == std::vector<std::string>{"0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                                        "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "10.0.0"});
}

TEST_CASE("Range parses and desugars as node-semver") {
  struct Row {
    const char* in;
    const char* desugared;  // nullptr: invalid (node-semver throws)
  };
  // node: new semver.Range(in).range.
  for (auto r : std::initializer_list<Row>{
      {"1.0.0 - 2.0.0", ">=1.0.0 <=2.0.0"},
      {"1 - 2", ">=1.0.0 <3.0.0-0"},
      {"1.0 - 2.0", ">=1.0.0 <2.1.0-0"},
      {"1.0.0", "1.0.0"},
      {">=*", ""},
      {"", ""},
      {"*", ""},
      {">=1.0.0", ">=1.0.0"},
      {">1.0.0", ">1.0.0"},
      {"<=2.0.0", "<=2.0.0"},
      {"1", ">=1.0.0 <2.0.0-0"},
      {"<2.0.0", "<2.0.0"},
      {">= 1.0.0", ">=1.0.0"},
      {">=  1.0.0", ">=1.0.0"},
      {">   1.0.0", ">1.0.0"},
      {"<=   2.0.0", "<=2.0.0"},
      {"0.1.20 || 1.2.4", "0.1.20||1.2.4"},
      {">=0.2.3 || <0.0.1", ">=0.2.3||<0.0.1"},
      {"||", ""},
      {"2.x.x", ">=2.0.0 <3.0.0-0"},
      {"1.2.x", ">=1.2.0 <1.3.0-0"},
      {"1.2.x || 2.x", ">=1.2.0 <1.3.0-0||>=2.0.0 <3.0.0-0"},
      {"x", ""},
      {"2.*.*", ">=2.0.0 <3.0.0-0"},
      {"2", ">=2.0.0 <3.0.0-0"},
      {"2.3", ">=2.3.0 <2.4.0-0"},
      {"~2.4", ">=2.4.0 <2.5.0-0"},
      {"~>3.2.1", ">=3.2.1 <3.3.0-0"},
      {"~1", ">=1.0.0 <2.0.0-0"},
      {"~1.0", ">=1.0.0 <1.1.0-0"},
      {"^0", "<1.0.0-0"},
      {"^0.1", ">=0.1.0 <0.2.0-0"},
      {"^1.0", ">=1.0.0 <2.0.0-0"},
      {"^1.2", ">=1.2.0 <2.0.0-0"},
      {"^0.0.1", ">=0.0.1 <0.0.2-0"},
      {"^0.0.1-beta", ">=0.0.1-beta <0.0.2-0"},
      {"^0.1.2", ">=0.1.2 <0.2.0-0"},
      {"^1.2.3", ">=1.2.3 <2.0.0-0"},
      {"^1.2.3-beta.4", ">=1.2.3-beta.4 <2.0.0-0"},
      {"<1", "<1.0.0-0"},
      {">=1", ">=1.0.0"},
      {"<1.2", "<1.2.0-0"},
      {"^ 1.2 ^ 1", ">=1.2.0 <2.0.0-0 >=1.0.0"},
      {"1.2 - 3.4.5", ">=1.2.0 <=3.4.5"},
      {"1.2.3 - 3.4", ">=1.2.3 <3.5.0-0"},
      {"1.2 - 3.4", ">=1.2.0 <3.5.0-0"},
      {">1", ">=2.0.0"},
      {">1.2", ">=1.3.0"},
      {">X", "<0.0.0-0"},
      {"<X", "<0.0.0-0"},
      {"<x <* || >* 2.x", "<0.0.0-0"},
      {">x 2.x || * || <x", ""},
      {"^1.2.3+build", ">=1.2.3 <2.0.0-0"},
      {"~1.2.3-rc.1", ">=1.2.3-rc.1 <1.3.0-0"},
      {"^0.x", "<1.0.0-0"},
      {"^1.x", ">=1.0.0 <2.0.0-0"},
      {"^0.0.x", "<0.1.0-0"},
      {"0.x", "<1.0.0-0"},
      {">=0.0.0", ""},
      {">=0.0.0 <2", "<2.0.0-0"},
      {"1.2.3 ||", ""},
      {"* || 1.2.3-rc.1", ""},
      {"1.2.3*", "1.2.3"},
      {"*1.2.3", "1.2.3"},
      {"=1.x", ">=1.0.0 <2.0.0-0"},
      {"v1.2.3", "1.2.3"},
      {"=v1.2.3", "1.2.3"},
      {"~> 1.2", ">=1.2.0 <1.3.0-0"},
      {"< =1", "<2.0.0-0"},
      {"1 - v 2", ">=1.0.0 <3.0.0-0"},
      {"^x.1.2", ""},
      {">=1.2.3 >=1.2.3", ">=1.2.3"},
      {"  >=1.2.3   <2  ", ">=1.2.3 <2.0.0-0"},
      {"1.2.3-rc.1 - 2", ">=1.2.3-rc.1 <3.0.0-0"},
      {"latest", nullptr},
      {"next", nullptr},
      {">=09090", nullptr},
      {"~1.2.3beta", nullptr},
      {"1.2.3.4", nullptr},
      {"blerg", nullptr},
      {"^1.2.3.4", nullptr},
      {"1.2.3 - ", nullptr},
      {"1 2 3 foo", nullptr},
      {"v=1.2.3", nullptr},
      {"=1.2.3 - 2", nullptr},
      {"^9007199254740991", nullptr},
      {">=9007199254740992", nullptr},
      {"x.1", nullptr},
      {"1.x.2", nullptr},
      {">=1.2.3 | <2", nullptr},
      {">==1.2.3", nullptr},
      {"~~1", nullptr},
      {"^", nullptr},
      {">=", nullptr},
      {">01.02.03", nullptr},
      {"1.2.3 -2", nullptr},
      {"git+https://example.com/a.git", nullptr},
      {"npm:foo@1", nullptr},
      {"workspace:*", nullptr},
      {"file:../a", nullptr},
       }) {
    CAPTURE(r.in);
    auto range = Range::parse(r.in);
    REQUIRE(bool(range) == (r.desugared != nullptr));
    if (range) CHECK(range->str() == r.desugared);
  }
}

TEST_CASE("Range::satisfies, with and without includePrerelease") {
  struct Row {
    const char* range;
    const char* version;
    bool include_prerelease;
    bool ok;
  };
  // node: semver.satisfies(version, range, {includePrerelease}).
  for (auto r : std::initializer_list<Row>{
      {"1.0.0 - 2.0.0", "1.2.3", false, true},
      {"^1.2.3+build", "1.2.3", false, true},
      {"^1.2.3+build", "1.3.0", false, true},
      {"1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3", false, true},
      {"1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3-pre.2", false, true},
      {"1.2.3-pre+asdf - 2.4.3-pre+asdf", "2.4.3-alpha", false, true},
      {"1.2.3+asdf - 2.4.3+asdf", "1.2.3", false, true},
      {"1.0.0", "1.0.0", false, true},
      {">=*", "0.2.4", false, true},
      {"", "1.0.0", false, true},
      {"*", "1.2.3", false, true},
      {"*", "v1.2.3", false, true},
      {">=1.0.0", "1.0.0", false, true},
      {">=1.0.0", "1.0.1", false, true},
      {">=1.0.0", "1.1.0", false, true},
      {">1.0.0", "1.0.1", false, true},
      {">1.0.0", "1.1.0", false, true},
      {"<=2.0.0", "2.0.0", false, true},
      {"<=2.0.0", "1.9999.9999", false, true},
      {"<=2.0.0", "0.2.9", false, true},
      {"<2.0.0", "1.9999.9999", false, true},
      {"<2.0.0", "0.2.9", false, true},
      {">= 1.0.0", "1.0.0", false, true},
      {">=  1.0.0", "1.0.1", false, true},
      {">=   1.0.0", "1.1.0", false, true},
      {"> 1.0.0", "1.0.1", false, true},
      {">  1.0.0", "1.1.0", false, true},
      {"<=   2.0.0", "2.0.0", false, true},
      {"<= 2.0.0", "1.9999.9999", false, true},
      {"<=  2.0.0", "0.2.9", false, true},
      {"<    2.0.0", "1.9999.9999", false, true},
      {"<\t2.0.0", "0.2.9", false, true},
      {">=0.1.97", "v0.1.97", false, true},
      {">=0.1.97", "0.1.97", false, true},
      {"0.1.20 || 1.2.4", "1.2.4", false, true},
      {">=0.2.3 || <0.0.1", "0.0.0", false, true},
      {">=0.2.3 || <0.0.1", "0.2.3", false, true},
      {">=0.2.3 || <0.0.1", "0.2.4", false, true},
      {"||", "1.3.4", false, true},
      {"2.x.x", "2.1.3", false, true},
      {"1.2.x", "1.2.3", false, true},
      {"1.2.x || 2.x", "2.1.3", false, true},
      {"1.2.x || 2.x", "1.2.3", false, true},
      {"x", "1.2.3", false, true},
      {"2.*.*", "2.1.3", false, true},
      {"1.2.*", "1.2.3", false, true},
      {"1.2.* || 2.*", "2.1.3", false, true},
      {"1.2.* || 2.*", "1.2.3", false, true},
      {"2", "2.1.2", false, true},
      {"2.3", "2.3.1", false, true},
      {"~0.0.1", "0.0.1", false, true},
      {"~0.0.1", "0.0.2", false, true},
      {"~x", "0.0.9", false, true},
      {"~2", "2.0.9", false, true},
      {"~2.4", "2.4.0", false, true},
      {"~2.4", "2.4.5", false, true},
      {"~>3.2.1", "3.2.2", false, true},
      {"~1", "1.2.3", false, true},
      {"~>1", "1.2.3", false, true},
      {"~> 1", "1.2.3", false, true},
      {"~1.0", "1.0.2", false, true},
      {"~ 1.0", "1.0.2", false, true},
      {"~ 1.0.3", "1.0.12", false, true},
      {">=1", "1.0.0", false, true},
      {">= 1", "1.0.0", false, true},
      {"<1.2", "1.1.1", false, true},
      {"< 1.2", "1.1.1", false, true},
      {"~v0.5.4-pre", "0.5.5", false, true},
      {"~v0.5.4-pre", "0.5.4", false, true},
      {"=0.7.x", "0.7.2", false, true},
      {"<=0.7.x", "0.7.2", false, true},
      {">=0.7.x", "0.7.2", false, true},
      {"<=0.7.x", "0.6.2", false, true},
      {"~1.2.1 >=1.2.3", "1.2.3", false, true},
      {"~1.2.1 =1.2.3", "1.2.3", false, true},
      {"~1.2.1 1.2.3", "1.2.3", false, true},
      {"~1.2.1 >=1.2.3 1.2.3", "1.2.3", false, true},
      {"~1.2.1 1.2.3 >=1.2.3", "1.2.3", false, true},
      {">=1.2.1 1.2.3", "1.2.3", false, true},
      {"1.2.3 >=1.2.1", "1.2.3", false, true},
      {">=1.2.3 >=1.2.1", "1.2.3", false, true},
      {">=1.2.1 >=1.2.3", "1.2.3", false, true},
      {">=1.2", "1.2.8", false, true},
      {"^1.2.3", "1.8.1", false, true},
      {"^0.1.2", "0.1.2", false, true},
      {"^0.1", "0.1.2", false, true},
      {"^0.0.1", "0.0.1", false, true},
      {"^1.2", "1.4.2", false, true},
      {"^1.2 ^1", "1.4.2", false, true},
      {"^1.2.3-alpha", "1.2.3-pre", false, true},
      {"^1.2.0-alpha", "1.2.0-pre", false, true},
      {"^0.0.1-alpha", "0.0.1-beta", false, true},
      {"^0.0.1-alpha", "0.0.1", false, true},
      {"^0.1.1-alpha", "0.1.1-beta", false, true},
      {"^x", "1.2.3", false, true},
      {"x - 1.0.0", "0.9.7", false, true},
      {"x - 1.x", "0.9.7", false, true},
      {"1.0.0 - x", "1.9.7", false, true},
      {"1.x - x", "1.9.7", false, true},
      {"<=7.x", "7.9.9", false, true},
      {"2.x", "2.0.0-pre.0", true, true},
      {"2.x", "2.1.0-pre.0", true, true},
      {"1.1.x", "1.1.0-a", true, true},
      {"1.1.x", "1.1.1-a", true, true},
      {"*", "1.0.0-rc1", true, true},
      {"^1.0.0-0", "1.0.1-rc1", true, true},
      {"^1.0.0-rc2", "1.0.1-rc1", true, true},
      {"^1.0.0", "1.0.1-rc1", true, true},
      {"^1.0.0", "1.1.0-rc1", true, true},
      {"1 - 2", "2.0.0-pre", true, true},
      {"1 - 2", "1.0.0-pre", true, true},
      {"1.0 - 2", "1.0.0-pre", true, true},
      {"=0.7.x", "0.7.0-asdf", true, true},
      {">=0.7.x", "0.7.0-asdf", true, true},
      {"<=0.7.x", "0.7.0-asdf", true, true},
      {">=1.0.0 <=1.1.0", "1.1.0-pre", true, true},
      {"1.0.0 - 2.0.0", "2.2.3", false, false},
      {"1.2.3+asdf - 2.4.3+asdf", "1.2.3-pre.2", false, false},
      {"1.2.3+asdf - 2.4.3+asdf", "2.4.3-alpha", false, false},
      {"^1.2.3+build", "2.0.0", false, false},
      {"^1.2.3+build", "1.2.0", false, false},
      {"^1.2.3", "1.2.3-pre", false, false},
      {"^1.2", "1.2.0-pre", false, false},
      {">1.2", "1.3.0-beta", false, false},
      {"<=1.2.3", "1.2.3-beta", false, false},
      {"^1.2.3", "1.2.3-beta", false, false},
      {"=0.7.x", "0.7.0-asdf", false, false},
      {">=0.7.x", "0.7.0-asdf", false, false},
      {"<=0.7.x", "0.7.0-asdf", false, false},
      {"1.0.0", "1.0.1", false, false},
      {">=1.0.0", "0.0.0", false, false},
      {">=1.0.0", "0.0.1", false, false},
      {">=1.0.0", "0.1.0", false, false},
      {">1.0.0", "0.0.1", false, false},
      {">1.0.0", "0.1.0", false, false},
      {"<=2.0.0", "3.0.0", false, false},
      {"<=2.0.0", "2.9999.9999", false, false},
      {"<=2.0.0", "2.2.9", false, false},
      {"<2.0.0", "2.9999.9999", false, false},
      {"<2.0.0", "2.2.9", false, false},
      {">=0.1.97", "v0.1.93", false, false},
      {">=0.1.97", "0.1.93", false, false},
      {"0.1.20 || 1.2.4", "1.2.3", false, false},
      {">=0.2.3 || <0.0.1", "0.0.3", false, false},
      {">=0.2.3 || <0.0.1", "0.2.2", false, false},
      {"2.x.x", "1.1.3", false, false},
      {"2.x.x", "3.1.3", false, false},
      {"1.2.x", "1.3.3", false, false},
      {"1.2.x || 2.x", "3.1.3", false, false},
      {"1.2.x || 2.x", "1.1.3", false, false},
      {"2.*.*", "1.1.3", false, false},
      {"2.*.*", "3.1.3", false, false},
      {"1.2.*", "1.3.3", false, false},
      {"1.2.* || 2.*", "3.1.3", false, false},
      {"1.2.* || 2.*", "1.1.3", false, false},
      {"2", "1.1.2", false, false},
      {"2.3", "2.4.1", false, false},
      {"~0.0.1", "0.1.0-alpha", false, false},
      {"~0.0.1", "0.1.0", false, false},
      {"~2.4", "2.5.0", false, false},
      {"~2.4", "2.3.9", false, false},
      {"~>3.2.1", "3.3.2", false, false},
      {"~>3.2.1", "3.2.0", false, false},
      {"~1", "0.2.3", false, false},
      {"~>1", "2.2.3", false, false},
      {"~1.0", "1.1.0", false, false},
      {"<1", "1.0.0", false, false},
      {">=1.2", "1.1.1", false, false},
      {"~v0.5.4-beta", "0.5.4-alpha", false, false},
      {"=0.7.x", "0.8.2", false, false},
      {">=0.7.x", "0.6.2", false, false},
      {"<0.7.x", "0.7.2", false, false},
      {"<1.2.3", "1.2.3-beta", false, false},
      {"=1.2.3", "1.2.3-beta", false, false},
      {">1.2", "1.2.8", false, false},
      {"^0.0.1", "0.0.2-alpha", false, false},
      {"^0.0.1", "0.0.2", false, false},
      {"^1.2.3", "2.0.0-alpha", false, false},
      {"^1.2.3", "1.2.2", false, false},
      {"^1.2", "1.1.9", false, false},
      {"*", "v1.2.3-foo", false, false},
      {"2.x", "3.0.0-pre.0", true, false},
      {"^1.0.0", "1.0.0-rc1", true, false},
      {"^1.0.0", "2.0.0-rc1", true, false},
      {"^1.2.3-rc2", "2.0.0", true, false},
      {"^1.0.0", "2.0.0-rc1", false, false},
      {"1 - 2", "3.0.0-pre", true, false},
      {"1 - 2", "2.0.0-pre", false, false},
      {"1 - 2", "1.0.0-pre", false, false},
      {"1.0 - 2", "1.0.0-pre", false, false},
      {"1.1.x", "1.0.0-a", false, false},
      {"1.1.x", "1.1.0-a", false, false},
      {"1.1.x", "1.2.0-a", false, false},
      {"1.1.x", "1.2.0-a", true, false},
      {"1.1.x", "1.0.0-a", true, false},
      {"1.x", "1.0.0-a", false, false},
      {"1.x", "1.1.0-a", false, false},
      {"1.x", "1.2.0-a", false, false},
      {"1.x", "0.0.0-a", true, false},
      {"1.x", "2.0.0-a", true, false},
      {">=1.0.0 <1.1.0", "1.1.0", false, false},
      {">=1.0.0 <1.1.0", "1.1.0", true, false},
      {">=1.0.0 <1.1.0", "1.1.0-pre", false, false},
      {">=1.0.0 <1.1.0-pre", "1.1.0-pre", false, false},
      {"^1.2.3-rc.1", "1.2.3-rc.2", false, true},
      {"^1.2.3-rc.1", "1.2.4-alpha", false, false},
      {"^1.2.3-rc.1", "1.2.4-alpha", true, true},
      {">=1.2.3-rc.1 <1.2.4", "1.2.3-rc.0", false, false},
      {"1.2.3-rc.1 || 2.x", "1.2.3-rc.1", false, true},
      {"* || 1.2.3-rc.1", "1.2.3-rc.1", false, false},
      {"* || 1.2.3-rc.1", "1.2.3-rc.1", true, true},
      {">=16", "21.0.0-nightly2023", true, true},
      {">=16", "21.0.0-nightly2023", false, false},
      {">=16.0.0", "16.0.0-rc.1", true, false},
      {">=16", "16.0.0-rc.1", true, true},
      {"^1.2.3", "1.2.3-rc.1", true, false},
      {"^0.2.3", "0.2.3-rc.1", true, false},
      {"~1.2.3", "1.2.3-rc.1", true, false},
      {"~1.2", "1.2.0-rc.1", true, true},
      {"1.2.3 - 2", "1.2.3-rc.1", true, true},
      {"<2", "2.0.0-0", false, false},
      {"<2", "1.9.0-rc.1", true, true},
      {"<=2", "2.9.9", false, true},
      {"<=2", "3.0.0-0", true, false},
      {">2", "3.0.0-0", true, true},
      {">2", "2.9.9", false, false},
      {"1.2.3*", "1.2.3", false, true},
      {"*1.2.3", "1.2.3", false, true},
      {"^0.0.x", "0.0.5", false, true},
      {"^0.0.x", "0.1.0", false, false},
      {"^0.x", "0.9.9", false, true},
      {"^0.x", "1.0.0", false, false},
      {"^1.x", "1.9.9", false, true},
      {"^1.x", "2.0.0", false, false},
      {"^0.0.3", "0.0.3", false, true},
      {"^0.0.3", "0.0.4", false, false},
      {"^0.2.3", "0.2.9", false, true},
      {"^0.2.3", "0.3.0", false, false},
      {"~1", "1.9.9", false, true},
      {"~1", "2.0.0", false, false},
      {"1.2.3 - 2.3.4", "2.3.4", false, true},
      {"1.2.3 - 2.3.4", "2.3.5", false, false},
      {"1.2 - 2.3", "2.3.9", false, true},
      {"1.2 - 2.3", "2.4.0", false, false},
      {"1.2 - 2.3", "1.1.9", false, false},
      {"1.2.3 - 2.3.4", "2.3.4+build", false, true},
      {"=1.2.3", "1.2.3+build", false, true},
      {"v1.2.3", "1.2.3", false, true},
      {"=v1.2.3", "1.2.3", false, true},
      {">=1.2.3 <1.2.3", "1.2.3", false, false},
      {"<0.0.0-0", "0.0.0-0", true, false},
      {">=0.0.0", "0.0.0-alpha", true, false},
      {">=0.0.0-0", "0.0.0-alpha", true, true},
      {"^20.0.0 || ^22.0.0", "21.1.0", false, false},
      {"^20.0.0 || ^22.0.0", "22.11.0", false, true},
       }) {
    CAPTURE(r.range, r.version, r.include_prerelease);
    auto range = Range::parse(r.range);
    REQUIRE(range);
    CHECK(range->satisfies(V(r.version), r.include_prerelease) == r.ok);
  }
}

TEST_CASE("max_satisfying and min_satisfying") {
  struct Row {
    const char* versions;
    const char* range;
    const char* max;  // nullptr: none
    const char* min;
  };
  // node: semver.maxSatisfying / minSatisfying(versions, range); the first wins among equals.
  for (auto r : std::initializer_list<Row>{
      {"1.2.3 1.2.4", "1.2", "1.2.4", "1.2.3"},
      {"1.2.4 1.2.3", "1.2", "1.2.4", "1.2.3"},
      {"1.2.3 1.2.4 1.2.5 1.2.6", "~1.2.3", "1.2.6", "1.2.3"},
      {"1.1.0 1.2.0 1.2.1 1.3.0 2.0.0-b1 2.0.0-b2 2.0.0-b3 2.0.0 2.1.0", "~2.0.0", "2.0.0", "2.0.0"},
      {"1.0.0 2.0.0-rc.1 1.5.0", ">=1.0.0", "1.5.0", "1.0.0"},
      {"0.9.0 3.0.0", "^1", nullptr, nullptr},
      {"1.2.3+a 1.2.3+b", "1.2.3", "1.2.3+a", "1.2.3+a"},
      {"2.0.0-rc.1 2.0.0-rc.2 1.9.0", "^2.0.0-rc.1", "2.0.0-rc.2", "2.0.0-rc.1"},
      {"0.1.0 0.1.5 0.2.0", "^0.1.0", "0.1.5", "0.1.0"},

       }) {
    CAPTURE(r.versions, r.range);
    auto texts = words(r.versions);
    std::vector<Version> vs;
    for (auto& t : texts) vs.push_back(V(t));
    auto range = Range::parse(r.range);
    REQUIRE(range);
    auto text_of = [&](const Version* v) -> std::optional<std::string> {
      if (!v) return std::nullopt;
      return texts[size_t(v - vs.data())];
    };
    auto want = [](const char* s) { return s ? std::optional<std::string>(s) : std::nullopt; };
    CHECK(text_of(max_satisfying(vs, *range)) == want(r.max));
    CHECK(text_of(min_satisfying(vs, *range)) == want(r.min));
  }
  std::vector<Version> pre{V("1.0.0"), V("1.1.0-rc.1")};
  CHECK(max_satisfying(pre, *Range::parse("^1.0.0"), true) == &pre[1]);
  CHECK(max_satisfying({}, *Range::parse("*")) == nullptr);
}

TEST_CASE("Hostile ranges are rejected or cheap") {
  CHECK_FALSE(Range::parse(std::string(kSemverMaxRangeLength + 1, ' ')));
  std::string bars;
  while (bars.size() + 2 <= kSemverMaxRangeLength) bars += "||";
  auto any = Range::parse(bars);
  REQUIRE(any);
  CHECK(any->str().empty());
  std::string many;
  while (many.size() + 8 <= kSemverMaxRangeLength) many += ">=1.2.3 ";
  auto dup = Range::parse(many);
  REQUIRE(dup);
  CHECK(dup->str() == ">=1.2.3");
  CHECK_FALSE(Range::parse("^" + std::string(300, '1')));
  CHECK_FALSE(Range::parse(std::string("1.2.3\0", 6)));
}

TEST_CASE("semver_satisfies answers as pnpm's engines check (includePrerelease)") {
  struct Row {
    const char* version;
    const char* range;
    bool ok;
  };
  // node: semver.satisfies(version, range, {includePrerelease: true}); invalid input is false.
  for (auto r : {Row{"20.20.2", ">=14", true}, Row{"v20.20.2", "^18 || ^20", true},
                 Row{"21.0.0-nightly20230101", "^14.18.0 || >=16.0.0", true}, Row{"22.0.0-rc.1", ">=22.0.0", false},
                 Row{"22.0.0-rc.1", ">=22", true}, Row{"20.20.2", "latest", false}, Row{"not-a-version", "*", false},
                 Row{"20.20.2", "", true}, Row{"12.21.0", ">=9", true}, Row{"12.21.0", "^10 || ^11", false}}) {
    CAPTURE(r.version, r.range);
    CHECK(semver_satisfies(r.version, r.range) == r.ok);
  }
}

TEST_CASE("Range::intersects: some version satisfies both (pnpm's override target match)") {
  struct Row {
    const char *a, *b;
    bool want;
  };
  for (auto& r : {Row{"^1", "~1.1", true}, Row{"^1.0.0", "^2.0.0", false}, Row{"<1.0.0", ">=1.0.0", false},
                  Row{"<=1.0.0", ">=1.0.0", true}, Row{"1.2.3", "^1.2.0", true}, Row{"1.2.3", "1.2.4", false},
                  Row{"*", "^5", true}, Row{"^1 || ^3", "3.1.0", true}, Row{"^1 || ^3", "2.x", false},
                  Row{">1.0.0 <1.0.1", "1.0.0", false}}) {
    CAPTURE(r.a, r.b);
    auto a = Range::parse(r.a), b = Range::parse(r.b);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->intersects(*b) == r.want);
    CHECK(b->intersects(*a) == r.want);
  }
}
