// Pass frozen-check: every project's package.json against its lockfile importer, as
// pnpm's frozen-lockfile check does; then a refusal of what tarn cannot install yet, so
// that no input ends in a wrong tree with exit status 0.
#include <optional>
#include <set>

#include "passes.hpp"

namespace tarn {

namespace {

// pnpm's getOutdatedLockfileSetting, for the settings tarn reads: a lockfile resolved with
// other overrides or peer settings would give another tree than the project asks for.
std::optional<std::string_view> mismatched_setting(const InstallContext& cx) {
  if (cx.lockfile.overrides != cx.settings.overrides) return "overrides";
  if (cx.lockfile.auto_install_peers != cx.settings.auto_install_peers) return "settings.autoInstallPeers";
  return std::nullopt;
}

}  // namespace

Result<void> check_frozen(const InstallContext& cx) {
  if (auto setting = mismatched_setting(cx))
    return Error::failed(Code::LockfileConfigMismatch,
                         "Cannot proceed with the frozen installation. The current \"" + std::string(*setting) +
                             "\" configuration doesn't match the value found in the lockfile (" + cx.lockfile_path + ")");
  static const Importer empty{};
  std::vector<std::string> diff;
  std::set<std::string> projects;
  for (auto& p : cx.projects) {
    projects.insert(p.id.str());
    if (!p.this_run) continue;  // pnpm checks the projects a filtered install selected
    const Importer* imp = cx.lockfile.importer(p.id.str());
    for (auto& d : diff_importer(p.manifest, imp ? *imp : empty))
      diff.push_back("importers[\"" + p.id.str() + "\"]: " + d);
  }
  for (auto& imp : cx.lockfile.importers)
    if (!projects.count(imp.id.str()))
      diff.push_back("importers[\"" + imp.id.str() + "\"]: in the lockfile, but not a project of this workspace");
  if (diff.empty()) return {};
  std::string msg = "Cannot install with \"frozen-lockfile\" because " + cx.lockfile_path + " is not up to date with " +
                    (cx.projects.size() > 1 ? "the workspace's package.json files" : cx.root().manifest_path);
  if (!cx.opts.frozen_lockfile) msg += " (tarn does not resolve dependencies yet; update the lockfile with pnpm)";
  for (auto& d : diff) msg += "\n  " + d;
  return Error::failed(Code::OutdatedLockfile, msg);
}

Result<void> check_supported(const InstallContext& cx) {
  const Lockfile& lf = cx.lockfile;
  if (!lf.patched_dependencies.empty())
    return Error::failed(Code::Unsupported, "failed to install " + cx.lockfile_path + ": patchedDependencies (" +
                                                lf.patched_dependencies.front() +
                                                (lf.patched_dependencies.size() > 1 ? ", ..." : "") +
                                                ") are not applied by tarn yet; install with pnpm");
  // pnpm installs a tarball-URL dependency the lockfile has no integrity for; so does
  // tarn, and says that its content is not verified.
  for (auto& [key, m] : lf.packages)
    if (!m.integrity && m.resolution == ResolutionKind::Tarball)
      cx.rep.warn(key + ": the lockfile records no integrity for " + printable(m.tarball.str()) +
                  "; its content is not verified");
  std::vector<std::string> bad;
  for (auto& [key, m] : lf.packages)
    if (m.resolution != ResolutionKind::Registry && m.resolution != ResolutionKind::Tarball)
      bad.push_back(key + " (" + std::string(resolution_kind_name(m.resolution)) + ")");
  if (bad.empty()) return {};
  std::string msg = "failed to fetch " + std::to_string(bad.size()) +
                    " packages: their resolutions are not supported by tarn yet: " + bad.front();
  for (size_t i = 1; i < bad.size() && i < 5; ++i) msg += ", " + bad[i];
  if (bad.size() > 5) msg += ", ...";
  return Error::failed(Code::UnsupportedResolution, msg);
}

}  // namespace tarn
