// --filter for install (read-inputs): which projects this install runs through, and
// which it keeps linked. Measured with pnpm 12.21 on fixtures/workspace:
//   - the selected projects are installed, and the root with them, selected or not
//     (`--filter @ws/b` links the root and packages/b only);
//   - projects an earlier install linked keep their node_modules: pnpm's lock copy keeps
//     their importers, and the next filtered install adds to it (`--filter @ws/b` then
//     `--filter @ws/c` leaves the tree of `--filter @ws/b --filter @ws/c`);
//   - only the selected projects and the root are held to the frozen-lockfile check and
//     run their lifecycle scripts;
//   - a selection of no project installs nothing ("Scope: 0 of 4 workspace projects").
#include <algorithm>

#include "passes.hpp"
#include "tarn/linker/geometry.hpp"
#include "tarn/workspace/filter.hpp"

namespace tarn {

namespace {

// The importers the last complete install linked: its copy of the lockfile lists them.
std::vector<std::string> previously_installed(const InstallContext& cx) {
  auto text = fs::read_file(fs::join(cx.root_dir, geometry::kLockCopy));
  return text ? lockfile_importer_ids(*text) : std::vector<std::string>{};
}

Result<std::vector<workspace::Selector>> selectors(const InstallOptions& o) {
  std::string prefix = fs::absolute(o.dir);
  std::vector<workspace::Selector> out;
  for (auto& f : o.filter) out.push_back(workspace::parse_selector(f, prefix));
  for (auto& f : o.filter_prod) {
    out.push_back(workspace::parse_selector(f, prefix));
    out.back().follow_prod_deps_only = true;
  }
  return out;
}

}  // namespace

Result<void> select_importers(InstallContext& cx) {
  std::vector<workspace::ProjectInfo> infos;
  for (auto& p : cx.projects) {
    auto m = Manifest::parse(p.manifest_text, p.manifest_path);
    if (!m) return m.error();
    p.manifest = std::move(*m);
    infos.push_back(workspace::ProjectInfo::from_manifest(p.dir, p.manifest));
  }
  cx.manifests_parsed = true;
  workspace::Graph all = workspace::make_graph(infos), prod = workspace::make_graph(infos, {true, false});
  auto sels = selectors(cx.opts);
  if (!sels) return sels.error();
  auto sel = workspace::select_projects(all, prod, *sels);
  if (!sel) return sel.error();
  cx.selected_count = sel->selected.size();
  for (auto& p : cx.projects) p.this_run = p.installed = false;
  for (size_t i : sel->selected) cx.projects[i].this_run = true;
  if (cx.selected_count) cx.projects.front().this_run = true;
  auto before = previously_installed(cx);
  for (auto& p : cx.projects)
    p.installed = p.this_run || std::find(before.begin(), before.end(), p.id.str()) != before.end();
  return {};
}

}  // namespace tarn
