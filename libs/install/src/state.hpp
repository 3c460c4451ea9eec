#pragma once
// Files an install leaves for the next one: pnpm's .modules.yaml and tarn's own
// up-to-date marker.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/config/config.hpp"
#include "tarn/install/install.hpp"
#include "tarn/linker/plan.hpp"

namespace tarn {

// The lockfile's part of the identity: its bytes' XXH3 and their count.
struct LockfileDigest {
  uint64_t hash = 0;
  uint64_t size = 0;
};
LockfileDigest lockfile_digest(std::string_view text);
// The same, read through a 64 KiB buffer: the up-to-date check hashes alotta-modules' 600 KB
// lockfile without touching 150 fresh pages (a third of its page faults).
Result<LockfileDigest> lockfile_digest_of_file(const std::string& path);

// Identity of everything that decides node_modules' contents; equal identity, same tree.
std::string install_identity(const LockfileDigest& lockfile, const std::string& manifest_text, const Settings& s,
                             const InstallOptions& o);
inline std::string install_identity(std::string_view lockfile_text, const std::string& manifest_text, const Settings& s,
                                    const InstallOptions& o) {
  return install_identity(lockfile_digest(lockfile_text), manifest_text, s, o);
}

// `previous_pruned_at`: the last .modules.yaml's prunedAt ("" for a new node_modules).
std::string modules_yaml(const InstallPlan& plan, const Settings& s, const InstallOptions& o,
                         std::string_view previous_pruned_at = {});
std::string previous_pruned_at(std::string_view modules_yaml_text);

// pnpm keeps its "is node_modules current?" record here; tarn adds its identity to it.
inline constexpr const char* kStateFile = "node_modules/.pnpm-workspace-state-v1.json";
struct StateProject {
  std::string dir, name, version;
};
// `slots`: the .pnpm slots this install made, for the next one's "Packages: +N -M".
// `filtered`: pnpm's filteredInstall, true when some project was left out.
std::string workspace_state(const std::string& identity, const std::vector<StateProject>& projects,
                            const std::vector<std::string>& slots = {}, bool filtered = false);
// Previous install's record, read before its markers are removed.
struct PreviousInstall {
  std::string pruned_at;
  std::vector<std::string> slots;
};
PreviousInstall previous_install(const std::string& root_dir);
bool workspace_state_matches(std::string_view text, const std::string& identity);

}  // namespace tarn
