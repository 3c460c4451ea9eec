// Which dependencies may build, decided once per install (see builds.hpp).
#include "builds.hpp"

#include "context.hpp"
#include "tarn/core/semver.hpp"

namespace tarn {

namespace {

// "name@1.0.0 || 2.0.0" -> the entries "name@1.0.0", "name@2.0.0"; "name" stays "name".
bool rule_matches(std::string_view rule, std::string_view name, std::string_view version) {
  size_t at = rule.size() > 1 ? rule.find('@', 1) : std::string_view::npos;
  if (at == std::string_view::npos) return rule == name;
  if (rule.substr(0, at) != name) return false;
  std::string_view versions = rule.substr(at + 1);
  while (!versions.empty()) {
    size_t bar = versions.find("||");
    std::string_view v = versions.substr(0, bar);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v == version) return true;
    if (bar == std::string_view::npos) break;
    versions.remove_prefix(bar + 2);
  }
  return false;
}

}  // namespace

std::optional<bool> build_allowed(const Settings& s, std::string_view name, std::string_view version) {
  if (s.allow_builds.empty()) return std::nullopt;
  for (auto& [rule, allowed] : s.allow_builds)
    if (!allowed && rule_matches(rule, name, version)) return false;
  if (!Version::parse(version)) return std::nullopt;
  for (auto& [rule, allowed] : s.allow_builds)
    if (allowed && rule_matches(rule, name, version)) return true;
  return std::nullopt;
}

void decide_builds(InstallContext& cx) {
  auto& b = cx.builds;
  b.approved.assign(cx.plan.packages.size(), 0);
  b.approved_count = 0;
  // Nothing may build: every package is hard-linked, and this loop is skipped.
  if (cx.opts.ignore_scripts || cx.settings.ignore_scripts || cx.settings.allow_builds.empty()) return;
  for (size_t i = 0; i < cx.plan.packages.size(); ++i) {
    const DepPath& key = cx.plan.packages[i].snapshot->key;
    if (build_allowed(cx.settings, key.name().str(), key.version()).value_or(false)) {
      b.approved[i] = 1;
      ++b.approved_count;
    }
  }
}

namespace {

// "name@1.0.0" -> "name"; "@scope/name@^1" -> "@scope/name"; "name" -> "name".
std::string_view selector_name(std::string_view selector) {
  size_t at = selector.size() > 1 ? selector.find('@', 1) : std::string_view::npos;
  return selector.substr(0, at);
}

}  // namespace

Result<void> decide_patches(InstallContext& cx) {
  auto& b = cx.builds;
  b.patch.assign(cx.plan.packages.size(), -1);
  b.patched_count = 0;
  for (size_t i = 0; i < cx.plan.packages.size(); ++i) {
    const DepPath& key = cx.plan.packages[i].snapshot->key;
    // pnpm puts the patch's hash in the snapshot key: "name@1.0.0(patch_hash=<hex>)".
    std::string_view peers = key.peers();
    size_t at = peers.find("(patch_hash=");
    if (at == std::string_view::npos) continue;
    std::string_view hash = peers.substr(at + 12);
    hash = hash.substr(0, hash.find(')'));
    for (size_t k = 0; k < cx.patches.size() && b.patch[i] < 0; ++k)
      if (cx.patches[k].hash == hash && selector_name(cx.patches[k].selector) == key.name().str())
        b.patch[i] = static_cast<int>(k);
    // The frozen check made the lockfile's patch list the project's; a key whose hash is
    // not in it is a lockfile pnpm would not write.
    if (b.patch[i] < 0)
      return Error::failed(Code::PatchNotFound, "Cannot apply patch for " + key.str() +
                                                    ": patch file path is missing (no patchedDependencies entry has "
                                                    "this hash)");
    ++b.patched_count;
  }
  return {};
}

Result<void> reset_build_dirs(const InstallContext& cx) {
  if (!cx.modules_existed) return {};
  for (size_t i = 0; i < cx.plan.packages.size(); ++i)
    if (cx.builds.private_copy(i))
      if (auto r = fs::remove_all(fs::join(cx.root_dir, cx.plan.packages[i].pkg_dir)); !r) return r;
  return {};
}

}  // namespace tarn
