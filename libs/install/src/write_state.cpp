// Pass write-state: .modules.yaml, the lockfile copy pnpm keeps, and last the up-to-date
// marker, whose presence says the tree is complete.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "passes.hpp"
#include "state.hpp"
#include "tarn/linker/geometry.hpp"

namespace tarn {

Result<void> write_state(const InstallContext& cx) {
  auto at = [&](std::string_view rel) { return fs::join(cx.root_dir, rel); };
  // The lock copy names the importers this tree links (pnpm's, after a filtered install,
  // lists only those); the next filtered install reads it to keep them.
  std::vector<ImporterId> installed;
  bool filtered = false;
  for (auto& p : cx.projects) {
    if (p.installed) installed.push_back(p.id);
    filtered |= !p.installed;
  }
  std::string lock_copy = filtered ? lockfile_text_for_importers(cx.lockfile_text, cx.lockfile, installed) : cx.lockfile_text;
  if (auto r = fs::write_file_atomic(at(geometry::kLockCopy), lock_copy); !r) return r.error();
  if (auto r = fs::write_file_atomic(at(geometry::kModulesYaml), modules_yaml(cx.plan, cx.settings, cx.opts, cx.pruned_at)); !r)
    return r.error();
  // For `tarn store prune`: this project's lockfile copy names what it uses.
  if (auto r = cx.store->register_project(cx.root_dir); !r) return r.error();
  std::vector<StateProject> projects;
  for (auto& p : cx.projects) projects.push_back({p.dir, p.manifest.name, p.manifest.version});
  std::vector<std::string> slots;
  for (auto& p : cx.plan.packages) slots.push_back(p.slot.str());
  return fs::write_file_atomic(at(kStateFile), workspace_state(cx.identity, projects, slots, filtered));
}

namespace {

// Removes write_file_atomic's temporaries of `rel` ("<name>.tmp-<pid>-<n>") whose process
// is gone: an install killed between writing one and renaming it left it behind, and no
// later install would (one is in node_modules/, one in .pnpm/, each a readdir).
void remove_dead_temporaries(const std::string& root_dir, std::string_view rel) {
  std::string dir = fs::join(root_dir, fs::dirname(rel));
  std::string prefix = std::string(rel.substr(rel.rfind('/') + 1)) + ".tmp-";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    int pid = 0;
    auto digits = name.substr(prefix.size());
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec == std::errc() && pid > 0 && end != digits.data() + digits.size() && *end == '-' &&
        ::kill(pid, 0) != 0 && errno == ESRCH)
      ::unlinkat(::dirfd(d), e->d_name, 0);
  }
  ::closedir(d);
}

}  // namespace

void remove_completion_markers(const std::string& root_dir) {
  ::unlink(fs::join(root_dir, kStateFile).c_str());
  ::unlink(fs::join(root_dir, geometry::kModulesYaml).c_str());
  for (std::string_view rel : {std::string_view(kStateFile), geometry::kModulesYaml, geometry::kLockCopy})
    remove_dead_temporaries(root_dir, rel);
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
