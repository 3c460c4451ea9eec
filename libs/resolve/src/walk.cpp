// The resolution walk, as pnpm 12's resolve_dependency_tree walks (docs/design.md):
// breadth-first with a barrier per level. Every edge of a level is picked before any
// child subtree; the versions picked at each ancestor level bias their descendants'
// picks (the "overlay"); each package's children are resolved once, by its first
// occurrence in BFS order (ties: the smallest ancestor path). Packuments are requested the
// moment a name is known, so the next level's metadata downloads while this one settles.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <filesystem>
#include <set>
#include <span>
#include <unordered_map>

#include "compat.hpp"
#include "peer_providers.hpp"
#include "prefetch.hpp"
#include "walk_internal.hpp"

namespace tarn::resolve {

namespace {

constexpr unsigned kDirectDepWeight = 1000;        // a spec in some project's package.json
constexpr unsigned kLockedVersionWeight = 1000000;  // a version the lockfile already has

using Overlay = std::map<std::string, std::vector<std::string>>;  // name -> versions, first-seen order

// One place a package occurs in the BFS tree.
struct Occ {
  size_t pkg;
  size_t parent;  // occurrence index, SIZE_MAX under an importer
  std::shared_ptr<const Overlay> children_overlay;
};

// One edge to settle: a direct dependency of an importer or a child of an owning occurrence.
struct Seed {
  size_t parent_occ;  // SIZE_MAX: importer-level
  size_t slot;        // index in the importer's deps or the parent package's children
  WantedSpec spec;
  bool optional;
  bool as_direct;  // picked with the direct-dependency options
};

std::optional<Preferred::Kind> selector_kind(const std::string& spec) {
  if (spec.empty() || spec == "*") return Preferred::Kind::Range;
  if (Version::parse(spec)) return Preferred::Kind::Version;
  if (Range::parse(spec)) return Preferred::Kind::Range;
  bool tag = std::all_of(spec.begin(), spec.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("-_.!~*'()", c);
  });
  if (tag) return Preferred::Kind::Tag;
  return std::nullopt;
}

void add_selector(std::vector<Preferred>& list, Preferred::Kind k, const std::string& sel, unsigned w, bool bump) {
  for (auto& p : list)
    if (p.selector == sel) {
      p.weight = bump ? p.weight + w : w;
      return;
    }
  list.push_back({k, sel, w});
}

// pnpm's get_preferred_versions_from_lockfile_and_manifests, per project: pnpm 12.21 lets
// a project's own specs steer its tree, not another project's (test/resolve/cases/workspace).
std::map<std::string, std::vector<Preferred>> preferred_seed(const ResolveInput& in, size_t project) {
  std::map<std::string, std::vector<Preferred>> out;
  for (auto& p : std::span(&in.projects[project], 1))
    for (auto* group : {&p.manifest.dev_dependencies, &p.manifest.dependencies, &p.manifest.optional_dependencies})
      for (auto& [name, spec] : *group)
        if (auto k = selector_kind(spec)) add_selector(out[name], *k, spec, kDirectDepWeight, false);
  if (in.existing)
    for (auto& s : in.existing->snapshots) {
      std::string v(s.key.version());
      if (Version::parse(v)) add_selector(out[s.key.name().str()], Preferred::Kind::Version, v, kLockedVersionWeight, true);
    }
  return out;
}

}  // namespace

bool closes_second_lap(const std::vector<size_t>& ids, size_t parent, size_t id) {
  auto first = std::find(ids.begin(), ids.end(), parent);
  if (first == ids.end() || first == ids.end() - 1) return false;
  auto last = std::find(ids.rbegin(), ids.rend(), id);
  if (last == ids.rend()) return false;
  size_t li = static_cast<size_t>(ids.rend() - last) - 1;
  return static_cast<size_t>(first - ids.begin()) < li && li != ids.size() - 1;
}

namespace {

struct Walk {
  const ResolveInput& in;
  PackumentSource& source;
  ResolvedTree tree;
  ErrorSink errs;
  std::vector<std::map<std::string, std::vector<Preferred>>> seeds_by_project;
  std::map<std::string, std::vector<Preferred>> seed_prefs;  // the project being extended
  std::unordered_map<std::string, size_t> by_id;  // "name@version" -> package
  std::vector<Occ> occs;
  std::vector<size_t> owner;  // per package: the occurrence that resolved its children
  std::vector<EagerOcc> eager;  // per occurrence, for the peer-provider discovery
  // pnpm's ImporterHoistState, the part append_resolved_peer_providers reads: the importer's
  // direct nodes in pnpm's order, how many a discovery pass already walked, the providers.
  struct HoistState {
    std::vector<PeerProviderDiscovery::Direct> direct;
    size_t walked = 0;
    std::vector<PeerProviderDiscovery::NodeId> providers;
  };
  std::vector<HoistState> hoist;
  PeerProviderDiscovery discovery;  // one per resolve, as pnpm's PeerHoistDiscovery
  std::unordered_map<std::string, Result<std::shared_ptr<const Packument>>> docs;
  std::set<std::string> requested;

  // resolutionMode time-based: every document is the full one (pnpm's full_metadata_policy:
  // the abbreviated one has no `time`), and transitive picks are cut off at the newest
  // direct dependency's publish time plus an hour (compute_time_based_cutoff).
  bool full_docs = false;
  std::optional<std::chrono::system_clock::time_point> subdep_published_by;
  std::vector<size_t> project_of;  // importer index -> project index
  size_t importer_now = 0;         // the importer extend() is walking
  std::string lockfile_dir;        // the root project's directory: file: ids are relative to it

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::string, Result<std::shared_ptr<const Packument>>>> done;

  Walk(const ResolveInput& i, PackumentSource& s) : in(i), source(s), full_docs(i.mode == ResolutionMode::TimeBased) {
    for (size_t p = 0; p < i.projects.size(); ++p) seeds_by_project.push_back(preferred_seed(i, p));
  }

  // Documents are keyed "name" (abbreviated) or "name\tfull".
  std::string doc_key(const PkgName& name, bool full) const {
    return full || full_docs ? name.str() + "\tfull" : name.str();
  }
  void ensure(const PkgName& name, bool full = false) {
    std::string key = doc_key(name, full);
    full = full || full_docs;
    if (!requested.insert(key).second) return;
    source.get(name, full, [this, n = key](Result<std::shared_ptr<const Packument>> r) {
      std::lock_guard lk(mu);
      done.emplace_back(n, std::move(r));
      cv.notify_one();
    });
  }

  // Consumes completions until `name` has arrived.
  const Result<std::shared_ptr<const Packument>>& wait_doc(const std::string& name) {
    while (!docs.count(name)) {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return !done.empty(); });
      auto item = std::move(done.front());
      done.pop_front();
      lk.unlock();
      docs.emplace(std::move(item.first), std::move(item.second));
    }
    return docs.at(name);
  }

  std::vector<size_t> ancestors(size_t occ) const {
    std::vector<size_t> ids;
    for (size_t o = occ; o != SIZE_MAX; o = occs[o].parent) ids.push_back(occs[o].pkg);
    std::reverse(ids.begin(), ids.end());
    return ids;
  }

  std::vector<Preferred> prefs_for(const std::string& name, const Overlay* overlay) const;
  PickOptions pick_options(const Seed& s, const std::vector<Preferred>* prefs) const;
  std::optional<size_t> settle(const Seed& s, const std::string& owner);
  std::optional<size_t> settle_exotic(const Seed& s);
  size_t package_for_exotic(ExoticPick pick);
  std::optional<WantedSpec> child_exotic(size_t pkg, WantedSpec ws, bool optional);
  const Result<std::shared_ptr<const Packument>>& doc_for(const Seed& s, PickOptions& o);
  size_t package_for(const std::shared_ptr<const Packument>& doc, const PackageVersion* pv);
  std::vector<Seed> children_seeds(size_t occ);
  void extend(size_t importer, std::vector<Seed> level);
  std::vector<Seed> next_level(const std::vector<size_t>& fresh);
  std::vector<std::string> parent_path(size_t occ) const;
  struct Want {
    std::string alias, spec;
    DepGroup group;
    bool declared_peer_only;
  };
  std::vector<Want> direct_wants(size_t project) const;
  std::vector<Seed> importer_seeds(size_t project, size_t importer);
  Result<WantedSpec> injected_spec(size_t project, const Want& w, WantedSpec ws) const;
  void time_based_cutoff(const std::vector<size_t>& order);
  Result<std::string> link_target(size_t project, const WantedSpec& ws) const;
  bool hoist_round(size_t importer, bool optional_peers);
  void append_peer_providers(size_t importer, const std::map<std::string, MissingPeer>& missing);
  std::vector<PkgName> provider_path(size_t importer, PeerProviderDiscovery::NodeId node) const;
  std::string hoisted_spec(const std::string& name, const std::string& range, const std::vector<Range>& all) const;
};

std::vector<Preferred> Walk::prefs_for(const std::string& name, const Overlay* overlay) const {
  std::vector<Preferred> out;
  if (auto it = seed_prefs.find(name); it != seed_prefs.end()) out = it->second;
  if (overlay)
    if (auto it = overlay->find(name); it != overlay->end())
      for (auto& v : it->second)
        if (std::none_of(out.begin(), out.end(), [&](auto& p) { return p.selector == v; }))
          out.push_back({Preferred::Kind::Version, v, 1});
  return out;
}

PickOptions Walk::pick_options(const Seed& s, const std::vector<Preferred>* prefs) const {
  PickOptions o;
  o.lowest = s.as_direct && in.mode != ResolutionMode::Highest;
  if (in.minimum_release_age && in.minimum_release_age->count() > 0)
    o.published_by = in.now - *in.minimum_release_age;
  if (in.mode == ResolutionMode::TimeBased && !s.as_direct) o.published_by = subdep_published_by;
  o.preferred = prefs;
  return o;
}

bool excluded(const std::vector<std::string>& patterns, const std::string& name, std::vector<std::string>& versions) {
  for (auto& p : patterns) {
    size_t at = p.find('@', 1);
    std::string pat = p.substr(0, at);
    bool hit = pat == name || (pat.size() > 1 && pat.back() == '*' && name.compare(0, pat.size() - 1, pat, 0, pat.size() - 1) == 0);
    if (!hit) continue;
    if (at == std::string::npos) return true;
    // "name@1.0.0 || 1.0.1": those versions count as mature.
    std::string rest = p.substr(at + 1);
    for (size_t b = 0; b <= rest.size();) {
      size_t e = rest.find("||", b);
      std::string v = rest.substr(b, e == std::string::npos ? std::string::npos : e - b);
      v.erase(0, v.find_first_not_of(' '));
      v.erase(v.find_last_not_of(' ') + 1);
      if (!v.empty()) versions.push_back(v);
      if (e == std::string::npos) break;
      b = e + 2;
    }
  }
  return false;
}

const PackageVersion* pick_with_policy(const Packument& doc, const WantedSpec& spec, PickOptions o,
                                       const ResolveInput& in, std::map<std::string, std::string>& immature) {
  if (o.published_by && excluded(in.minimum_release_age_exclude, doc.name.str(), o.trusted_versions))
    o.published_by.reset();
  if (auto* pv = pick_version(doc, spec, o)) return pv;
  if (!o.published_by) return nullptr;
  // Nothing old enough matches: pnpm takes the lowest match of the unfiltered versions and
  // reports it (minimumReleaseAgeStrict is off by default).
  o.published_by.reset();
  if (spec.kind == WantedSpec::Kind::Range) o.lowest = true;
  const PackageVersion* pv = pick_version(doc, spec, o);
  if (!pv) return pv;
  auto t = doc.time.find(pv->version.str());
  // Only a pick younger than minimumReleaseAge is a violation: time-based's own cutoff for
  // transitive dependencies falls back silently (test/resolve/cases/time-based: d@1.0.0).
  if (in.mode == ResolutionMode::TimeBased) {
    if (!in.minimum_release_age || in.minimum_release_age->count() <= 0) return pv;
    auto when = t == doc.time.end() ? std::nullopt : parse_timestamp(t->second);
    if (when && *when <= in.now - *in.minimum_release_age) return pv;
  }
  immature[doc.name.str() + "@" + pv->version.str()] = t == doc.time.end() ? "" : t->second;
  return pv;
}

// The document a pick uses: the abbreviated one, unless the edge is optional (pnpm wants
// their os/cpu/libc) or a release-age cutoff meets a document without `time` that changed
// after the cutoff.
const Result<std::shared_ptr<const Packument>>& Walk::doc_for(const Seed& s, PickOptions& o) {
  const std::string& name = s.spec.name.str();
  if (s.optional || full_docs) {
    ensure(s.spec.name, true);
    return wait_doc(name + "\tfull");
  }
  auto& r = wait_doc(name);
  if (!r || !o.published_by || !(*r)->time.empty()) return r;
  auto modified = parse_timestamp((*r)->modified);
  if (modified && *modified <= *o.published_by) {
    o.published_by.reset();  // nothing was published after the cutoff
    return r;
  }
  ensure(s.spec.name, true);
  auto& full = wait_doc(name + "\tfull");
  if (full && (*full)->time.empty()) o.published_by.reset();  // pnpm: minimumReleaseAgeIgnoreMissingTime
  return full;
}

std::optional<size_t> Walk::settle(const Seed& s, const std::string& owner) {
  if (!s.spec.is_registry()) return settle_exotic(s);
  const std::string& name = s.spec.name.str();
  const Overlay* ov = s.parent_occ == SIZE_MAX ? nullptr : occs[s.parent_occ].children_overlay.get();
  auto prefs = prefs_for(name, ov);
  PickOptions o = pick_options(s, &prefs);
  auto& r = doc_for(s, o);
  if (!r) {
    if (!s.optional) errs.add(r.error());  // an optional edge that fails is dropped, as pnpm does
    return std::nullopt;
  }
  const PackageVersion* pv = pick_with_policy(**r, s.spec, o, in, tree.immature);
  if (pv) return package_for(*r, pv);
  if (s.optional) return std::nullopt;
  std::string have;
  const Packument& doc = **r;
  for (size_t i = doc.versions.size(), n = 0; i-- > 0 && n < 10; ++n)
    have += (n ? ", " : "") + doc.versions[i].version.str();
  errs.add(Error::failed(Code::NoMatchingVersion,
                         "No matching version found for " + name + "@" + printable(s.spec.text) + " while fetching it from " +
                             owner + (have.empty() ? "; the registry lists no versions" : "; the registry has " + have)));
  return std::nullopt;
}

// pnpm's peer_shadowed_dependencies: with autoInstallPeers, a dependency that is also a
// required peer is dropped for the peer. An optional peer does not shadow it
// (test/resolve/cases/peers-shadowed: ajv-formats@3.0.1 keeps `ajv` as a dependency).
std::set<std::string> peer_shadowed(const PackageVersion& pv, bool auto_install) {
  std::set<std::string> out;
  if (!auto_install) return out;
  for (auto& [n, r] : pv.peer_dependencies)
    if (std::find(pv.optional_peers.begin(), pv.optional_peers.end(), n) == pv.optional_peers.end()) out.insert(n);
  return out;
}

// pnpm's extract_peer_dependencies: peers the package does not also depend on itself.
std::vector<ResolvedPackage::Peer> own_peers(const PkgName& name, const PackageVersion& pv, bool auto_install) {
  std::set<std::string> own{name.str()};
  for (auto& [n, r] : pv.optional_dependencies) own.insert(n);
  std::set<std::string> shadowed = peer_shadowed(pv, auto_install);
  for (auto& [n, r] : pv.dependencies)
    if (!shadowed.count(n)) own.insert(n);
  std::map<std::string, ResolvedPackage::Peer> out;
  for (auto& [n, r] : pv.peer_dependencies)
    if (!own.count(n)) out[n] = {n, r, false};
  for (auto& n : pv.optional_peers)
    if (!own.count(n)) {
      auto [it, fresh] = out.try_emplace(n, ResolvedPackage::Peer{n, "*", true});
      it->second.optional = true;
    }
  std::vector<ResolvedPackage::Peer> v;
  for (auto& [n, p] : out) v.push_back(p);
  return v;
}

size_t Walk::package_for(const std::shared_ptr<const Packument>& doc, const PackageVersion* pv) {
  auto [it, fresh] = by_id.emplace(doc->name.str() + "@" + pv->version.str(), tree.packages.size());
  if (!fresh) return it->second;
  ResolvedPackage p;
  p.name = doc->name;
  p.doc = doc;
  p.meta = pv;
  if (auto ext = transform_manifest(in, doc->name, *pv)) {
    p.extended = std::make_shared<const PackageVersion>(std::move(*ext));
    p.meta = p.extended.get();
  }
  pv = p.meta;
  p.peers = own_peers(p.name, *pv, in.auto_install_peers);
  tree.packages.push_back(std::move(p));
  owner.push_back(SIZE_MAX);
  if (in.on_picked) in.on_picked(doc->name, *pv);
  // Metadata first: the children's packuments start downloading now, a level early.
  for (auto* list : {&pv->dependencies, &pv->optional_dependencies})
    for (auto& [n, r] : *list) {
      auto nm = PkgName::parse(n);
      if (!nm) continue;
      if (auto ws = WantedSpec::parse(*nm, r); ws && ws->is_registry()) ensure(ws->name);
    }
  return it->second;
}

// pnpm's extract_children: dependencies, then optionalDependencies (a name in both is
// optional), bundled names skipped, peer-shadowed names dropped, sorted by (name, range,
// optional).
std::vector<Seed> Walk::children_seeds(size_t occ) {
  size_t pkg = occs[occ].pkg;
  const PackageVersion& pv = *tree.packages[pkg].meta;
  std::set<std::string> bundled(pv.bundled_dependencies.begin(), pv.bundled_dependencies.end());
  std::set<std::string> shadowed = peer_shadowed(pv, in.auto_install_peers);
  std::vector<std::tuple<std::string, std::string, bool>> kids;
  for (auto& [n, r] : pv.dependencies)
    if (!pv.bundle_all && !bundled.count(n) && !shadowed.count(n)) kids.emplace_back(n, r, false);
  for (auto& [n_, r] : pv.optional_dependencies) {
    const std::string& n = n_;  // clang 14 cannot capture a structured binding
    if (bundled.count(n)) continue;
    auto it = std::find_if(kids.begin(), kids.end(), [&](auto& k) { return std::get<0>(k) == n; });
    if (it != kids.end()) std::get<2>(*it) = true;
    else kids.emplace_back(n, r, true);
  }
  std::sort(kids.begin(), kids.end());
  std::vector<Seed> out;
  auto& children = tree.packages[pkg].children;
  for (auto& [n, r, opt] : kids) {
    auto name = PkgName::parse(n);
    auto ws = name ? WantedSpec::parse(*name, r) : Result<WantedSpec>(name.error());
    if (ws && !ws->is_registry()) {
      auto child = child_exotic(pkg, std::move(*ws), opt);
      if (!child) continue;
      *ws = std::move(*child);
    }
    if (!ws) {
      if (!opt) errs.add(ws.error());
      continue;
    }
    children.push_back({*name, SIZE_MAX, opt});
    out.push_back(Seed{occ, children.size() - 1, std::move(*ws), opt, false});
  }
  return out;
}

// A package's own dependency that is not the registry's: a registry tarball URL is its
// version; a tarball URL or git repository is ERR_PNPM_EXOTIC_SUBDEP under
// blockExoticSubdeps (pnpm 12's default); file: resolves from a file: directory parent.
std::optional<WantedSpec> Walk::child_exotic(size_t pkg, WantedSpec ws, bool optional) {
  if (auto reg = registry_tarball(in, ws)) return reg;
  const ResolvedPackage& parent = tree.packages[pkg];
  using K = WantedSpec::Kind;
  std::string what = ws.name.str() + "@" + printable(ws.kind == K::File ? "file:" + ws.text : ws.text);
  Error e;
  if ((ws.kind == K::Tarball || ws.kind == K::Git) && in.block_exotic_subdeps)
    e = Error::failed(Code::ExoticSubdep, "Exotic dependency \"" + ws.name.str() + "\" (resolved via " +
                                              (ws.kind == K::Git ? "git-repository" : "url") +
                                              ") is not allowed in subdependencies when blockExoticSubdeps is enabled");
  else if (ws.kind == K::File && !parent.dir.empty()) return ws;
  else
    e = Error::failed(Code::Unsupported, "failed to resolve " + what + " (a dependency of " + parent.id() +
                                             "): tarn resolves a package's own link:, workspace: and file: dependencies "
                                             "only under a file: directory, and its tarball and git ones only with blockExoticSubdeps");
  if (!optional) errs.add(std::move(e));
  return std::nullopt;
}

// file:, tarball URLs and git: fetched now (pnpm's local, tarball and git resolvers), one
// package per depPath.
std::optional<size_t> Walk::settle_exotic(const Seed& s) {
  std::string base = s.parent_occ == SIZE_MAX ? in.projects[project_of[importer_now]].dir
                                              : tree.packages[occs[s.parent_occ].pkg].dir;
  auto pick = resolve_exotic(in, s.spec, base, lockfile_dir);
  if (!pick) {
    if (!s.optional) errs.add(pick.error());
    return std::nullopt;
  }
  return package_for_exotic(std::move(*pick));
}

size_t Walk::package_for_exotic(ExoticPick pick) {
  const PkgName& name = pick.doc->name;
  auto [it, fresh] = by_id.emplace(name.str() + "@" + pick.ref, tree.packages.size());
  if (!fresh) return it->second;
  ResolvedPackage p;
  p.name = name;
  p.doc = pick.doc;
  p.meta = &pick.doc->versions.front();
  p.ref = pick.ref;
  p.exotic = pick.meta;
  p.dir = pick.dir;
  if (auto ext = transform_manifest(in, name, *p.meta)) {
    p.extended = std::make_shared<const PackageVersion>(std::move(*ext));
    p.meta = p.extended.get();
  }
  p.peers = own_peers(p.name, *p.meta, in.auto_install_peers);
  tree.packages.push_back(std::move(p));
  owner.push_back(SIZE_MAX);
  return it->second;
}

void Walk::extend(size_t importer, std::vector<Seed> level) {
  importer_now = importer;
  while (!level.empty()) {
    for (auto& s : level) ensure(s.spec.name, s.optional);
    std::vector<size_t> fresh;  // new occurrences, in seed order
    for (auto& s : level) {
      std::string owner = s.parent_occ == SIZE_MAX ? "importer " + tree.importers[importer].id.str()
                                                   : tree.packages[occs[s.parent_occ].pkg].id();
      auto pkg = settle(s, owner);
      if (!pkg) continue;
      if (s.parent_occ != SIZE_MAX) {
        size_t parent = occs[s.parent_occ].pkg;
        if (*pkg == parent || closes_second_lap(ancestors(s.parent_occ), parent, *pkg)) continue;
        tree.packages[parent].children[s.slot].target = *pkg;
      } else {
        tree.importers[importer].deps[s.slot].target = *pkg;
      }
      occs.push_back({*pkg, s.parent_occ, nullptr});
      eager.push_back({*pkg, s.parent_occ, s.slot});
      fresh.push_back(occs.size() - 1);
      if (s.parent_occ == SIZE_MAX)
        hoist[importer].direct.push_back({tree.importers[importer].deps[s.slot].alias.str(),
                                          discovery.node_of(tree, eager, occs.size() - 1)});
    }
    // Each parent's children see the versions picked at their own level on top of what the
    // parent saw (pnpm's level overlay).
    std::map<size_t, std::shared_ptr<Overlay>> next_overlay;
    for (size_t o : fresh) {
      size_t parent = occs[o].parent;
      auto& ov = next_overlay[parent];
      if (!ov) ov = std::make_shared<Overlay>(parent == SIZE_MAX || !occs[parent].children_overlay
                                                  ? Overlay{} : *occs[parent].children_overlay);
      auto& vs = (*ov)[tree.packages[occs[o].pkg].name.str()];
      std::string v = tree.packages[occs[o].pkg].meta->version.str();
      if (std::find(vs.begin(), vs.end(), v) == vs.end()) vs.push_back(v);
    }
    for (size_t o : fresh) occs[o].children_overlay = next_overlay[occs[o].parent];
    level = next_level(fresh);
  }
}

std::vector<std::string> Walk::parent_path(size_t occ) const {
  std::vector<std::string> path;
  for (size_t o = occs[occ].parent; o != SIZE_MAX; o = occs[o].parent) path.push_back(tree.packages[occs[o].pkg].id());
  std::reverse(path.begin(), path.end());
  return path;
}

// Each package's children are resolved by one occurrence: the first level it appears on,
// and there the smallest ancestor path (pnpm's ChildrenOwner ranking).
std::vector<Seed> Walk::next_level(const std::vector<size_t>& fresh) {
  std::map<size_t, size_t> owner_occ;  // package -> occurrence
  std::vector<size_t> order;
  for (size_t o : fresh) {
    size_t pkg = occs[o].pkg;
    if (owner[pkg] != SIZE_MAX) continue;
    auto [it, first] = owner_occ.emplace(pkg, o);
    if (first) order.push_back(pkg);
    else if (parent_path(o) < parent_path(it->second)) it->second = o;
  }
  std::vector<Seed> next;
  for (size_t pkg : order) {
    owner[pkg] = owner_occ[pkg];
    for (auto& s : children_seeds(owner_occ[pkg])) next.push_back(std::move(s));
  }
  return next;
}

// pnpm's importer_direct_wanted_specs: peerDependencies (with autoInstallPeers), dev, prod,
// optional; one spec per alias, at its first position, with the last group's range.
std::vector<Walk::Want> Walk::direct_wants(size_t project) const {
  const Manifest& m = in.projects[project].manifest;
  std::vector<Want> wants;
  auto put = [&](const std::string& a, const std::string& s, DepGroup g, bool peer) {
    auto it = std::find_if(wants.begin(), wants.end(), [&](auto& w) { return w.alias == a; });
    if (it == wants.end()) wants.push_back({a, s, g, peer});
    else *it = {a, s, g, false};
  };
  if (in.auto_install_peers)
    for (auto& [n, s] : m.peer_dependencies) put(n, s, DepGroup::Prod, true);
  for (auto& [n, s] : m.dev_dependencies) put(n, s, DepGroup::Dev, false);
  for (auto& [n, s] : m.dependencies) put(n, s, DepGroup::Prod, false);
  for (auto& [n, s] : m.optional_dependencies) put(n, s, DepGroup::Optional, false);
  return wants;
}

// dependenciesMeta.<alias>.injected: pnpm's local resolver copies a bare directory path
// (file: protocol, a directory package) instead of linking it; link: stays a link.
// Injected workspace packages are not resolved yet: refused rather than linked.
Result<WantedSpec> Walk::injected_spec(size_t project, const Want& w, WantedSpec ws) const {
  const auto& meta = in.projects[project].manifest.dependencies_meta;
  const YamlValue* entry = meta ? meta->get(w.alias) : nullptr;
  const YamlValue* inj = entry ? entry->get("injected") : nullptr;
  if (!inj || inj->kind != YamlValue::Kind::Bool || !inj->flag) return ws;
  if (ws.kind == WantedSpec::Kind::Link && w.spec.rfind("link:", 0) != 0) ws.kind = WantedSpec::Kind::File;
  else if (ws.kind == WantedSpec::Kind::Workspace)
    return Error::failed(Code::Unsupported, "failed to resolve " + w.alias + "@" + printable(w.spec) +
                                                ": tarn does not resolve injected workspace dependencies yet");
  return ws;
}

std::vector<Seed> Walk::importer_seeds(size_t project, size_t i) {
  std::vector<Want> wants = direct_wants(project);
  std::vector<Seed> seeds;
  auto& deps = tree.importers[i].deps;
  for (auto& w : wants) {
    auto name = PkgName::parse(w.alias);
    if (!name) {
      errs.add(name.error());
      continue;
    }
    // pnpm's resolve_catalog_specifiers: a catalog: dependency resolves its catalog's entry;
    // the importer keeps `catalog:` as its specifier.
    auto cat = from_catalog(in.catalogs, w.alias, w.spec);
    if (!cat) {
      errs.add(cat.error());
      continue;
    }
    auto ws = WantedSpec::parse(*name, *cat ? **cat : w.spec);
    if (!ws) {
      errs.add(ws.error());
      continue;
    }
    bool opt = w.group == DepGroup::Optional;
    if (auto inj = injected_spec(project, w, std::move(*ws)); inj) ws = std::move(*inj);
    else {
      errs.add(inj.error());
      continue;
    }
    if (ws->kind == WantedSpec::Kind::Workspace || ws->kind == WantedSpec::Kind::Link) {
      auto link = link_target(project, *ws);
      if (!link) {
        errs.add(link.error());
        continue;
      }
      deps.push_back({*name, w.spec, w.group, SIZE_MAX, true, opt, *link, {}});
      continue;
    }
    if (auto reg = registry_tarball(in, *ws)) *ws = std::move(*reg);
    deps.push_back({*name, w.spec, w.group, SIZE_MAX, true, opt, {}, {}});
    seeds.push_back(Seed{SIZE_MAX, deps.size() - 1, std::move(*ws), opt, true});
  }
  return seeds;
}

// pnpm's compute_time_based_cutoff: every importer's direct registry dependencies picked as
// the walk picks them (lowest, under minimumReleaseAge); their publish times (else the
// lockfile's `time:` entry) go to the lockfile, and the newest plus an hour, clamped by the
// minimumReleaseAge cutoff, bounds every transitive pick. Errors are the walk's to report.
void Walk::time_based_cutoff(const std::vector<size_t>& order) {
  std::optional<std::chrono::system_clock::time_point> maximum, newest;
  if (in.minimum_release_age && in.minimum_release_age->count() > 0) maximum = in.now - *in.minimum_release_age;
  for (size_t p : order) {
    seed_prefs = seeds_by_project[p];
    for (auto& w : direct_wants(p)) {
      auto name = PkgName::parse(w.alias);
      auto cat = name ? from_catalog(in.catalogs, w.alias, w.spec) : Result<std::optional<std::string>>(name.error());
      auto ws = cat ? WantedSpec::parse(*name, *cat ? **cat : w.spec) : Result<WantedSpec>(cat.error());
      if (!ws || !ws->is_registry()) continue;
      ensure(ws->name, true);
      auto& r = wait_doc(doc_key(ws->name, true));
      if (!r) continue;
      auto prefs = prefs_for(ws->name.str(), nullptr);
      PickOptions o;
      o.lowest = true;
      o.published_by = maximum;
      o.preferred = &prefs;
      std::map<std::string, std::string> ignored;
      const PackageVersion* pv = pick_with_policy(**r, *ws, o, in, ignored);
      if (!pv) continue;
      std::string id = ws->name.str() + "@" + pv->version.str();
      auto t = (*r)->time.find(pv->version.str());
      std::string at = t != (*r)->time.end() ? t->second : "";
      if (at.empty() && in.existing)
        if (auto e = in.existing->time.find(id); e != in.existing->time.end()) at = e->second;
      if (at.empty()) continue;
      tree.time[id] = at;
      if (auto when = parse_timestamp(at); when && (!newest || *newest < *when)) newest = when;
    }
  }
  subdep_published_by = maximum;
  if (newest) {
    auto candidate = *newest + std::chrono::hours(1);
    subdep_published_by = maximum && *maximum < candidate ? *maximum : candidate;
  }
}

// The specifier an auto-installed peer is resolved with (pnpm's hoist_peers): an override,
// else the workspace root's own dependency on it, else the highest version of it already in
// the graph that satisfies every consumer, else the consumers' range.
std::string ranges_front(const MissingPeer& mp) { return mp.ranges.empty() ? "" : mp.ranges.front(); }

std::string Walk::hoisted_spec(const std::string& name, const std::string& range, const std::vector<Range>& all) const {
  if (in.rewriter)
    if (auto v = in.rewriter->for_undeclared(name, range)) return *v;
  if (!tree.importers.empty() && tree.importers[0].id.is_root())
    for (auto& d : tree.importers[0].deps)
      if (d.declared && d.alias.str() == name) return d.specifier;
  std::vector<Version> versions;
  std::vector<std::string> others;
  if (auto it = seed_prefs.find(name); it != seed_prefs.end())
    for (auto& p : it->second) {
      if (p.kind == Preferred::Kind::Version) versions.push_back(*Version::parse(p.selector));
      else others.push_back(p.selector);
    }
  for (auto& p : tree.packages)
    if (p.name.str() == name) versions.push_back(p.meta->version);
  if (versions.empty()) return range;
  const Version* best = nullptr;
  for (auto& v : versions) {
    bool ok = std::all_of(all.begin(), all.end(), [&](const Range& r) { return r.satisfies(v, true); });
    if (ok && (!best || *best < v)) best = &v;
  }
  if (!best) return range;
  std::sort(others.begin(), others.end());
  std::string spec = best->str();
  for (auto& o : others) spec += " || " + o;
  return spec;
}

// One round of pnpm's auto-install-peers for importer `i`: every required peer that
// nothing provides becomes a dependency of the importer (not written under importers:); or,
// in an optional round, every optional one that a version already in the graph satisfies.
bool Walk::hoist_round(size_t i, bool optional_peers) {
  auto missing = discover_missing_peers(tree, i);
  if (!optional_peers) append_peer_providers(i, missing);
  std::vector<Seed> seeds;
  auto& deps = tree.importers[i].deps;
  for (auto& [name_, mp] : missing) {
    const std::string& name = name_;  // clang 14 cannot capture a structured binding
    if (mp.required() == optional_peers) continue;
    if (std::any_of(deps.begin(), deps.end(), [&](auto& d) { return d.alias.str() == name; })) continue;
    std::string spec;
    std::vector<Range> also;
    if (mp.required()) {
      std::vector<std::string> ranges;
      for (auto& r : mp.ranges)
        if (std::find(ranges.begin(), ranges.end(), r) == ranges.end()) ranges.push_back(r);
      // Every consumer's range must hold (pnpm intersects them).
      std::vector<Range> all;
      for (auto& r : ranges)
        if (auto rr = Range::parse(r)) all.push_back(*rr);
      spec = hoisted_spec(name, ranges.front(), all);
      also = std::vector<Range>(all.begin() + (all.empty() ? 0 : 1), all.end());
    } else {
      const Version* best = nullptr;
      for (auto& p : tree.packages) {
        if (p.name.str() != name) continue;
        bool all = std::all_of(mp.optional_ranges.begin(), mp.optional_ranges.end(), [&](auto& r) {
          auto rr = Range::parse(r);
          return rr && rr->satisfies(p.meta->version);
        });
        if (all && (!best || *best < p.meta->version)) best = &p.meta->version;
      }
      if (!best) continue;
      spec = best->str();
    }
    if (spec == "-") continue;  // an override removes it
    auto pn = PkgName::parse(name);
    auto ws = pn ? WantedSpec::parse(*pn, spec) : Result<WantedSpec>(pn.error());
    if (!ws || !ws->is_registry()) continue;
    if (ws->kind == WantedSpec::Kind::Range && spec == ranges_front(mp)) ws->also = also;
    deps.push_back({*pn, spec, DepGroup::Prod, SIZE_MAX, false, false, {}, {}});
    seeds.push_back(Seed{SIZE_MAX, deps.size() - 1, std::move(*ws), false, false});
  }
  if (seeds.empty()) return false;
  extend(i, std::move(seeds));
  return true;
}

// pnpm's append_resolved_peer_providers (resolve_importer.rs), after each required round's
// discovery: a peer some walked node bound to a provider of the eagerly resolved tree becomes
// a dependency of the importer (not written in importers:), so every other consumer of that
// peer name binds to it too. Skipped: names the importer already has, required peers still
// missing, and providers the walk materialized itself (provider_pkg_ids keeps only nodes the
// resolution created). react-app: debug's optional supports-color binds to
// webpack-dev-server's child 4.5.0 and the whole tree follows.
void Walk::append_peer_providers(size_t i, const std::map<std::string, MissingPeer>& missing) {
  HoistState& st = hoist[i];
  auto found = discovery.discover(tree, eager, owner, st.direct, st.walked, st.providers);
  st.walked = st.direct.size();
  auto& deps = tree.importers[i].deps;
  for (auto& [alias, node] : found) {
    const std::string& name = alias;  // clang 14 cannot capture a structured binding
    if (std::any_of(deps.begin(), deps.end(), [&](auto& d) { return d.alias.str() == name; })) continue;
    if (auto m = missing.find(alias); m != missing.end() && m->second.required()) continue;
    size_t pkg = discovery.eager_pkg(node);
    if (pkg == SIZE_MAX) continue;
    deps.push_back({*PkgName::parse(alias), "", DepGroup::Prod, pkg, false, false, {}, provider_path(i, node)});
    st.direct.push_back({alias, node});
    st.providers.push_back(node);
  }
}

// The aliases from importer `i` down to the occurrence a provider node is; empty for a leaf
// (its node is shared by every occurrence).
std::vector<PkgName> Walk::provider_path(size_t i, PeerProviderDiscovery::NodeId node) const {
  std::vector<PkgName> path;
  if (node >= eager.size()) return path;
  for (size_t o = node; o != SIZE_MAX; o = eager[o].parent) {
    const EagerOcc& e = eager[o];
    path.push_back(e.parent == SIZE_MAX ? tree.importers[i].deps[e.slot].alias
                                        : tree.packages[eager[e.parent].pkg].children[e.slot].alias);
  }
  std::reverse(path.begin(), path.end());
  return path;
}

// "a/b" relative to "a/c" -> "../b" (POSIX, as pnpm writes link: paths).
std::string relative(const std::string& from, const std::string& to) {
  std::string rel = std::filesystem::path(to).lexically_relative(from).generic_string();
  return rel.empty() ? "." : rel;
}

// workspace:<range> names a project of the workspace by its package.json name; link:<path>
// a directory. Both become `link:` paths relative to the project that depends on them.
Result<std::string> Walk::link_target(size_t project, const WantedSpec& ws) const {
  const std::string& from = in.projects[project].dir;
  if (ws.kind == WantedSpec::Kind::Link)
    return relative(from, std::filesystem::path(from).append(ws.text).lexically_normal().string());
  std::string range = ws.text;  // "*", "^", "~", "" take any version, prereleases too
  bool any = range.empty() || range == "*" || range == "^" || range == "~";
  auto r = any ? std::nullopt : Range::parse(range);
  for (auto& p : in.projects) {
    if (p.manifest.name != ws.name.str()) continue;
    auto v = Version::parse(p.manifest.version);
    if (any || (v && r && r->satisfies(*v, true))) return relative(from, p.dir);
  }
  return Error::failed(Code::NoMatchingVersion, "In " + in.projects[project].id.str() + ": No matching version found for " +
                                                    ws.name.str() + "@workspace:" + printable(range) +
                                                    " inside the workspace");
}

// Every project's registry dependencies start the speculative prefetch (prefetch.hpp).
void start_prefetch(MetadataPrefetch& prefetch, const ResolveInput& in) {
  for (auto& p : in.projects) {
    const Manifest& m = p.manifest;
    for (auto* group : {&m.dependencies, &m.dev_dependencies, &m.optional_dependencies, &m.peer_dependencies}) {
      if (group == &m.peer_dependencies && !in.auto_install_peers) continue;
      for (auto& [n, spec] : *group) {
        auto name = PkgName::parse(n);
        if (!name) continue;
        if (auto ws = WantedSpec::parse(*name, spec)) prefetch.want(*ws, group == &m.optional_dependencies);
      }
    }
  }
}

}  // namespace

Result<ResolvedTree> resolve_tree(const ResolveInput& in, PackumentSource& source) {
  SharedSource shared(source);
  Walk w(in, shared);
  PickOptions guess;
  if (in.minimum_release_age && in.minimum_release_age->count() > 0) guess.published_by = in.now - *in.minimum_release_age;
  MetadataPrefetch prefetch(shared, guess, in.auto_install_peers);
  // The prefetch asks for abbreviated documents, which time-based resolution does not read.
  if (!w.full_docs) start_prefetch(prefetch, in);
  std::vector<size_t> order(in.projects.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return in.projects[a].id < in.projects[b].id; });
  for (size_t i : order) w.tree.importers.push_back({in.projects[i].id, {}});
  w.hoist.resize(order.size());
  w.project_of = order;
  w.lockfile_dir = in.projects.empty() ? "" : in.projects[order.front()].dir;
  for (auto& p : in.projects)
    if (p.id.is_root()) w.lockfile_dir = p.dir;
  if (in.mode == ResolutionMode::TimeBased) w.time_based_cutoff(order);
  for (size_t k = 0; k < order.size(); ++k) {
    w.seed_prefs = w.seeds_by_project[order[k]];
    w.extend(k, w.importer_seeds(order[k], k));
  }
  // pnpm's resolve_workspace: each importer hoists required peers until none is left; then
  // optional peers take a version the graph already has (react-app: debug's optional
  // supports-color can pick a version a required hoist brought in), and required rounds
  // run again, until no optional peer is hoisted.
  auto required = [&] {
    for (size_t k = 0; k < order.size() && w.errs.empty(); ++k) {
      w.seed_prefs = w.seeds_by_project[order[k]];
      while (w.errs.empty() && w.hoist_round(k, false)) {
      }
    }
  };
  if (w.errs.empty() && in.auto_install_peers) {
    required();
    for (bool again = true; again && w.errs.empty();) {
      again = false;
      for (size_t k = 0; k < order.size(); ++k) {
        w.seed_prefs = w.seeds_by_project[order[k]];
        again |= w.hoist_round(k, true);
      }
      if (again) required();
    }
  }
  prefetch.stop();
  // Wait for every request still in flight: callbacks reference the walk.
  for (auto& name : w.requested) w.wait_doc(name);
  if (!w.errs.empty()) return w.errs.merged("resolving dependencies");
  for (auto& p : w.tree.packages)
    std::erase_if(p.children, [](auto& e) { return e.target == SIZE_MAX; });
  for (auto& imp : w.tree.importers)
    std::erase_if(imp.deps, [](auto& d) { return d.target == SIZE_MAX && d.link.empty(); });
  return std::move(w.tree);
}

}  // namespace tarn::resolve
