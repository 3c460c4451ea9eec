// Workspace discovery (projects.hpp).
#include "tarn/workspace/projects.hpp"

#include <dirent.h>

#include <algorithm>

#include "tarn/fs/fs.hpp"

namespace tarn::workspace {

std::string find_root(const std::string& start) {
  for (std::string d = start;; d = fs::dirname(d)) {
    if (fs::exists(fs::join(d, "pnpm-workspace.yaml"))) return d;
    if (d == "/" || d.empty()) break;
  }
  for (std::string d = start;; d = fs::dirname(d)) {
    if (fs::exists(fs::join(d, "package.json"))) return d;
    if (d == "/" || d.empty()) break;
  }
  return start;
}

namespace {

// One path segment against one glob segment ('*' and '?' wildcards).
bool segment_matches(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, back = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) ++p, ++i;
    else if (p < pat.size() && pat[p] == '*') star = p++, back = i;
    else if (star != std::string_view::npos) p = star + 1, i = ++back;
    else return false;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  for (size_t i = 0; i <= p.size();) {
    size_t j = std::min(p.find('/', i), p.size());
    if (j > i && p.substr(i, j - i) != ".") out.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool glob_matches(const std::vector<std::string>& pat, size_t pi, const std::vector<std::string>& path, size_t i) {
  if (pi == pat.size()) return i == path.size();
  if (pat[pi] == "**") {
    for (size_t k = i; k <= path.size(); ++k)
      if (glob_matches(pat, pi + 1, path, k)) return true;
    return false;
  }
  return i < path.size() && segment_matches(pat[pi], path[i]) && glob_matches(pat, pi + 1, path, i + 1);
}

// Every directory under `root` (relative paths), never entering node_modules or dot
// directories, at most `depth` levels deep.
void list_dirs(const std::string& root, const std::string& rel, int depth, std::vector<std::string>& out) {
  if (depth == 0) return;
  DIR* d = ::opendir(rel.empty() ? root.c_str() : fs::join(root, rel).c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.' || name == "node_modules") continue;
    std::string child = rel.empty() ? name : rel + "/" + name;
    if (!fs::is_dir(fs::join(root, child))) continue;
    out.push_back(child);
    list_dirs(root, child, depth - 1, out);
  }
  ::closedir(d);
}

Result<LoadedProject> load_project(const std::string& root, const std::string& rel) {
  LoadedProject p;
  p.rel = rel;
  p.dir = rel.empty() ? root : fs::join(root, rel);
  std::string path = fs::join(p.dir, "package.json");
  auto text = fs::read_file(path);
  if (!text) {
    if (text.error().is_not_found())
      return Error::not_found(Code::NoImporterManifestFound, "No package.json was found in " + p.dir);
    return text.error();
  }
  p.manifest_text = std::move(*text);
  auto m = Manifest::parse(p.manifest_text, path);
  if (!m) return m.error();
  p.manifest = std::move(*m);
  return p;
}

}  // namespace

std::vector<std::string> project_dirs(const std::string& root, const std::vector<std::string>& globs) {
  std::vector<std::string> all, out;
  if (globs.empty()) return out;
  list_dirs(root, "", 8, all);
  for (auto& dir : all) {
    auto path = split_path(dir);
    bool in = false;
    for (auto& g : globs) {
      bool neg = !g.empty() && g[0] == '!';
      if (glob_matches(split_path(neg ? std::string_view(g).substr(1) : std::string_view(g)), 0, path, 0)) in = !neg;
    }
    if (in && fs::exists(fs::join(fs::join(root, dir), "package.json"))) out.push_back(dir);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<LoadedProject>> load_projects(const std::string& root, const std::vector<std::string>& globs) {
  std::vector<LoadedProject> out;
  auto r = load_project(root, "");
  if (!r) return r.error();
  out.push_back(std::move(*r));
  for (auto& rel : project_dirs(root, globs)) {
    auto p = load_project(root, rel);
    if (!p) return p.error();
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace tarn::workspace
