// Pass resolve: when there is no lockfile, when it is out of date with a package.json or
// with the settings it records, or when add/remove/update change package.json, the install
// resolves (libs/resolve) and writes pnpm-lock.yaml (and package.json) atomically before
// anything is linked. Tarballs start downloading into the store the moment a version is
// picked, so content overlaps with the rest of the walk (seed 000's metadata-first idea).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <future>

#include "git_fetch.hpp"
#include "passes.hpp"
#include "state.hpp"
#include "tarball_prefetch.hpp"
#include "tarn/lockfile/manifest_edit.hpp"
#include "tarn/resolve/resolver.hpp"
#include "tarn/resolve/save_spec.hpp"
#include "tarn/tarball/tarball.hpp"

namespace tarn {

namespace {

using resolve::PackageVersion;

Result<std::shared_ptr<const resolve::Packument>> fetch_now(resolve::PackumentSource& src, const PkgName& name) {
  std::promise<Result<std::shared_ptr<const resolve::Packument>>> p;
  auto f = p.get_future();
  src.get(name, false, [&p](Result<std::shared_ptr<const resolve::Packument>> r) { p.set_value(std::move(r)); });
  return f.get();
}

std::pair<std::string, std::string> split_spec(const std::string& s) {
  size_t at = s.find('@', s.size() && s[0] == '@' ? 1 : 0);
  if (at == std::string::npos) return {s, ""};
  return {s.substr(0, at), s.substr(at + 1)};
}

DepGroup group_for(const ManifestChange& c, const ManifestDoc& doc, const std::string& alias) {
  using G = ManifestChange::Group;
  if (c.group == G::Dev) return DepGroup::Dev;
  if (c.group == G::Optional) return DepGroup::Optional;
  if (c.group == G::Prod) return DepGroup::Prod;
  return doc.group_of(alias).value_or(DepGroup::Prod);
}

// A scratch directory for resolving one tarball or git package, removed when done.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string t = "/tmp/tarn-resolve-XXXXXX";
    if (::mkdtemp(t.data())) path = t;
  }
  ~ScratchDir() {
    if (!path.empty()) (void)fs::remove_all(path);
  }
};

Result<net::Body> download(InstallContext& cx, const std::string& url) {
  std::promise<Result<net::Body>> p;
  auto f = p.get_future();
  cx.fetcher->get(net::Request{url, cx.settings.authorization_for(url), url},
                  [&p](Result<net::Body>&& b) { p.set_value(std::move(b)); });
  auto body = f.get();
  if (body) cx.fetcher->release(body->size());
  return body;
}

// A tarball URL or a file: tarball for the resolver: its integrity and package.json (pnpm's
// tarball resolver reads the manifest from the archive).
Result<resolve::ExoticIo::Tarball> exotic_tarball(InstallContext& cx, const std::string& where) {
  net::Body bytes;
  if (!where.empty() && where[0] == '/') {
    auto text = fs::read_file(where);
    if (!text) return text.error();
    bytes.assign(text->begin(), text->end());
  } else {
    auto b = download(cx, where);
    if (!b) return b.error();
    bytes = std::move(*b);
  }
  ScratchDir tmp;
  int fd = tmp.path.empty() ? -1 : ::open(tmp.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::failed(Code::FetchFailed, "failed to unpack " + where + ": no scratch directory");
  auto index = extract_tar(bytes, fd, where);
  std::optional<Result<std::string>> manifest;
  size_t ordinal = 0;
  for (auto& e : index ? index->entries : std::vector<PackageIndex::Entry>{}) {
    if (e.dir) continue;
    if (e.path == "package.json") manifest = fs::read_file_at(fd, PackageIndex::blob_name(ordinal).c_str(), where);
    ++ordinal;
  }
  ::close(fd);
  if (!index) return index.error();
  if (!manifest) return Error::failed(Code::BadPackageJson, "failed to read the package.json of " + where + ": the tarball has none");
  if (!*manifest) return manifest->error();
  Integrity integrity = compute_sha512(bytes);
  // An install keeps the bytes it has (pnpm's tarball resolver hands them to the store): the
  // link pass finds the package stored and fetches nothing.
  if (!cx.opts.lockfile_only && cx.store) {
    StoreKey key = StoreKey::from_integrity(integrity);
    if (cx.store->check(key) != Store::Health::Present)
      (void)cx.store->add(key, [&](int sfd) { return unpack_tarball(bytes, &integrity, sfd, where); });
  }
  return resolve::ExoticIo::Tarball{std::move(**manifest), integrity};
}

resolve::ExoticIo exotic_io(InstallContext& cx) {
  resolve::ExoticIo io;
  io.tarball = [&cx](const std::string& where) { return exotic_tarball(cx, where); };
  io.git_ls_remote = [](const std::string& repo) -> Result<std::string> {
    ScratchDir tmp;
    return git_ls_remote(repo, tmp.path);
  };
  io.git_manifest = [](const std::string& repo, const std::string& commit, const std::string& path) -> Result<std::string> {
    ScratchDir tmp;
    return git_read_manifest(repo, commit, path, tmp.path);
  };
  return io;
}

// The ResolveInput for this workspace and its settings.
resolve::ResolveInput resolve_input(const InstallContext& cx, const Lockfile* existing) {
  resolve::ResolveInput in;
  for (auto& p : cx.projects) in.projects.push_back({p.id, p.dir, p.manifest});
  in.existing = existing;
  in.overrides = cx.settings.overrides;
  in.catalogs = cx.settings.catalogs;
  in.package_extensions = cx.settings.package_extensions;
  in.package_extensions_checksum = cx.settings.package_extensions_checksum;
  in.auto_install_peers = cx.settings.auto_install_peers;
  in.dedupe_peer_dependents = cx.settings.dedupe_peer_dependents;
  in.strict_peer_dependencies = cx.settings.strict_peer_dependencies;
  const std::string& m = cx.settings.resolution_mode;
  in.mode = m == "lowest-direct" ? resolve::ResolutionMode::LowestDirect
            : m == "time-based"  ? resolve::ResolutionMode::TimeBased
                                 : resolve::ResolutionMode::Highest;
  if (cx.settings.minimum_release_age) in.minimum_release_age = std::chrono::minutes(cx.settings.minimum_release_age);
  else in.minimum_release_age.reset();
  in.minimum_release_age_exclude = cx.settings.minimum_release_age_exclude;
  const Settings* s = &cx.settings;
  in.registry_for = [s](const PkgName& n) { return s->registry_for(n); };
  return in;
}

// `tarn add`: each spec lands in package.json as pnpm writes it: an existing dependency
// named without a spec keeps its spec; a new one gets ^<latest>; a registry range or tag
// is resolved and saved with the operator it asked for; other specs verbatim.
Result<void> apply_add(InstallContext& cx, resolve::PackumentSource& src, ManifestDoc& doc) {
  const ManifestChange& c = cx.opts.change;
  auto deflt = c.exact ? resolve::RangeStyle::Patch : resolve::style_of_prefix(cx.settings.save_prefix);
  auto in = resolve_input(cx, nullptr);
  for (auto& text : c.specs) {
    auto [alias, spec] = split_spec(text);
    auto name = PkgName::parse(alias);
    if (!name) return name.error();
    auto prev = doc.spec_of(alias);
    DepGroup g = group_for(c, doc, alias);
    if (spec.empty() && prev) spec = *prev;
    // pnpm 12.21: a new dependency named without a spec, that the default catalog has an
    // entry for, is saved as `catalog:` (test/resolve/cases/add-catalog).
    if (spec.empty() && cx.settings.catalogs.count("default") && cx.settings.catalogs.at("default").count(alias))
      spec = "catalog:";
    // A catalog: spec (given, or the one package.json has) is saved as written.
    if (resolve::catalog_name(spec)) {
      doc.set(g, alias, spec);
      if (c.peer) doc.set_peer(alias, spec);
      continue;
    }
    std::string saved = spec;
    auto ws = resolve::WantedSpec::parse(*name, spec.empty() ? "latest" : spec);
    if (!ws) return ws.error();
    if (ws->is_registry() && !ws->aliased) {
      auto doc_r = fetch_now(src, ws->name);
      if (!doc_r) return doc_r.error();
      resolve::PickOptions po;
      if (in.minimum_release_age) po.published_by = in.now - *in.minimum_release_age;
      // lowest-direct and time-based save the lowest match, which is what they resolve
      // (test/resolve/cases/time-based-add: f@^1.0.0 stays ^1.0.0).
      po.lowest = in.mode != resolve::ResolutionMode::Highest;
      const PackageVersion* pv = resolve::pick_version(**doc_r, *ws, po);
      if (!pv) po.published_by.reset(), pv = resolve::pick_version(**doc_r, *ws, po);
      if (!pv)
        return Error::failed(Code::NoMatchingVersion, "No matching version found for " + alias + "@" +
                                                          printable(spec.empty() ? "latest" : spec));
      if (!(prev && spec == *prev))
        saved = resolve::version_range(pv->version, prev ? resolve::infer_range_style(*prev) : std::nullopt,
                                       c.exact ? std::optional(resolve::RangeStyle::Patch) : resolve::infer_range_style(spec),
                                       deflt);
    }
    doc.set(g, alias, saved);
    if (c.peer) doc.set_peer(alias, saved);
  }
  return {};
}

Result<void> apply_remove(InstallContext& cx, ManifestDoc& doc) {
  std::vector<std::string> missing;
  for (auto& name : cx.opts.change.specs)
    if (!doc.remove(name)) missing.push_back(name);
  if (missing.empty()) return {};
  std::string list;
  for (auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  return Error::failed(Code::CannotRemoveMissingDeps,
                       "Cannot remove " + list + ": no such dependency found in " + cx.root().manifest_path);
}

// `update`'s targets: the names given, or every direct dependency of the root project.
std::set<std::string> update_targets(const InstallContext& cx) {
  std::set<std::string> t(cx.opts.change.specs.begin(), cx.opts.change.specs.end());
  if (!t.empty()) return t;
  const Manifest& m = cx.root().manifest;
  for (auto* g : {&m.dependencies, &m.dev_dependencies, &m.optional_dependencies})
    for (auto& [n, s] : *g) t.insert(n);
  return t;
}

// The lockfile as update sees it: the targets lose their pins, everything else keeps them.
Lockfile without_pins(const Lockfile& lf, const std::set<std::string>& targets) {
  Lockfile out = lf;
  std::erase_if(out.snapshots, [&](const Snapshot& s) { return targets.count(s.key.name().str()) > 0; });
  out.reindex();
  return out;
}

// After update resolved: each target's range moves to what was picked, keeping its
// operator; tags, workspace:, link: and file: specs stay.
void bump_ranges(InstallContext& cx, ManifestDoc& doc, Lockfile& lf, const std::set<std::string>& targets) {
  for (auto& imp : lf.importers) {
    if (!imp.id.is_root()) continue;
    for (auto& d : imp.deps) {
      if (!targets.count(d.alias.str())) continue;
      auto style = resolve::infer_range_style(d.specifier);
      auto ws = resolve::WantedSpec::parse(d.alias, d.specifier);
      if (!style || !ws || !ws->is_registry() || ws->kind == resolve::WantedSpec::Kind::Tag) continue;
      auto v = Version::parse(std::string(d.ref.target.version()));
      if (!v) continue;
      std::string spec = resolve::version_range(*v, style, std::nullopt, resolve::RangeStyle::Major);
      if (ws->aliased) spec = "npm:" + ws->name.str() + "@" + spec;
      d.specifier = spec;
      doc.set(d.group, d.alias.str(), spec);
    }
  }
}

// Writes the lockfile, then package.json when it changed, each replaced atomically.
Result<void> save_outputs(InstallContext& cx, const Lockfile& lf, const ManifestDoc* doc) {
  if (auto r = save_lockfile(lf, cx.lockfile_path); !r) return r;
  cx.lockfile_text = write_lockfile(lf);
  cx.lockfile_streamed.reset();
  if (!doc) return {};
  std::string text = doc->render();
  if (text == cx.root().manifest_text) return {};
  if (auto r = doc->save(cx.root().manifest_path); !r) return r;
  Project& root = cx.projects.front();
  root.manifest_text = std::move(text);
  return {};
}

// Picks younger than minimumReleaseAge: with minimumReleaseAgeStrict an error; otherwise
// pnpm 12.21 adds them to minimumReleaseAgeExclude in pnpm-workspace.yaml and says so.
Result<void> handle_immature(InstallContext& cx, const std::map<std::string, std::string>& immature) {
  if (immature.empty()) return {};
  if (cx.settings.minimum_release_age_strict) {
    std::string msg = std::to_string(immature.size()) + " versions do not meet the minimumReleaseAge constraint:";
    for (auto& [id, t] : immature) msg += "\n  " + id + " was published at " + t + ", within the minimumReleaseAge cutoff";
    return Error::failed(Code::NoMatureMatchingVersion, msg);
  }
  std::string path = fs::join(cx.root_dir, "pnpm-workspace.yaml");
  auto old = fs::read_file(path);
  std::string text = old ? *old : "";
  if (text.find("minimumReleaseAgeExclude:") != std::string::npos) {
    cx.rep.warn("resolved versions younger than minimumReleaseAge; add them to minimumReleaseAgeExclude in " + path);
    return {};
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += "minimumReleaseAgeExclude:\n";
  for (auto& [id, t] : immature) text += "  - " + id + "\n";
  if (auto r = fs::write_file_atomic(path, text); !r) return r;
  std::string msg = "Added " + std::to_string(immature.size()) +
                    " entries to minimumReleaseAgeExclude in pnpm-workspace.yaml (set minimumReleaseAgeStrict to "
                    "true to gate these updates with a prompt):";
  for (auto& [id, t] : immature) msg += "\n  " + id;
  cx.rep.info(msg);
  return {};
}


// Applies add/remove/update to the root package.json (in memory), before resolution.
Result<std::optional<ManifestDoc>> change_manifest(InstallContext& cx, resolve::PackumentSource& src) {
  using K = ManifestChange::Kind;
  if (cx.opts.change.kind == K::None) return std::optional<ManifestDoc>();
  auto doc = ManifestDoc::parse(cx.root().manifest_text, cx.root().manifest_path);
  if (!doc) return doc.error();
  Result<void> r;
  if (cx.opts.change.kind == K::Add) r = apply_add(cx, src, *doc);
  else if (cx.opts.change.kind == K::Remove) r = apply_remove(cx, *doc);
  if (!r) return r.error();
  auto m = Manifest::parse(doc->render(), cx.root().manifest_path);
  if (!m) return m.error();
  cx.projects.front().manifest = std::move(*m);
  return std::optional<ManifestDoc>(std::move(*doc));
}

resolve::PackumentClientOptions client_options(const InstallContext& cx) {
  resolve::PackumentClientOptions o;
  o.registry = cx.settings.registry;
  o.cache_dir = cx.settings.cache_dir;
  o.mode = cx.opts.offline         ? resolve::CacheMode::Offline
           : cx.opts.prefer_offline ? resolve::CacheMode::PreferOffline
                                    : resolve::CacheMode::Revalidate;
  o.full_metadata = false;
  const Settings* s = &cx.settings;
  o.authorization = [s](const std::string& url) { return s->authorization_for(url); };
  o.registry_for = [s](const PkgName& n) { return s->registry_for(n); };
  return o;
}

}  // namespace

Result<void> resolve_lockfile(InstallContext& cx) {
  // pnpm runs the pnpmfile's hooks (readPackage, afterAllResolved, ...) while it resolves;
  // tarn runs no JavaScript, so it refuses rather than write a lockfile the hooks would change.
  if (!cx.pnpmfile_path.empty())
    return Error::failed(Code::Unsupported, "failed to resolve " + cx.lockfile_path + ": tarn does not run pnpmfile hooks (" +
                                                cx.pnpmfile_path +
                                                "); resolve with pnpm, or pass --ignore-pnpmfile to resolve without them");
  // The settings' fetcher (fetch-retries, fetch-timeout, ...); it is not started yet when
  // the store already existed (install.cpp starts it early only for a cold store).
  if (!cx.fetcher) cx.start_fetcher();
  if (!cx.fetcher) {
    net::Fetcher::Options fo;
    fo.connections = cx.settings.network_concurrency;
    cx.fetcher.emplace(fo);  // offline: metadata comes from the cache, nothing is requested
  }
  cx.store.emplace(cx.settings.store_dir);
  if (auto r = cx.store->open(); !r) return r;
  resolve::PackumentClient client(*cx.fetcher, client_options(cx));
  auto doc = change_manifest(cx, client);
  if (!doc) return doc.error();
  bool updating = cx.opts.change.kind == ManifestChange::Kind::Update;
  std::set<std::string> targets = updating ? update_targets(cx) : std::set<std::string>{};
  std::optional<Lockfile> unpinned;
  if (updating && cx.has_lockfile) unpinned = without_pins(cx.lockfile, targets);
  auto in = resolve_input(cx, unpinned ? &*unpinned : cx.has_lockfile ? &cx.lockfile : nullptr);
  // --lockfile-only touches no store: nothing to prefetch. The prefetch outlives this pass
  // (fetch-and-link adopts what is still downloading).
  if (!cx.opts.lockfile_only) {
    cx.prefetch = std::make_shared<TarballPrefetch>(cx);
    in.on_picked = [pf = cx.prefetch.get()](const PkgName& n, const resolve::PackageVersion& pv) { pf->pick(n, pv); };
  }
  in.exotic = exotic_io(cx);
  resolve::ResolveReport report;
  auto lf = resolve::resolve(in, client, &report);
  if (!lf) return lf.error();
  // pnpm 12.21 records injectWorkspacePackages and otherwise resolves (and links) workspace
  // dependencies as without it: `link:` versions and symlinks (checked against the binary on
  // test/resolve/cases/workspace-inject, lockfile and node_modules).
  lf->inject_workspace_packages = cx.settings.inject_workspace_packages;
  for (auto& w : report.warnings) cx.rep.warn(w);
  if (auto r = handle_immature(cx, report.immature); !r) return r;
  std::optional<ManifestDoc> bump_doc;
  if (updating) {
    auto d = ManifestDoc::parse(cx.root().manifest_text, cx.root().manifest_path);
    if (!d) return d.error();
    bump_ranges(cx, *d, *lf, targets);
    bump_doc = std::move(*d);
  }
  const ManifestDoc* out_doc = bump_doc ? &*bump_doc : *doc ? &**doc : nullptr;
  if (auto r = save_outputs(cx, *lf, out_doc); !r) return r;
  auto parsed = Lockfile::parse(cx.lockfile_text, cx.lockfile_path);
  if (!parsed) return parsed.error();
  cx.lockfile = std::move(*parsed);
  cx.has_lockfile = true;
  compute_identity(cx);
  return {};
}

}  // namespace tarn
