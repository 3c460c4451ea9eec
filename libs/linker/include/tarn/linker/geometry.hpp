#pragma once
// The one place that spells pnpm's isolated layout. Every path is relative to the
// workspace root (the directory holding pnpm-lock.yaml):
//   node_modules/.pnpm/<slot>/node_modules/<name>   a package's files
//   node_modules/.pnpm/<slot>/node_modules/<dep>    its dependencies (links)
//   node_modules/.pnpm/node_modules/<alias>         privately hoisted packages
//   <importer>/node_modules/<alias>                 an importer's direct dependencies
//   <importer>/node_modules/.bin/<command>          its bins
#include <string>
#include <string_view>

#include "tarn/core/types.hpp"

namespace tarn::geometry {

inline constexpr std::string_view kModules = "node_modules";
inline constexpr std::string_view kVirtualStore = "node_modules/.pnpm";
inline constexpr std::string_view kHoisted = "node_modules/.pnpm/node_modules";
inline constexpr std::string_view kModulesYaml = "node_modules/.modules.yaml";
inline constexpr std::string_view kLockCopy = "node_modules/.pnpm/lock.yaml";

inline std::string slot_dir(const SlotName& s) { return std::string(kVirtualStore) + "/" + s.str(); }
inline std::string slot_modules(const SlotName& s) { return slot_dir(s) + "/node_modules"; }
inline std::string package_dir(const SlotName& s, const PkgName& n) { return slot_modules(s) + "/" + n.str(); }
// "<importer>/node_modules", or "node_modules" for the root importer.
inline std::string importer_modules(const ImporterId& id) {
  return id.is_root() ? std::string(kModules) : id.str() + "/" + std::string(kModules);
}
inline std::string bin_dir(std::string_view modules_dir) { return std::string(modules_dir) + "/.bin"; }

}  // namespace tarn::geometry
