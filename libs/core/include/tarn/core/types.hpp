#pragma once
// One type per string meaning. Each has a validating parse; bare strings do not cross
// library boundaries.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/core/error.hpp"

namespace tarn {

// An npm package name ("lodash", "@babel/core"). Safe to use as a path under node_modules.
class PkgName {
 public:
  PkgName() = default;
  static Result<PkgName> parse(std::string_view s);
  const std::string& str() const { return s_; }
  bool scoped() const { return !s_.empty() && s_[0] == '@'; }
  std::string_view scope() const;  // "@babel" or ""
  std::string_view bare() const;   // "core"
  bool operator==(const PkgName& o) const { return s_ == o.s_; }
  bool operator<(const PkgName& o) const { return s_ < o.s_; }

 private:
  std::string s_;
};

// A lockfile snapshot key: name@version with an optional peer suffix,
// e.g. "react-dom@16.14.0(react@16.14.0)".
class DepPath {
 public:
  DepPath() = default;
  static Result<DepPath> parse(std::string_view s);
  static Result<DepPath> from_parts(const PkgName& name, std::string_view version_and_peers);
  const std::string& str() const { return s_; }
  const PkgName& name() const { return name_; }
  std::string_view version() const;        // "16.14.0"
  std::string_view peers() const;          // "(react@16.14.0)" or ""
  std::string_view without_peers() const;  // "react-dom@16.14.0": the packages: key
  bool operator==(const DepPath& o) const { return s_ == o.s_; }

 private:
  std::string s_;
  PkgName name_;
  size_t version_begin_ = 0, version_end_ = 0;
};

// Subresource integrity ("sha512-<base64>"); the strongest hash of a multi-hash string.
class Integrity {
 public:
  enum class Algo { Sha1, Sha256, Sha384, Sha512 };
  Integrity() = default;
  static Result<Integrity> parse(std::string_view s);
  Algo algo() const { return algo_; }
  std::string_view algo_name() const;
  const std::vector<uint8_t>& digest() const { return digest_; }
  std::string hex() const;
  std::string base64() const;
  std::string str() const;  // "<algo>-<base64>"
  bool operator==(const Integrity& o) const { return algo_ == o.algo_ && digest_ == o.digest_; }
  static std::string to_base64(const uint8_t* p, size_t n);

 private:
  Algo algo_ = Algo::Sha512;
  std::vector<uint8_t> digest_;
};

// The directory name of a snapshot under node_modules/.pnpm, as pnpm derives it.
class SlotName {
 public:
  // pnpm's virtualStoreDirMaxLength default on Linux.
  static constexpr size_t kDefaultMaxLength = 120;
  static SlotName from(const DepPath& p, size_t max_length = kDefaultMaxLength);
  static SlotName from_text(std::string_view dep_path, size_t max_length = kDefaultMaxLength);
  const std::string& str() const { return s_; }
  bool operator==(const SlotName& o) const { return s_ == o.s_; }

 private:
  std::string s_;
};

// Store address of one package.
class StoreKey {
 public:
  StoreKey() = default;
  static StoreKey from_integrity(const Integrity& i);
  // For resolutions without an integrity (a bare tarball URL): keyed by the URL text.
  static StoreKey from_url(std::string_view url);
  // For a git resolution: its repository, commit and path inside the repository.
  static StoreKey from_git(std::string_view repo, std::string_view commit, std::string_view path);
  const std::string& rel() const { return rel_; }  // "ab/cdef...-sha512"

 private:
  std::string rel_;
};

// A string with one meaning, distinct in the type system from every other (a tarball URL
// cannot be passed where a path is wanted).
template <class Tag>
class Named {
 public:
  Named() = default;
  explicit Named(std::string s) : s_(std::move(s)) {}
  const std::string& str() const { return s_; }
  bool empty() const { return s_.empty(); }
  bool operator==(const Named& o) const { return s_ == o.s_; }
  bool operator<(const Named& o) const { return s_ < o.s_; }

 private:
  std::string s_;
};

// Where a package's tarball is downloaded from.
using TarballUrl = Named<struct TarballUrlTag>;

// A lockfile importer: the project's path relative to the workspace root, "." for the root.
class ImporterId {
 public:
  ImporterId() = default;
  explicit ImporterId(std::string s) : s_(std::move(s)) {}
  const std::string& str() const { return s_; }
  bool is_root() const { return s_ == "."; }
  bool operator==(const ImporterId& o) const { return s_ == o.s_; }
  bool operator<(const ImporterId& o) const { return s_ < o.s_; }

 private:
  std::string s_ = ".";
};

}  // namespace tarn

template <>
struct std::hash<tarn::PkgName> {
  size_t operator()(const tarn::PkgName& n) const noexcept { return std::hash<std::string>{}(n.str()); }
};
template <>
struct std::hash<tarn::DepPath> {
  size_t operator()(const tarn::DepPath& n) const noexcept { return std::hash<std::string>{}(n.str()); }
};
