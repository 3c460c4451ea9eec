// Pass frozen-check: every project's package.json against its lockfile importer, as
// pnpm's frozen-lockfile check does; then a refusal of what tarn cannot install yet, so
// that no input ends in a wrong tree with exit status 0.
#include <openssl/evp.h>

#include <map>
#include <optional>
#include <set>

#include "passes.hpp"
#include "tarn/resolve/overrides.hpp"

namespace tarn {

namespace {

// pnpm's all_catalogs_are_up_to_date: every entry the lockfile records must still be in the
// config's catalog with the same specifier (entries no dependency uses do not matter).
bool catalogs_up_to_date(const InstallContext& cx) {
  for (auto& [name, entries] : cx.lockfile.catalogs)
    for (auto& [alias, e] : entries) {
      auto c = cx.settings.catalogs.find(name);
      if (c == cx.settings.catalogs.end()) return false;
      auto it = c->second.find(alias);
      if (it == c->second.end() || it->second != e.specifier) return false;
    }
  return true;
}

// pnpm's pnpmfileChecksum: "sha256-" and the base64 SHA-256 of the pnpmfile, CRLF line ends
// made LF. pnpm records it only when the module exports `hooks`, which only running it can
// tell; tarn runs no JavaScript and takes a pnpmfile to have hooks (what it is for).
std::optional<std::string> pnpmfile_checksum(const InstallContext& cx) {
  if (cx.pnpmfile_path.empty()) return std::nullopt;
  std::string text = cx.pnpmfile_text;
  for (size_t at = 0; (at = text.find("\r\n", at)) != std::string::npos;) text.erase(at, 1);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(text.data(), text.size(), md, &n, EVP_sha256(), nullptr);
  std::string b64(4 * ((n + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), md, static_cast<int>(n));
  return "sha256-" + b64;
}

// pnpm's getOutdatedLockfileSetting, for the settings tarn reads, in pnpm's order (it names
// the first): a lockfile resolved with other catalogs, overrides, packageExtensions or peer
// settings would give another tree than the project asks for.
std::optional<std::string_view> mismatched_setting(const InstallContext& cx, const resolve::Pairs& overrides) {
  if (!catalogs_up_to_date(cx)) return "catalogs";
  // pnpm compares overrides as maps, with $name and catalog: values resolved: the order they
  // were declared in does not matter.
  std::map<std::string, std::string> recorded(cx.lockfile.overrides.begin(), cx.lockfile.overrides.end());
  if (recorded != std::map<std::string, std::string>(overrides.begin(), overrides.end())) return "overrides";
  if (cx.lockfile.package_extensions_checksum != cx.settings.package_extensions_checksum)
    return "packageExtensionsChecksum";
  // The lockfile records each patch's hash: an edited patch, or another set of patches,
  // would give other files than the lockfile was resolved with.
  std::map<std::string, std::string> patches;
  for (auto& p : cx.patches) patches[p.selector] = p.hash;
  if (cx.lockfile.patched_dependencies != patches) return "patchedDependencies";
  if (cx.lockfile.auto_install_peers != cx.settings.auto_install_peers) return "settings.autoInstallPeers";
  if (cx.lockfile.pnpmfile_checksum != pnpmfile_checksum(cx)) return "pnpmfileChecksum";
  if (cx.lockfile.inject_workspace_packages != cx.settings.inject_workspace_packages)
    return "settings.injectWorkspacePackages";
  return std::nullopt;
}

// The resolutions tarn fetches: registry and tarball (through the fetcher), git (the git
// CLI, git_fetch.cpp) and directory (local files, hard-linked). A git or directory entry
// without its fields is refused with the kinds tarn does not know.
bool fetchable(const PackageMeta& m) {
  switch (m.resolution) {
    case ResolutionKind::Registry:
    case ResolutionKind::Tarball: return true;
    case ResolutionKind::Directory: return !m.directory.empty();
    case ResolutionKind::Git: return !m.git_repo.empty() && !m.git_commit.empty();
    case ResolutionKind::Other: break;
  }
  return false;
}

}  // namespace

Result<void> check_frozen(const InstallContext& cx) {
  auto parsed = resolve::parse_overrides(cx.settings.overrides, cx.settings.catalogs, &cx.root().manifest);
  if (!parsed) return parsed.error();
  if (auto setting = mismatched_setting(cx, resolve::resolved_overrides(*parsed)))
    return Error::failed(Code::LockfileConfigMismatch,
                         "Cannot proceed with the frozen installation. The current \"" + std::string(*setting) +
                             "\" configuration doesn't match the value found in the lockfile (" + cx.lockfile_path + ")");
  static const Importer empty{};
  resolve::ManifestRewriter overrider(std::move(*parsed), {}, cx.root_dir);
  std::vector<std::string> diff;
  std::set<std::string> projects;
  for (auto& p : cx.projects) {
    projects.insert(p.id.str());
    if (!p.this_run) continue;  // pnpm checks the projects a filtered install selected
    const Importer* imp = cx.lockfile.importer(p.id.str());
    // The lockfile's specifiers are the overridden ones (pnpm's check_importer_satisfies).
    Manifest m = p.manifest;
    overrider.apply_overrides(m, p.dir);
    for (auto& d : diff_importer(m, imp ? *imp : empty))
      diff.push_back("importers[\"" + p.id.str() + "\"]: " + d);
  }
  for (auto& imp : cx.lockfile.importers)
    if (!projects.count(imp.id.str()))
      diff.push_back("importers[\"" + imp.id.str() + "\"]: in the lockfile, but not a project of this workspace");
  if (diff.empty()) return {};
  std::string msg = "Cannot install with \"frozen-lockfile\" because " + cx.lockfile_path + " is not up to date with " +
                    (cx.projects.size() > 1 ? "the workspace's package.json files" : cx.root().manifest_path);
  for (auto& d : diff) msg += "\n  " + d;
  return Error::failed(Code::OutdatedLockfile, msg);
}

Result<void> check_supported(const InstallContext& cx) {
  const Lockfile& lf = cx.lockfile;
  // pnpm installs a tarball-URL dependency the lockfile has no integrity for; so does
  // tarn, and says that its content is not verified.
  for (auto& [key, m] : lf.packages)
    if (!m.integrity && m.resolution == ResolutionKind::Tarball)
      cx.rep.warn(key + ": the lockfile records no integrity for " + printable(m.tarball.str()) +
                  "; its content is not verified");
  std::vector<std::string> bad;
  for (auto& [key, m] : lf.packages)
    if (!fetchable(m)) bad.push_back(key + " (" + std::string(resolution_kind_name(m.resolution)) + ")");
  if (bad.empty()) return {};
  std::string msg = "failed to fetch " + std::to_string(bad.size()) +
                    " packages: their resolutions are not supported by tarn yet: " + bad.front();
  for (size_t i = 1; i < bad.size() && i < 5; ++i) msg += ", " + bad[i];
  if (bad.size() > 5) msg += ", ...";
  return Error::failed(Code::UnsupportedResolution, msg);
}

}  // namespace tarn
