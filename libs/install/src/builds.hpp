#pragma once
// Dependency builds: which packages may run their build scripts (allowBuilds), decided
// once after the plan, before anything is imported, because an approved package is
// imported by copy: its scripts write into its own directory and must never reach a
// store blob that other projects share.
#include <optional>

#include "tarn/core/error.hpp"
#include <string_view>
#include <vector>

#include "tarn/config/config.hpp"

namespace tarn {

struct InstallContext;

// allowBuilds for one package, as pnpm's AllowBuildPolicy::check: a `false` rule (by name
// or name@version) wins; then a `true` rule by name or name@version ("name@1.0.0 || 2.0.0"
// lists versions). Name rules need a semver version (a registry package). nullopt: no rule.
std::optional<bool> build_allowed(const Settings& s, std::string_view name, std::string_view version);

// Per planned package: whether its build will run when it needs one (approved, scripts
// not ignored). The only place that decision is made; fills cx.builds.
void decide_builds(InstallContext& cx);

// Per planned package: the patchedDependencies entry whose hash its snapshot key carries
// ("(patch_hash=...)"); fills cx.builds.patch. ERR_PNPM_PATCH_NOT_FOUND when none does.
Result<void> decide_patches(InstallContext& cx);

// Removes the directories of approved (and patched) packages left by an earlier install (built, or half
// built by a failed run), so the import below starts from the store's pristine files.
// Runs before the directory sub-pass recreates them.
Result<void> reset_build_dirs(const InstallContext& cx);

}  // namespace tarn
