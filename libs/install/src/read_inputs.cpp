// Pass read-inputs: find the workspace root as pnpm does, read the settings, every
// project's package.json and the lockfile's bytes; and the up-to-date check on them.
#include <dirent.h>

#include <algorithm>

#include <openssl/evp.h>

#include "passes.hpp"
#include "state.hpp"

namespace tarn {

// pnpm looks upwards for pnpm-workspace.yaml; without one, the nearest package.json
// marks the project.
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

// The workspace projects pnpm-workspace.yaml's `packages` globs select (with "!" exclusions).
std::vector<std::string> workspace_project_dirs(const std::string& root, const std::vector<std::string>& globs) {
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

Result<Project> read_project(const std::string& root, const std::string& rel) {
  Project p;
  p.id = ImporterId(rel.empty() ? "." : rel);
  p.dir = rel.empty() ? root : fs::join(root, rel);
  p.manifest_path = fs::join(p.dir, "package.json");
  auto m = fs::read_file(p.manifest_path);
  if (!m) {
    if (m.error().is_not_found())
      return Error::not_found(Code::NoImporterManifestFound, "No package.json was found in " + p.dir);
    return m.error();
  }
  p.manifest_text = std::move(*m);
  return p;
}

// pnpm's createHexHashFromFile: sha256 of the text, CRLF read as LF.
std::string patch_hash(std::string_view text) {
  std::string lf;
  lf.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i)
    if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) lf += text[i];
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(lf.data(), lf.size(), md, &len, EVP_sha256(), nullptr);
  static const char* d = "0123456789abcdef";
  std::string h;
  for (unsigned i = 0; i < len; ++i) h += d[md[i] >> 4], h += d[md[i] & 15];
  return h;
}

// patchedDependencies paths are relative to the workspace root (pnpm resolves them there).
Result<void> read_patches(InstallContext& cx) {
  for (auto& [selector, rel] : cx.settings.patched_dependencies) {
    PatchFile p{selector, rel.starts_with("/") ? fs::normalize(rel) : fs::normalize(fs::join(cx.root_dir, rel)), {}, {}};
    auto text = fs::read_file(p.path);
    if (!text) {
      if (text.error().is_not_found())
        return Error::not_found(Code::PatchNotFound, "Patch file not found: " + p.path);
      return text.error();
    }
    p.text = std::move(*text);
    p.hash = patch_hash(p.text);
    cx.patches.push_back(std::move(p));
  }
  return {};
}

}  // namespace

Result<void> read_inputs(InstallContext& cx) {
  std::string start = fs::absolute(cx.opts.dir);
  if (!fs::is_dir(start))
    return Error::not_found(Code::NoSuchDir, "failed to open project " + start + ": no such directory");
  cx.root_dir = find_root(start);
  auto s = load_settings(cx.root_dir, CliOverrides{cx.opts.store_dir, cx.opts.registry});
  if (!s) return s.error();
  cx.settings = std::move(*s);
  if (cx.opts.network_concurrency) cx.settings.network_concurrency = cx.opts.network_concurrency;
  auto root = read_project(cx.root_dir, "");
  if (!root) return root.error();
  cx.projects.push_back(std::move(*root));
  for (auto& rel : workspace_project_dirs(cx.root_dir, cx.settings.workspace_packages)) {
    auto p = read_project(cx.root_dir, rel);
    if (!p) return p.error();
    cx.projects.push_back(std::move(*p));
  }
  cx.lockfile_path = fs::join(cx.root_dir, "pnpm-lock.yaml");
  auto l = fs::read_file(cx.lockfile_path);
  if (!l) {
    if (!l.error().is_not_found()) return l.error();
    if (cx.opts.frozen_lockfile)
      return Error::not_found(Code::NoLockfile, "Cannot install with \"frozen-lockfile\" because " + cx.lockfile_path +
                                                    " is absent");
  } else {
    cx.lockfile_text = std::move(*l);
    cx.has_lockfile = true;
  }
  if (auto r = read_patches(cx); !r) return r;
  std::string manifests;
  for (auto& p : cx.projects) manifests += p.id.str() + "\n" + p.manifest_text + "\n";
  // A patch edited since the last install changes the tree (its hash is in the lockfile,
  // so the frozen check then fails, as pnpm's does).
  for (auto& p : cx.patches) manifests += "patch " + p.selector + "\n" + p.text + "\n";
  cx.identity = install_identity(cx.lockfile_text, manifests, cx.settings, cx.opts);
  return {};
}

bool up_to_date(const InstallContext& cx) {
  auto state = fs::read_file(fs::join(cx.root_dir, kStateFile));
  return state && workspace_state_matches(*state, cx.identity);
}

}  // namespace tarn
