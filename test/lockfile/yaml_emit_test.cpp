// The lockfile emitter's rules, one table per rule: scalar quoting (js-yaml under pnpm's
// options), key order (pnpm's lockfile sort) and layout. Expected values come from pnpm
// 12's yaml_emit.rs and its tests, and from lockfiles pnpm 12.21 wrote.
#include <catch2/catch.hpp>

#include "tarn/lockfile/yaml_value.hpp"

using namespace tarn;

namespace {

struct ScalarRow {
  std::string in, out;
  bool single_line = false;
  bool in_block = true;
  size_t level = 0;
};

std::vector<std::string> keys_of(const YamlValue& map) {
  std::vector<std::string> out;
  for (auto& [k, v] : map.entries) out.push_back(k);
  return out;
}

YamlValue map_with_keys(const std::vector<std::string>& keys) {
  YamlValue m = YamlValue::map();
  for (auto& k : keys) m.add(k, YamlValue::string("x"));
  return m;
}

}  // namespace

TEST_CASE("yaml: plain scalars stay plain, ambiguous ones are single-quoted") {
  for (auto& r : std::vector<ScalarRow>{
           {"1.0.0", "1.0.0"},
           {"11.5.2", "11.5.2"},
           {"9.0", "'9.0'"},                // a float
           {"1.", "'1.'"},                  // a float too
           {".5", "'.5'"},
           {"1e3", "'1e3'"},
           {"-.inf", "'-.inf'"},
           {".NaN", "'.NaN'"},
           {"0", "'0'"},
           {"012", "'012'"},
           {"+1", "'+1'"},
           {"0x1F", "'0x1F'"},
           {"0o17", "'0o17'"},
           {"0b101", "'0b101'"},
           {"1_000", "'1_000'"},
           {"1_", "1_"},                    // ends in '_': neither int nor float
           {"true", "'true'"},
           {"False", "'False'"},
           {"null", "'null'"},
           {"~", "'~'"},
           {"<<", "'<<'"},
           {"yes", "yes"},                  // YAML 1.1 booleans are plain in the core schema
           {"no", "no"},
           {"2021-01-01", "'2021-01-01'"},  // a date
           {"2024-02-23T22:24:13.654000+00:00", "'2024-02-23T22:24:13.654000+00:00'"},
           {"2024-2-3 1:02:03", "'2024-2-3 1:02:03'"},
           {"2024-02-23T22:24", "2024-02-23T22:24"},  // no seconds: not a timestamp
           {"", "''"},
           {"latest", "latest"},
           {"1.0.0-rc.1", "1.0.0-rc.1"},
           {"^8.16.0 || ^10.6.0 || >=11.0.0", "^8.16.0 || ^10.6.0 || >=11.0.0"},
           {"sha512-abc+/==", "sha512-abc+/=="},
           {"link:../a", "link:../a"},
           {"file:packages/p1/dist(react@18.2.0)", "file:packages/p1/dist(react@18.2.0)"},
           {"https://x.test/a.tgz?v=1#frag", "https://x.test/a.tgz?v=1#frag"},
           {"caf\xc3\xa9", "caf\xc3\xa9"},
       }) {
    CAPTURE(r.in);
    CHECK(lockyaml::scalar(r.in, r.level, r.single_line, r.in_block) == r.out);
  }
}

TEST_CASE("yaml: indicators, ': ', ' #', and edge blanks force single quotes") {
  for (auto& r : std::vector<ScalarRow>{
           {">=10", "'>=10'"},
           {"@scope/pkg@1.0.0", "'@scope/pkg@1.0.0'"},
           {"*", "'*'"},
           {"-foo", "'-foo'"},
           {"?x", "'?x'"},
           {"!x", "'!x'"},
           {"&x", "'&x'"},
           {"%x", "'%x'"},
           {"`x", "'`x'"},
           {"|x", "'|x'"},
           {"=x", "'=x'"},
           {"[x]", "'[x]'"},
           {"{x}", "'{x}'"},
           {"#x", "'#x'"},
           {"\"x\"", "'\"x\"'"},
           {"'x", "'''x'"},                 // quotes double inside single quotes
           {"it's", "it's"},                // not first: plain
           {"catalog:", "'catalog:'"},      // ends in ':'
           {"a: b", "'a: b'"},
           {"a:b", "a:b"},
           {"a #b", "'a #b'"},
           {"a#b", "a#b"},
           {" lead", "' lead'"},
           {"trail ", "'trail '"},
           {"Use x: now", "'Use x: now'"},
       }) {
    CAPTURE(r.in);
    CHECK(lockyaml::scalar(r.in, r.level, r.single_line, r.in_block) == r.out);
  }
}

TEST_CASE("yaml: flow context quotes ',[]{}'; non-printables go double-quoted") {
  for (auto& r : std::vector<ScalarRow>{
           {"a,b", "a,b", false, true},
           {"a,b", "'a,b'", false, false},
           {"a]b", "'a]b'", false, false},
           {"a{b", "'a{b'", true, false},
           {"tab\there", "\"tab\\there\""},
           {"bell\x07", "\"bell\\a\""},
           {"del\x7f", "\"del\\x7F\""},
           {"nbsp\xc2\xa0", "\"nbsp\\_\""},
           {"bom\xef\xbb\xbf", "\"bom\\uFEFF\""},
           {"cr\r", "\"cr\\r\""},
           {"q\"\\\x01", "\"q\\\"\\\\\\x01\""},
           {"line\nbreak", "\"line\\nbreak\"", true},  // keys and one-line flows
       }) {
    CAPTURE(r.in);
    CHECK(lockyaml::scalar(r.in, r.level, r.single_line, r.in_block) == r.out);
  }
}

TEST_CASE("yaml: multi-line strings are literal blocks indented by their level") {
  for (auto& r : std::vector<ScalarRow>{
           {"line\nbreak", "|-\n  line\n  break"},
           {"line\nbreak", "|-\n      line\n      break", false, true, 3},
           {"end\n", "|\n  end"},
           {"keep\n\n", "|+\n  keep\n"},
           {"\n", "|+\n"},
           {" lead\nx", "|2-\n   lead\n  x"},
           {"a\n\nb", "|-\n  a\n\n  b"},
       }) {
    CAPTURE(r.in);
    CHECK(lockyaml::scalar(r.in, r.level, r.single_line, r.in_block) == r.out);
  }
}

TEST_CASE("yaml: the root keys follow pnpm's priority, then byte order") {
  YamlValue root = map_with_keys({"time", "snapshots", "ignoredOptionalDependencies", "packages", "importers",
                                  "patchedDependencies", "pnpmfileChecksum", "packageExtensionsChecksum", "overrides",
                                  "catalogs", "settings", "lockfileVersion"});
  CHECK(keys_of(lockyaml::sort_lockfile_keys(root)) ==
        std::vector<std::string>{"lockfileVersion", "settings", "catalogs", "overrides", "packageExtensionsChecksum",
                                 "pnpmfileChecksum", "patchedDependencies", "importers", "packages",
                                 "ignoredOptionalDependencies", "snapshots", "time"});
}

TEST_CASE("yaml: section entries and the fields inside them are ordered as pnpm orders them") {
  struct Row {
    const char* section;
    std::vector<std::string> in, out;
  };
  for (auto& r : std::vector<Row>{
           // Entry keys: byte order ('-' 0x2D sorts before '@' 0x40, '@' before letters).
           {"packages", {"react@1.0.0", "react-dom@1.0.0", "@types/node@1.0.0", "a@1.0.0"},
            {"@types/node@1.0.0", "a@1.0.0", "react-dom@1.0.0", "react@1.0.0"}},
           {"time", {"z@1", "\xc3\xa9@1", "a@1"}, {"a@1", "z@1", "\xc3\xa9@1"}},
           {"patchedDependencies", {"b@1", "a@1"}, {"a@1", "b@1"}},
           {"catalogs", {"legacy", "default"}, {"default", "legacy"}},
           {"overrides", {"z", "a"}, {"z", "a"}},  // declared order
           {"settings", {"excludeLinksFromLockfile", "autoInstallPeers"}, {"excludeLinksFromLockfile", "autoInstallPeers"}},
       }) {
    CAPTURE(r.section);
    YamlValue root = YamlValue::map();
    root.add(r.section, map_with_keys(r.in));
    CHECK(keys_of(*lockyaml::sort_lockfile_keys(root).get(r.section)) == r.out);
  }
}

TEST_CASE("yaml: package, snapshot and importer fields, at every depth") {
  struct Row {
    const char* section;
    std::vector<std::string> in, out;
  };
  for (auto& r : std::vector<Row>{
           {"packages",
            {"peerDependenciesMeta", "bundledDependencies", "hasBin", "zzz", "peerDependencies", "deprecated", "libc",
             "os", "cpu", "engines", "version", "prepare", "resolution"},
            {"resolution", "version", "engines", "cpu", "os", "libc", "deprecated", "hasBin", "prepare",
             "peerDependencies", "peerDependenciesMeta", "bundledDependencies", "zzz"}},
           {"snapshots",
            {"optional", "patched", "transitivePeerDependencies", "optionalDependencies", "dependencies", "id"},
            {"id", "dependencies", "optionalDependencies", "transitivePeerDependencies", "optional", "patched"}},
           {"importers",
            {"publishDirectory", "optionalDependencies", "devDependencies", "dependenciesMeta", "dependencies"},
            {"dependencies", "dependenciesMeta", "devDependencies", "optionalDependencies", "publishDirectory"}},
       }) {
    CAPTURE(r.section);
    YamlValue root = YamlValue::map();
    root.add(r.section, YamlValue::map()).add("x@1.0.0", map_with_keys(r.in));
    CHECK(keys_of(*lockyaml::sort_lockfile_keys(root).get(r.section)->get("x@1.0.0")) == r.out);
  }
  // The priority applies inside nested maps too: a dependency named "os" or "resolution"
  // sorts before "debug", and an importer dependency named "settings" before "a".
  struct Nested {
    const char* section;
    const char* field;
    std::vector<std::string> in, out;
  };
  for (auto& r : std::vector<Nested>{
           {"snapshots", "dependencies", {"debug", "os", "a", "resolution"}, {"resolution", "os", "a", "debug"}},
           {"packages", "peerDependencies", {"version", "react"}, {"version", "react"}},
           {"packages", "peerDependencies", {"react", "version"}, {"version", "react"}},
           {"importers", "dependencies", {"a", "packages", "settings"}, {"settings", "packages", "a"}},
       }) {
    CAPTURE(r.section, r.field);
    YamlValue root = YamlValue::map();
    root.add(r.section, YamlValue::map()).add("x@1.0.0", YamlValue::map()).add(r.field, map_with_keys(r.in));
    auto sorted = lockyaml::sort_lockfile_keys(root);
    CHECK(keys_of(*sorted.get(r.section)->get("x@1.0.0")->get(r.field)) == r.out);
  }
}

TEST_CASE("yaml: layout of documents (pnpm 12's own emitter tests)") {
  auto doc = [](std::vector<std::pair<std::string, YamlValue>> entries) {
    YamlValue m = YamlValue::map();
    for (auto& [k, v] : entries) m.add(k, v);
    return m;
  };
  auto s = YamlValue::string;
  auto list = YamlValue::string_list;
  struct Row {
    YamlValue in;
    std::string out;
  };
  std::string long_key(1030, 'k'), key_1024(1024, 'k'), astral;
  for (int i = 0; i < 513; ++i) astral += "\xF0\x9F\x98\x80";  // 513 code points, 1026 UTF-16 units
  for (auto& r : std::vector<Row>{
           {doc({{"a", s("9.0")}, {"b", s("11.5.2")}, {"c", s("1.0.0")}}), "a: '9.0'\n\nb: 11.5.2\n\nc: 1.0.0\n"},
           {doc({{"hasBin", YamlValue::boolean(true)}, {"max", YamlValue::number("1000")}, {"n", YamlValue::null()}}),
            "hasBin: true\n\nmax: 1000\n\nn: null\n"},
           {doc({{"lockfileVersion", s("9.0")},
                 {"packages", doc({{"a@1.0.0", doc({{"x", YamlValue::number("1")}})},
                                   {"b@2.0.0", doc({{"y", YamlValue::number("2")}})}})}}),
            "lockfileVersion: '9.0'\n\npackages:\n\n  a@1.0.0:\n    x: 1\n\n  b@2.0.0:\n    y: 2\n"},
           {doc({{"resolution", doc({{"integrity", s("sha512-abc")}})},
                 {"engines", doc({{"node", s(">=10")}})},
                 {"cpu", list({"x64"})},
                 {"os", list({"darwin", "linux"})},
                 {"libc", s("musl")}}),
            "cpu: [x64]\n\nengines: {node: '>=10'}\n\nlibc: musl\n\nos: [darwin, linux]\n\n"
            "resolution: {integrity: sha512-abc}\n"},
           {doc({{"resolution", doc({{"type", s("variations")}, {"variants", list({"a"})}})}}),
            "resolution:\n  type: variations\n  variants:\n    - a\n"},
           {doc({{"x", doc({{"empty", YamlValue::map()}, {"none", YamlValue::seq()}, {"list", list({"a", "b"})}})}}),
            "x:\n  empty: {}\n  none: []\n  list:\n    - a\n    - b\n"},  // below the root: not sorted
           {doc({{"t", s("2021-01-01")}}), "t: '2021-01-01'\n"},
           {doc({{long_key, doc({{"b", s("c")}})}}), "? " + long_key + "\n: b: c\n"},
           {doc({{key_1024, doc({{"b", s("c")}})}}), key_1024 + ":\n  b: c\n"},
           {doc({{astral, doc({{"b", s("c")}})}}), "? " + astral + "\n: b: c\n"},
           {YamlValue::map(), "{}\n"},
       }) {
    CHECK(lockyaml::write_document(r.in) == r.out);
  }
}

TEST_CASE("yaml: plain scalars read back as the JSON values serde makes of them") {
  CHECK(lockyaml::plain_scalar("true") == YamlValue::boolean(true));
  CHECK(lockyaml::plain_scalar("FALSE") == YamlValue::boolean(false));
  CHECK(lockyaml::plain_scalar("~") == YamlValue::null());
  CHECK(lockyaml::plain_scalar("12") == YamlValue::number("12"));
  CHECK(lockyaml::plain_scalar("1.5") == YamlValue::number("1.5"));
  CHECK(lockyaml::plain_scalar("1.0.0") == YamlValue::string("1.0.0"));
  CHECK(lockyaml::plain_scalar("yes") == YamlValue::string("yes"));
}
