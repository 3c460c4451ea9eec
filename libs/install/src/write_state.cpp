// Pass write-state: .modules.yaml, the lockfile copy pnpm keeps, and last the up-to-date
// marker, whose presence says the tree is complete.
#include <unistd.h>

#include "passes.hpp"
#include "state.hpp"
#include "tarn/linker/geometry.hpp"

namespace tarn {

Result<void> write_state(const InstallContext& cx) {
  auto at = [&](std::string_view rel) { return fs::join(cx.root_dir, rel); };
  if (auto r = fs::write_file_atomic(at(geometry::kLockCopy), cx.lockfile_text); !r) return r.error();
  if (auto r = fs::write_file_atomic(at(geometry::kModulesYaml), modules_yaml(cx.plan, cx.settings, cx.opts)); !r)
    return r.error();
  // For `tarn store prune`: this project's lockfile copy names what it uses.
  if (auto r = cx.store->register_project(cx.root_dir); !r) return r.error();
  std::vector<StateProject> projects;
  for (auto& p : cx.projects) projects.push_back({p.dir, p.manifest.name, p.manifest.version});
  return fs::write_file_atomic(at(kStateFile), workspace_state(cx.identity, projects));
}

void remove_completion_markers(const std::string& root_dir) {
  ::unlink(fs::join(root_dir, kStateFile).c_str());
  ::unlink(fs::join(root_dir, geometry::kModulesYaml).c_str());
}

// A fresh node_modules goes away entirely; an older one loses its completion markers, so
// the next run redoes the work.
void discard_partial(const InstallContext& cx) {
  if (!cx.modules_existed) {
    (void)fs::remove_all(fs::join(cx.root_dir, geometry::kModules));
    for (auto& imp : cx.plan.importers)
      if (!imp.id.is_root()) (void)fs::remove_all(fs::join(cx.root_dir, imp.modules_dir));
    return;
  }
  remove_completion_markers(cx.root_dir);
}

}  // namespace tarn
