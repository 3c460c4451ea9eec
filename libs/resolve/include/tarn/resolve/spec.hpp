#pragma once
// What a dependency asks for, parsed from its package.json specifier the way pnpm's
// parse-bare-specifier does: a registry version, range or dist-tag (possibly under an
// npm: alias), a workspace package, a link or file path, a tarball URL, or a git repo.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/core/error.hpp"
#include "tarn/core/semver.hpp"
#include "tarn/core/types.hpp"

namespace tarn::resolve {

struct WantedSpec {
  enum class Kind { Version, Range, Tag, Workspace, Link, File, Tarball, Git };
  Kind kind = Kind::Range;
  PkgName name;       // the package to fetch: the alias, or the name after "npm:"
  bool aliased = false;  // "npm:<name>@<spec>"
  std::string text;   // Version/Range: the range text ("" means "*"); Tag: the tag;
                      // Workspace: what follows "workspace:"; Link/File: the path; Tarball/Git: the URL
  std::optional<Range> range;  // Version and Range
  std::vector<Range> also;     // more ranges a pick must satisfy (a peer several packages want)
  bool satisfied_by(const Version& v) const;

  // Parses `spec` as written under `alias` in a manifest. Errors name the alias.
  static Result<WantedSpec> parse(const PkgName& alias, std::string_view spec);
  bool is_registry() const { return kind == Kind::Version || kind == Kind::Range || kind == Kind::Tag; }
};

}  // namespace tarn::resolve
