// Pass store-check: each planned package's tarball URL and store address, and which ones
// the store lacks (those become downloads, one per tarball).
#include <tbb/parallel_for.h>

#include <unordered_map>

#include "git_fetch.hpp"
#include "passes.hpp"
#include "tarball_prefetch.hpp"

namespace tarn {

namespace {

Error offline_error(const InstallContext& cx) {
  std::string names;
  size_t shown = 0;
  for (size_t i = 0; i < cx.plan.packages.size() && shown < 5; ++i)
    if (cx.sources.cold[i]) names += (shown++ ? ", " : "") + cx.plan.packages[i].snapshot->key.str();
  size_t n = cx.sources.cold_count;
  return Error::failed(Code::NoOfflineTarball, "failed to install offline: " + std::to_string(n) +
                                                   " packages are not in the store (" + names + (n > 5 ? ", ..." : "") + ")");
}

}  // namespace

Result<void> check_store(InstallContext& cx) {
  auto& pkgs = cx.plan.packages;
  Sources& src = cx.sources;
  src.cold.assign(pkgs.size(), 0);
  tbb::parallel_for(size_t(0), pkgs.size(), [&](size_t i) {
    auto& p = pkgs[i];
    const PackageMeta& m = *p.meta;
    // A directory dependency is linked from its own files (pnpm's directory fetcher):
    // nothing to fetch, nothing in the store.
    if (m.resolution == ResolutionKind::Directory) return;
    if (m.resolution == ResolutionKind::Git) {
      p.store_key = git_store_key(p);
    } else {
      p.tarball_url = !m.tarball.empty() ? m.tarball
                                         : cx.settings.tarball_url(p.snapshot->key.name(), p.snapshot->key.version());
      p.store_key = m.integrity ? StoreKey::from_integrity(*m.integrity) : StoreKey::from_url(p.tarball_url.str());
    }
    src.cold[i] = cx.store->check(p.store_key) != Store::Health::Present;
  });
  std::unordered_map<std::string_view, size_t> download_of, git_of, adopted_of;
  for (size_t i = 0; i < pkgs.size(); ++i) {
    if (!src.cold[i]) continue;
    ++src.cold_count;
    bool git = pkgs[i].meta->resolution == ResolutionKind::Git;
    bool adopted = !git && cx.prefetch && cx.prefetch->started(pkgs[i].store_key);
    auto& groups = git ? src.git_fetches : adopted ? src.adopted : src.downloads;
    auto& index = git ? git_of : adopted ? adopted_of : download_of;
    auto [it, fresh] = index.emplace(pkgs[i].store_key.rel(), groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  if (cx.opts.offline && src.cold_count) return offline_error(cx);
  return {};
}

}  // namespace tarn
