// Pass read-inputs: find the workspace root as pnpm does, read the settings, every
// project's package.json and the lockfile's bytes; and the up-to-date check on them.
#include <openssl/evp.h>

#include "passes.hpp"
#include "state.hpp"
#include "tarn/workspace/projects.hpp"

namespace tarn {

namespace {

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

// pnpm's hooks finder: the `pnpmfile` setting, else .pnpmfile.mjs, then .pnpmfile.cjs, beside
// the lockfile; none with ignorePnpmfile.
Result<void> read_pnpmfile(InstallContext& cx) {
  if (cx.opts.ignore_pnpmfile || cx.settings.ignore_pnpmfile) return {};
  std::vector<std::string> candidates;
  if (!cx.settings.pnpmfile.empty()) candidates.push_back(cx.settings.pnpmfile);
  else candidates = {fs::join(cx.root_dir, ".pnpmfile.mjs"), fs::join(cx.root_dir, ".pnpmfile.cjs")};
  for (auto& path : candidates) {
    auto text = fs::read_file(path);
    if (!text) {
      if (text.error().is_not_found()) continue;
      return text.error();
    }
    cx.pnpmfile_path = path;
    cx.pnpmfile_text = std::move(*text);
    return {};
  }
  return {};
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

namespace {

// pnpm warns once per command about every override still using the deprecated "$name"
// value (cli/src/cli_args/override_version_references.rs).
void warn_version_references(const InstallContext& cx) {
  std::string used;
  for (auto& [sel, val] : cx.settings.overrides)
    if (!val.empty() && val[0] == '$') used += (used.empty() ? "" : ", ") + sel;
  if (used.empty()) return;
  cx.rep.warn("The \"$\" version reference syntax in overrides is deprecated (used by: " + used +
              "). Define the version in a catalog and reference it with the \"catalog:\" protocol instead. See "
              "https://pnpm.io/catalogs");
}

}  // namespace

Result<void> read_inputs(InstallContext& cx) {
  std::string start = fs::absolute(cx.opts.dir);
  if (!fs::is_dir(start))
    return Error::not_found(Code::NoSuchDir, "failed to open project " + start + ": no such directory");
  cx.root_dir = workspace::find_root(start);
  auto s = load_settings(cx.root_dir, CliOverrides{cx.opts.store_dir, cx.opts.registry});
  if (!s) return s.error();
  cx.settings = std::move(*s);
  warn_version_references(cx);
  if (cx.opts.network_concurrency) cx.settings.network_concurrency = cx.opts.network_concurrency;
  auto root = read_project(cx.root_dir, "");
  if (!root) return root.error();
  cx.projects.push_back(std::move(*root));
  for (auto& rel : workspace::project_dirs(cx.root_dir, cx.settings.workspace_packages)) {
    auto p = read_project(cx.root_dir, rel);
    if (!p) return p.error();
    cx.projects.push_back(std::move(*p));
  }
  cx.lockfile_path = fs::join(cx.root_dir, "pnpm-lock.yaml");
  auto l = lockfile_digest_of_file(cx.lockfile_path);
  if (!l) {
    if (!l.error().is_not_found()) return l.error();
    if (cx.opts.frozen_lockfile)
      return Error::not_found(Code::NoLockfile, "Cannot install with \"frozen-lockfile\" because " + cx.lockfile_path +
                                                    " is absent");
  } else {
    cx.lockfile_streamed = *l;
    cx.has_lockfile = true;
  }
  cx.selected_count = cx.projects.size();
  if (cx.opts.filtered())
    if (auto r = select_importers(cx); !r) return r;
  if (auto r = read_patches(cx); !r) return r;
  if (auto r = read_pnpmfile(cx); !r) return r;
  compute_identity(cx);
  return {};
}

void compute_identity(InstallContext& cx) {
  // Which projects the tree holds is part of its identity: a filtered install, then one
  // of the whole workspace, must not count as up to date.
  std::string manifests;
  for (auto& p : cx.projects)
    manifests += p.id.str() + (p.installed ? "\n" : " (not installed)\n") + p.manifest_text + "\n";
  // A patch edited since the last install changes the tree (its hash is in the lockfile,
  // so the frozen check then fails, as pnpm's does).
  for (auto& p : cx.patches) manifests += "patch " + p.selector + "\n" + p.text + "\n";
  if (!cx.pnpmfile_path.empty()) manifests += "pnpmfile\n" + cx.pnpmfile_text + "\n";
  cx.identity = install_identity(cx.lockfile_streamed ? *cx.lockfile_streamed : lockfile_digest(cx.lockfile_text), manifests,
                                 cx.settings, cx.opts);
}

Result<void> load_lockfile_text(InstallContext& cx) {
  if (!cx.lockfile_streamed) return {};
  auto text = fs::read_file(cx.lockfile_path);
  if (!text) return text.error();
  cx.lockfile_text = std::move(*text);
  cx.lockfile_streamed.reset();
  // The identity the install will record is that of the bytes it installs from, even if
  // the file changed since it was hashed.
  compute_identity(cx);
  return {};
}

bool up_to_date(const InstallContext& cx) {
  auto state = fs::read_file(fs::join(cx.root_dir, kStateFile));
  return state && workspace_state_matches(*state, cx.identity);
}

}  // namespace tarn
