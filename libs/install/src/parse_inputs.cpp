// Pass parse-inputs: the lockfile (yaml-cpp, in parallel chunks) and every package.json.
#include "passes.hpp"

namespace tarn {

Result<void> parse_inputs(InstallContext& cx) {
  for (auto& p : cx.projects) {
    if (cx.manifests_parsed) break;
    auto m = Manifest::parse(p.manifest_text, p.manifest_path);
    if (!m) return m.error();
    p.manifest = std::move(*m);
  }
  if (!cx.has_lockfile) return {};
  auto l = Lockfile::parse(cx.lockfile_text, cx.lockfile_path);
  if (!l) return l.error();
  cx.lockfile = std::move(*l);
  return {};
}

}  // namespace tarn
