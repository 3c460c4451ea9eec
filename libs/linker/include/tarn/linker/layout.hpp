#pragma once
// The write passes. Every path comes from the plan; each pass is parallel inside and
// collects all of its errors before returning.
#include <string>
#include <vector>

#include "tarn/linker/plan.hpp"
#include "tarn/store/store.hpp"

namespace tarn {

// Top-level directories, then every slot's directories (parallel over slots).
Errors make_directories(const InstallPlan& plan, int project_fd);
// One slot's dependency links; needs only the graph, never the package contents.
Result<void> link_slot(const PlannedPackage& p, int project_fd);
// Root and hoisted links.
Errors link_top_level(const InstallPlan& plan, int project_fd);
// How a stored package's files reach its slot. Link: hard links (copies across devices).
// CloneOrCopy: private files (a reflink where the filesystem supports one, else a copy),
// for packages whose build scripts will write into their own directory: a build must
// never change a store blob that other projects share.
enum class ImportMethod { Link, CloneOrCopy };
// `sources`: the n-th file is read from sources[n] (relative to pkg_fd) instead of the
// store's blob name: a directory dependency imports from its own files.
Result<void> import_package(int pkg_fd, const PackageIndex& index, int project_fd, const PlannedPackage& p,
                            ImportMethod method = ImportMethod::Link,
                            const std::vector<std::string>* sources = nullptr);

// Shim text for a bin, as pnpm's shell shim behaves: honour the target's shebang,
// prefer a `node` next to the shim, and put the hoisted modules on NODE_PATH.
std::string make_shim(std::string_view rel_target, std::string_view first_line,
                      const std::vector<std::string>& node_path);

// Links every .bin the plan names. `project_dir` is absolute (NODE_PATH in shims is).
Errors link_bins(const InstallPlan& plan, int project_fd, const std::string& project_dir);

}  // namespace tarn
