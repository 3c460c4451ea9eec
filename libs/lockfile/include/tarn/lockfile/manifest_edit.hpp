#pragma once
// Editing package.json as `pnpm add` / `remove` / `update` do: the document keeps its key
// order, its indentation unit and whether it ends with a newline; dependency fields are
// sorted by name and dropped when empty; the file is replaced atomically.
#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "tarn/core/error.hpp"
#include "tarn/lockfile/lockfile.hpp"

namespace tarn {

class ManifestDoc {
 public:
  static Result<ManifestDoc> parse(std::string_view text, const std::string& path);
  static Result<ManifestDoc> load(const std::string& path);

  // The group that declares `alias` (optionalDependencies, dependencies, devDependencies,
  // in pnpm's guess order), if any.
  std::optional<DepGroup> group_of(const std::string& alias) const;
  std::optional<std::string> spec_of(const std::string& alias) const;
  // Writes `alias: spec` into `group` and removes the alias from the other two groups.
  void set(DepGroup group, const std::string& alias, const std::string& spec);
  void set_peer(const std::string& alias, const std::string& spec);
  // Removes `alias` from every dependency field, peerDependencies included; false when no
  // field had it.
  bool remove(const std::string& alias);

  // pnpm's serialization: JSON.stringify-like with the source's indent unit.
  std::string render() const;
  Result<void> save(const std::string& path) const;

 private:
  boost::json::value doc_;
  std::string indent_;
  bool final_newline_ = true;
};

}  // namespace tarn
