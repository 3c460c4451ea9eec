#pragma once
#include <optional>

#include "tarn/resolve/packument.hpp"

namespace tarn::resolve {

// The manifest with pnpm's compatibility-database fields added, or nothing when no entry
// matches `name` at this version.
std::optional<PackageVersion> extend_manifest(const PkgName& name, const PackageVersion& pv);
size_t compat_database_size();

struct ResolveInput;
// Every transform of a resolved manifest, in pnpm's order: the compatibility database
// (unless ignoreCompatibilityDb), packageExtensions, overrides; nothing when none changes it.
std::optional<PackageVersion> transform_manifest(const ResolveInput& in, const PkgName& name, const PackageVersion& pv);

}  // namespace tarn::resolve
