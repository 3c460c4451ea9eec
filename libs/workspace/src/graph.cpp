// The projects graph (graph.hpp), after pnpm's create_projects_graph.rs.
#include "tarn/workspace/graph.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "tarn/core/semver.hpp"
#include "tarn/fs/fs.hpp"

namespace tarn::workspace {

ProjectInfo ProjectInfo::from_manifest(std::string dir, const Manifest& m) {
  ProjectInfo p;
  p.dir = fs::normalize(dir);
  p.name = m.name;
  p.version = m.version;
  p.dependencies = m.dependencies;
  p.dev_dependencies = m.dev_dependencies;
  p.optional_dependencies = m.optional_dependencies;
  p.peer_dependencies = m.peer_dependencies;
  return p;
}

std::optional<size_t> Graph::find_dir(std::string_view dir) const {
  for (size_t i = 0; i < projects.size(); ++i)
    if (projects[i].dir == dir) return i;
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> merged_dependencies(const ProjectInfo& p, bool ignore_dev_deps) {
  std::vector<std::pair<std::string, std::string>> out;
  auto absorb = [&](const std::vector<std::pair<std::string, std::string>>& group) {
    for (auto& [name_, spec] : group) {
      const std::string& name = name_;  // clang 14 cannot capture a structured binding
      auto it = std::find_if(out.begin(), out.end(), [&](auto& e) { return e.first == name; });
      if (it != out.end()) it->second = spec;
      else out.emplace_back(name, spec);
    }
  };
  absorb(p.peer_dependencies);
  if (!ignore_dev_deps) absorb(p.dev_dependencies);
  absorb(p.optional_dependencies);
  absorb(p.dependencies);
  return out;
}

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// pnpm's is_path_like: ".", "..", "./x", "../x", "/x", "~/x" (and Windows forms).
bool path_like(std::string_view s) {
  return s == "." || s == ".." || starts_with(s, "./") || starts_with(s, "../") || starts_with(s, ".\\") ||
         starts_with(s, "..\\") || starts_with(s, "/") || starts_with(s, "\\") || starts_with(s, "~/") ||
         (s.size() > 2 && std::isalpha(static_cast<unsigned char>(s[0])) && s[1] == ':' && (s[2] == '/' || s[2] == '\\'));
}

// The path a specifier names ("file:", "link:" or path-like), if it names one.
std::optional<std::string_view> directory_of(std::string_view spec) {
  if (starts_with(spec, "file:") || starts_with(spec, "link:")) return spec.substr(5);
  if (path_like(spec)) return spec;
  return std::nullopt;
}

// workspace:[alias@]version; an alias never starts with '.', '_' or '/'.
std::pair<std::optional<std::string>, std::string> split_workspace_spec(std::string_view rest) {
  if (rest.empty() || rest[0] == '.' || rest[0] == '_' || rest[0] == '/') return {std::nullopt, std::string(rest)};
  size_t at = rest.find('@', 1);
  if (at == std::string_view::npos) return {std::nullopt, std::string(rest)};
  return {std::string(rest.substr(0, at)), std::string(rest.substr(at + 1))};
}

// pnpm's range_allows_prereleases: a '-' right after a digit ("1.0.0-rc").
bool range_allows_prereleases(std::string_view range) {
  for (size_t i = 1; i < range.size(); ++i)
    if (range[i] == '-' && std::isdigit(static_cast<unsigned char>(range[i - 1]))) return true;
  return false;
}

// pnpm's resolve_workspace_range: the highest of `versions` the range allows ("*", "^",
// "~" and "" take the highest, prereleases included).
std::optional<std::string> resolve_range(std::string_view range, const std::vector<std::string>& versions) {
  bool wildcard = range == "*" || range == "^" || range == "~" || range.empty();
  std::optional<Range> r;
  if (!wildcard && !(r = Range::parse(range))) return std::nullopt;
  bool pre_ok = range_allows_prereleases(range);
  std::optional<Version> best;
  std::string best_raw;
  for (auto& raw : versions) {
    auto v = Version::parse(raw);
    if (!v) continue;
    if (!wildcard && (!r->satisfies(*v, true) || (v->is_prerelease() && !pre_ok))) continue;
    if (!best || *best < *v) best = v, best_raw = raw;
  }
  if (!best) return std::nullopt;
  return best_raw;
}

struct Lookups {
  const std::vector<ProjectInfo>& projects;
  std::map<std::string, std::vector<size_t>> by_name;
  std::map<std::string, size_t> by_dir;
  bool link_workspace_packages;
};

// Rust's Path::join: an absolute path replaces the importer's directory.
std::optional<size_t> resolve_directory(const Lookups& l, size_t importer, std::string_view path) {
  std::string target = !path.empty() && path[0] == '/' ? fs::normalize(path)
                                                       : fs::normalize(fs::join(l.projects[importer].dir, path));
  auto it = l.by_dir.find(target);
  if (it == l.by_dir.end()) return std::nullopt;
  return it->second;
}

std::optional<size_t> resolve_by_name(const Lookups& l, const std::string& name, const std::string& spec,
                                      bool workspace_spec) {
  auto it = l.by_name.find(name);
  if (it == l.by_name.end()) return std::nullopt;
  if (!l.link_workspace_packages && !workspace_spec) return std::nullopt;
  std::vector<std::string> versions;
  for (size_t i : it->second)
    if (!l.projects[i].version.empty()) versions.push_back(l.projects[i].version);
  if (workspace_spec && versions.empty()) return it->second.front();
  auto matched = std::find(versions.begin(), versions.end(), spec) != versions.end() ? std::optional(spec)
                                                                                    : resolve_range(spec, versions);
  if (!matched) return std::nullopt;
  for (size_t i : it->second)
    if (l.projects[i].version == *matched) return i;
  return std::nullopt;
}

std::optional<size_t> resolve_edge(const Lookups& l, size_t importer, const std::string& alias, const std::string& spec) {
  if (starts_with(spec, "workspace:")) {
    auto [ws_alias, version] = split_workspace_spec(std::string_view(spec).substr(10));
    if (auto dir = directory_of(version)) return resolve_directory(l, importer, *dir);
    return resolve_by_name(l, ws_alias.value_or(alias), version, true);
  }
  if (auto dir = directory_of(spec)) return resolve_directory(l, importer, *dir);
  if (Version::parse(spec) || Range::parse(spec)) return resolve_by_name(l, alias, spec, false);
  return std::nullopt;
}

}  // namespace

Graph make_graph(std::vector<ProjectInfo> projects, const GraphOptions& o) {
  Graph g;
  g.projects = std::move(projects);
  Lookups l{g.projects, {}, {}, o.link_workspace_packages};
  for (size_t i = 0; i < g.projects.size(); ++i) {
    if (!g.projects[i].name.empty()) l.by_name[g.projects[i].name].push_back(i);
    l.by_dir[fs::normalize(g.projects[i].dir)] = i;
  }
  g.deps.resize(g.projects.size());
  for (size_t i = 0; i < g.projects.size(); ++i)
    for (auto& [alias, spec] : merged_dependencies(g.projects[i], o.ignore_dev_deps))
      if (auto t = resolve_edge(l, i, alias, spec)) g.deps[i].push_back(*t);
  return g;
}

}  // namespace tarn::workspace
