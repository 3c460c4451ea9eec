// Pass plan: every slot, path, link and bin decided up front (libs/linker's planner).
#include <algorithm>

#include "builds.hpp"
#include "passes.hpp"

namespace tarn {

Result<void> plan_layout(InstallContext& cx) {
  PlanOptions popt;
  popt.include = Include{cx.opts.prod, cx.opts.dev, cx.opts.optional};
  popt.project_dir = cx.root_dir;
  popt.node_version = [&cx] { return cx.node->get(); };
  for (auto& p : cx.projects)
    if (auto name = PkgName::parse(p.manifest.name); name && !p.id.is_root())
      popt.workspace_packages.emplace_back(p.id, *name);
  // A filtered install plans the importers it keeps linked; the others' links stay as an
  // earlier install left them, or absent.
  std::erase_if(cx.lockfile.importers, [&](const Importer& imp) {
    auto p = std::find_if(cx.projects.begin(), cx.projects.end(), [&](const Project& x) { return x.id == imp.id; });
    return p != cx.projects.end() && !p->installed;
  });
  auto plan = make_plan(cx.lockfile, cx.settings, popt);
  if (!plan) return plan.error();
  cx.plan = std::move(*plan);
  // pnpm installs a package whose engines the host misses, with a warning; engineStrict
  // makes it an error.
  if (!cx.plan.engine_issues.empty() && cx.settings.engine_strict)
    return Error::failed(Code::UnsupportedEngine, cx.plan.engine_issues.front());
  for (auto& issue : cx.plan.engine_issues) cx.rep.warn(issue);
  report_plan(cx);
  decide_builds(cx);
  return decide_patches(cx);
}

}  // namespace tarn
