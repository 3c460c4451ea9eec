#pragma once
// A YAML value tree for the lockfile's open-ended parts (importers' dependenciesMeta,
// resolutions tarn has no typed form for), and the emitter pnpm 12 writes pnpm-lock.yaml
// with: a port of pnpm/crates/lockfile/src/yaml_emit.rs, itself a port of the
// @zkochan/js-yaml dumper (lineWidth -1, noRefs, noCompatMode, single quotes, blank lines
// between the entries of the top-level map and of importers/packages/snapshots).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tarn {

struct YamlValue {
  enum class Kind : uint8_t { Null, Bool, Number, String, Seq, Map };
  Kind kind = Kind::Null;
  bool flag = false;  // Bool
  std::string text;   // String: the text; Number: the digits as written
  std::vector<YamlValue> items;                           // Seq
  std::vector<std::pair<std::string, YamlValue>> entries;  // Map, in insertion order

  // Out of line: clang with libstdc++ rejects the implicit ones here, where `entries` names
  // a pair of the still-incomplete YamlValue.
  YamlValue();
  ~YamlValue();
  YamlValue(const YamlValue&);
  YamlValue(YamlValue&&) noexcept;
  YamlValue& operator=(const YamlValue&);
  YamlValue& operator=(YamlValue&&) noexcept;

  static YamlValue null();
  static YamlValue boolean(bool b);
  static YamlValue number(std::string digits);
  static YamlValue string(std::string s);
  static YamlValue seq();
  static YamlValue map();
  static YamlValue string_list(const std::vector<std::string>& xs);

  // Map: appends an entry (keys are not checked for duplicates); returns the new value.
  YamlValue& add(std::string key, YamlValue v);
  // Seq: appends an item.
  void push(YamlValue v);
  // Map: the value under `key`, or nullptr.
  const YamlValue* get(std::string_view key) const;
  YamlValue* get(std::string_view key);

  bool is_map() const { return kind == Kind::Map; }
  bool operator==(const YamlValue& o) const;
};

namespace lockyaml {

// pnpm's lockfile key sort followed by the js-yaml rendering, with the final newline:
// what pnpm 12 writes for one YAML document of pnpm-lock.yaml.
std::string write_document(YamlValue root);

// The key sort alone (importers/packages/snapshots/catalogs/time/patchedDependencies and
// the root keys), exposed for tests.
YamlValue sort_lockfile_keys(YamlValue root);

// One string scalar as js-yaml writes it: `level` is the indentation depth (used by
// literal blocks), `single_line` forces a one-line style (keys, flow maps of cpu/os/...),
// `in_block` is false inside flow collections, where ",[]{}" need quotes.
std::string scalar(std::string_view s, size_t level = 0, bool single_line = false, bool in_block = true);

// A plain (unquoted) scalar as a JSON value: null, bool and numbers where the core schema
// resolves them, else the string.
YamlValue plain_scalar(const std::string& s);

// Whether a plain scalar would read back as null, bool, int, float, timestamp or merge
// under the YAML 1.2 core schema js-yaml uses (so pnpm quotes it).
bool resolves_implicitly(std::string_view s);

}  // namespace lockyaml
}  // namespace tarn
