#pragma once
// Finding a workspace and its projects as pnpm does: the root is the nearest directory
// with pnpm-workspace.yaml (else the nearest package.json), the projects are the
// directories its `packages` globs select.
#include <string>
#include <vector>

#include "tarn/core/error.hpp"
#include "tarn/lockfile/manifest.hpp"

namespace tarn::workspace {

// pnpm looks upwards for pnpm-workspace.yaml; without one, the nearest package.json marks
// the project; without either, `start` itself.
std::string find_root(const std::string& start);

// The directories under `root` (relative, sorted) that hold a package.json and that
// pnpm-workspace.yaml's `packages` globs select ("!" globs exclude). node_modules and
// dot directories are never entered.
std::vector<std::string> project_dirs(const std::string& root, const std::vector<std::string>& globs);

// One project as a recursive command reads it.
struct LoadedProject {
  std::string dir;  // absolute
  std::string rel;  // relative to the root ("" for the root)
  std::string manifest_text;
  Manifest manifest;
};

// The root's project then every project_dirs() one, their package.json read and parsed.
Result<std::vector<LoadedProject>> load_projects(const std::string& root, const std::vector<std::string>& globs);

}  // namespace tarn::workspace
