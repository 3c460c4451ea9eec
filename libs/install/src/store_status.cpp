// `tarn store status` (store_status.hpp).
#include "tarn/install/store_status.hpp"

#include <boost/json.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <tbb/parallel_for.h>

#include <set>

#include "passes.hpp"
#include "tarn/linker/geometry.hpp"
#include "tarn/lockfile/lockfile.hpp"
#include "tarn/store/store.hpp"
#include "tarn/workspace/projects.hpp"

namespace tarn {

namespace {

// What the last install skipped (.modules.yaml `skipped`): pnpm leaves those out.
std::set<std::string> skipped(const std::string& root) {
  std::set<std::string> out;
  auto text = fs::read_file(fs::join(root, geometry::kModulesYaml));
  if (!text) return out;
  boost::system::error_code ec;
  auto v = boost::json::parse(*text, ec);
  if (ec || !v.is_object()) return out;
  if (auto* a = v.as_object().if_contains("skipped"); a && a->is_array())
    for (auto& k : a->as_array())
      if (k.is_string()) out.emplace(k.as_string());
  return out;
}

// Where the store keeps a lockfile package, as the install addresses it (store_check.cpp);
// nullopt for a directory dependency, which is linked from its own files.
std::optional<StoreKey> store_key(const Snapshot& s, const PackageMeta& m, const Settings& settings) {
  if (m.resolution == ResolutionKind::Directory) return std::nullopt;
  if (m.resolution == ResolutionKind::Git) return StoreKey::from_git(m.git_repo, m.git_commit, m.git_path);
  if (m.integrity) return StoreKey::from_integrity(*m.integrity);
  TarballUrl url = !m.tarball.empty() ? m.tarball : settings.tarball_url(s.key.name(), s.key.version());
  return StoreKey::from_url(url.str());
}

// pnpm's dint.check: every file the index records is in `pkg_dir`, a regular file of the
// recorded size and content.
bool modified(const std::string& pkg_dir, const Store::Package& stored) {
  size_t files = 0;
  for (auto& e : stored.index.entries) files += !e.dir;
  auto sums = read_sums(stored.dir.fd(), files);
  size_t ordinal = 0;
  for (auto& e : stored.index.entries) {
    if (e.dir) continue;
    size_t n = ordinal++;
    std::string path = fs::join(pkg_dir, e.path);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != e.size) return true;
    if (!sums) continue;  // committed before sums were kept: the size is all there is
    auto c = crc32_file(AT_FDCWD, path);
    if (!c || c->size != e.size || c->crc != (*sums)[n]) return true;
  }
  return false;
}

}  // namespace

Result<StoreStatus> store_status(const std::string& dir, const CliOverrides& cli) {
  std::string root = workspace::find_root(fs::absolute(dir));
  auto settings = load_settings(root, cli);
  if (!settings) return settings.error();
  StoreStatus out;
  out.store_dir = Store::layout_dir(settings->store_dir);
  auto lf = Lockfile::load(fs::join(root, "pnpm-lock.yaml"));
  if (!lf) return lf.error().is_not_found() ? Result<StoreStatus>(out) : lf.error();
  if (!Store::exists(settings->store_dir)) return out;
  Store store(settings->store_dir);
  if (auto r = store.open(); !r) return r.error();
  auto skip = skipped(root);
  std::vector<char> changed(lf->snapshots.size(), 0), compared(lf->snapshots.size(), 0);
  tbb::parallel_for(size_t(0), lf->snapshots.size(), [&](size_t i) {
    const Snapshot& s = lf->snapshots[i];
    const PackageMeta* m = lf->meta(s.key);
    if (!m || skip.count(s.key.str())) return;
    auto key = store_key(s, *m, *settings);
    if (!key) return;
    auto stored = store.load(*key);
    if (!stored) return;  // pnpm: no index for it, nothing to compare with
    compared[i] = 1;
    SlotName slot = SlotName::from(s.key, settings->virtual_store_dir_max_length);
    changed[i] = modified(fs::join(root, geometry::package_dir(slot, s.key.name())), *stored);
  });
  for (size_t i = 0; i < changed.size(); ++i) {
    out.checked += compared[i];
    if (changed[i]) out.modified.push_back(lf->snapshots[i].key.str());
  }
  return out;
}

}  // namespace tarn
