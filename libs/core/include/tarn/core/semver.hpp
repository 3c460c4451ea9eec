#pragma once
// node-semver (v7) versions and ranges, as pnpm evaluates them: the same grammar, the same
// desugaring of ^ ~ x-ranges and hyphen ranges, the same prerelease rule.
//
// Parse failures are std::optional, not Result: this layer cannot say which file or package
// held the bad text, and the code differs by caller (an invalid range in a manifest is
// BadPackageJson, an invalid engines range just makes a package not installable), so the
// caller builds the Error, as node-semver's own validRange() returns null.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tarn {

// node-semver's bounds: numbers past JavaScript's MAX_SAFE_INTEGER and versions longer than
// MAX_LENGTH are invalid. node-semver has no bound on ranges; 4 KiB keeps hostile manifests cheap.
inline constexpr uint64_t kSemverMaxSafeInteger = 9007199254740991ULL;
inline constexpr size_t kSemverMaxVersionLength = 256;
inline constexpr size_t kSemverMaxRangeLength = 4096;

class Version {
 public:
  struct Identifier {
    std::string text;      // as written; a numeric one never has a leading zero
    bool numeric = false;  // all digits: compares as a number, below any alphanumeric one
  };

  // Strict semver 2.0 ("1.2.3-rc.1+build"), after trimming whitespace, with the leading
  // "v" / "=" run node-semver's loose mode accepts ("v1.2.3", "=1.2.3"). Nothing else loose:
  // no leading zeros, no "1.2.3beta".
  static std::optional<Version> parse(std::string_view s);

  uint64_t major() const { return major_; }
  uint64_t minor() const { return minor_; }
  uint64_t patch() const { return patch_; }
  const std::vector<Identifier>& prerelease() const { return pre_; }
  const std::string& build() const { return build_; }  // without the '+'; ignored by compare
  bool is_prerelease() const { return !pre_.empty(); }

  // node-semver's `version`: "1.2.3-rc.1", no "v", no build metadata.
  std::string str() const;

  // Semver 2.0 precedence: -1, 0 or 1. Build metadata is ignored.
  int compare(const Version& other) const;
  friend bool operator==(const Version& a, const Version& b) { return a.compare(b) == 0; }
  // Weak: versions differing only in build metadata are equivalent, not identical.
  friend std::weak_ordering operator<=>(const Version& a, const Version& b) { return a.compare(b) <=> 0; }

 private:
  friend class Range;
  // node-semver's strict FULL form: an optional single "v" only (what a comparator accepts).
  static std::optional<Version> parse_strict(std::string_view s);

  uint64_t major_ = 0, minor_ = 0, patch_ = 0;
  std::vector<Identifier> pre_;
  std::string build_;
};

class Range {
 public:
  // "||" alternatives of space-separated comparators: primitives (< <= > >= =), x-ranges
  // ("1.x", "1.2.*", "*", ""), tilde, caret, hyphen ranges. Dist-tags ("latest") are invalid.
  // Valid exactly when node-semver's `new Range(s)` (without includePrerelease) is.
  static std::optional<Range> parse(std::string_view s);

  // node-semver's satisfies(). Without include_prerelease a prerelease version matches only if
  // a comparator of the same alternative names the same major.minor.patch with a prerelease.
  bool satisfies(const Version& v, bool include_prerelease = false) const;

  // node-semver's Range#range: the desugared comparators ("^1.2.3" -> ">=1.2.3 <2.0.0-0").
  std::string str() const;
  // Whether some version satisfies both (node_semver's Range::allows_any, which pnpm's
  // overrides use to match a target range against a declared one): interval overlap of the
  // desugared comparator sets, prerelease rules aside.
  bool intersects(const Range& other) const;

 private:
  struct Comparator {
    enum class Op : uint8_t { Any, Eq, Lt, Le, Gt, Ge };
    Op op = Op::Any;
    Version v;
    bool test(const Version& x) const;
    std::string str() const;
  };
  using Set = std::vector<Comparator>;
  static std::optional<std::vector<Set>> parse_sets(std::string_view s, bool include_prerelease);
  static std::optional<Set> parse_alternative(std::string_view part, bool include_prerelease);
  static std::optional<Comparator> parse_comparator(std::string_view text);
  static bool test_set(const Set& set, const Version& v, bool include_prerelease);

  // node-semver desugars differently with includePrerelease (lower bounds get "-0"), so each
  // flavour is kept as node-semver would build it. The second is empty when only that flavour
  // fails to parse (node-semver then matches nothing).
  std::vector<Set> sets_;
  std::optional<std::vector<Set>> sets_with_prerelease_;
};

// The highest (lowest) version in `versions` satisfying `range`, or nullptr; the first one wins
// among equal versions, as in node-semver. A resolver needs both: pnpm's resolution-mode is
// `highest` or `lowest-direct`.
const Version* max_satisfying(std::span<const Version> versions, const Range& range,
                              bool include_prerelease = false);
const Version* min_satisfying(std::span<const Version> versions, const Range& range,
                              bool include_prerelease = false);

// Whether `version` satisfies `range`, as pnpm's engines check asks it: includePrerelease, so a
// nightly node (21.0.0-nightly...) satisfies ">=16". False when either fails to parse.
bool semver_satisfies(std::string_view version, std::string_view range);

}  // namespace tarn
