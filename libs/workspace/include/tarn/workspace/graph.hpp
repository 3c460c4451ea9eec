#pragma once
// The workspace's dependency graph between its own projects, as pnpm's
// workspace-projects-graph builds it for --filter and for ordering recursive commands.
// A project's edge points at the sibling a dependency resolves to: by path (file:, link:,
// a relative path, or workspace:<path>), or by name and version (workspace:<range>, or a
// bare range when linkWorkspacePackages is on). Anything else (a registry-only range by
// default, a tag, git, npm: aliases) makes no edge.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tarn/lockfile/manifest.hpp"

namespace tarn::workspace {

struct ProjectInfo {
  std::string dir;            // absolute and normalised: the project's identity
  std::string name, version;  // "" when package.json has none
  // package.json's groups, each in file order.
  std::vector<std::pair<std::string, std::string>> dependencies, dev_dependencies, optional_dependencies,
      peer_dependencies;

  static ProjectInfo from_manifest(std::string dir, const Manifest& m);
};

struct GraphOptions {
  bool ignore_dev_deps = false;          // --filter-prod's graph follows production edges only
  bool link_workspace_packages = false;  // pnpm's linkWorkspacePackages (default false)
};

struct Graph {
  std::vector<ProjectInfo> projects;      // in discovery order: the root first, then by directory
  std::vector<std::vector<size_t>> deps;  // per project: the siblings it depends on, in manifest order

  std::optional<size_t> find_dir(std::string_view dir) const;
  size_t size() const { return projects.size(); }
};

Graph make_graph(std::vector<ProjectInfo> projects, const GraphOptions& o = {});

// pnpm's merged dependency list: peer, dev (unless ignored), optional, then production
// dependencies; a later group's specifier replaces an earlier one's, in the first position.
std::vector<std::pair<std::string, std::string>> merged_dependencies(const ProjectInfo& p, bool ignore_dev_deps);

}  // namespace tarn::workspace
