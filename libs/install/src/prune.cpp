// Pass prune: a repeat install leaves exactly what the lockfile and the included groups
// name, as pnpm does. Importer and hoisted links that the plan no longer has are removed,
// and .bin directories are rebuilt from the plan. Orphaned slots in node_modules/.pnpm stay
// (pnpm keeps them until modulesCacheMaxAge, so switching back to a branch is cheap).
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <set>

#include "passes.hpp"
#include "tarn/linker/geometry.hpp"

namespace tarn {

namespace {

std::vector<std::string> entries_of(int root_fd, const std::string& rel) {
  std::vector<std::string> out;
  int fd = ::openat(root_fd, rel.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return out;
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return out;
  }
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(std::move(n));
  }
  ::closedir(d);
  return out;
}

// Removes entries of `dir` (and of its @scope directories) that are not in `keep`.
// Names starting with '.' belong to pnpm's bookkeeping and stay.
// pnpm removes a scope directory that pruning emptied in an importer's node_modules, but
// leaves emptied ones in the hoisted directory (`drop_empty_scopes`).
Result<void> prune_dir(int root_fd, const std::string& root_dir, const std::string& dir,
                       const std::set<std::string>& keep, bool drop_empty_scopes) {
  for (auto& name : entries_of(root_fd, dir)) {
    if (name[0] == '.') continue;
    std::string rel = dir + "/" + name;
    if (name[0] == '@') {
      if (auto r = prune_dir(root_fd, root_dir, rel, keep, false); !r) return r;
      if (drop_empty_scopes) ::unlinkat(root_fd, rel.c_str(), AT_REMOVEDIR);  // fails unless empty
      continue;
    }
    if (keep.count(rel)) continue;
    if (::unlinkat(root_fd, rel.c_str(), 0) != 0 && errno != ENOENT) {
      if (errno != EISDIR) return Error::failed(Code::Io, "failed to remove " + rel + ": " + fs::errno_text(errno));
      if (auto r = fs::remove_all(fs::join(root_dir, rel)); !r) return r;
    }
  }
  return {};
}

}  // namespace

Result<void> prune_links(InstallContext& cx) {
  if (!cx.modules_existed) return {};
  std::set<std::string> keep;
  for (auto& l : cx.plan.top_links) keep.insert(l.path);
  std::vector<std::string> dirs{std::string(geometry::kHoisted)};
  for (auto& imp : cx.plan.importers) dirs.push_back(imp.modules_dir);
  for (auto& dir : dirs) {
    if (auto r = prune_dir(cx.root_fd->fd(), cx.root_dir, dir, keep, dir != geometry::kHoisted); !r) return r;
    // Shims are rewritten by link-bins; stale ones go (the directory stays, as with pnpm).
    for (auto& name : entries_of(cx.root_fd->fd(), geometry::bin_dir(dir)))
      ::unlinkat(cx.root_fd->fd(), (geometry::bin_dir(dir) + "/" + name).c_str(), 0);
  }
  return {};
}

}  // namespace tarn
