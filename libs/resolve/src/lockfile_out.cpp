// From the peer graph to the lockfile model, as pnpm 12's dependencies_graph_to_lockfile
// fills it: `packages:` from each picked manifest, `snapshots:` from the graph, importers
// from the package.json entries, and `optional: true` recomputed by reachability.
#include <algorithm>
#include <map>
#include <deque>
#include <set>

#include "peer_graph.hpp"

namespace tarn::resolve {

namespace {

std::string strip_scheme(std::string_view u) {
  auto p = u.find("://");
  return std::string(p == std::string_view::npos ? u : u.substr(p + 3));
}

// pnpm records a registry tarball by integrity alone when it sits at the registry's
// standard path: <registry><name>/-/<bare name>-<version>.tgz (scheme ignored).
bool standard_tarball(const ResolveInput& in, const PkgName& name, const PackageVersion& pv) {
  if (!in.registry_for) return true;
  std::string reg = in.registry_for(name);
  std::string want = reg + name.str() + "/-/" + std::string(name.bare()) + "-" + pv.version.str() + ".tgz";
  std::string have = pv.tarball.str();
  if (strip_scheme(have) == strip_scheme(want)) return true;
  // npm-type registries also answer the scoped path with an encoded slash.
  if (name.scoped()) {
    std::string enc = reg + std::string(name.scope()) + "%2f" + std::string(name.bare()) + "/-/" +
                      std::string(name.bare()) + "-" + pv.version.str() + ".tgz";
    std::string h = strip_scheme(have);
    std::transform(h.begin(), h.end(), h.begin(), ::tolower);
    std::string e = strip_scheme(enc);
    std::transform(e.begin(), e.end(), e.begin(), ::tolower);
    if (h == e) return true;
  }
  return false;
}

PackageMeta package_meta(const ResolveInput& in, const ResolvedPackage& p) {
  const PackageVersion& pv = *p.meta;
  PackageMeta m;
  m.integrity = pv.integrity;
  if (!p.exotic && !standard_tarball(in, p.name, pv)) {
    m.resolution = ResolutionKind::Tarball;
    m.tarball = pv.tarball;
  }
  // pnpm drops `*` entries, and engines written as an array (old manifests) altogether.
  for (auto& [k, v] : pv.engines)
    if (v != "*" && !k.empty() && !std::all_of(k.begin(), k.end(), ::isdigit)) m.engines.emplace_back(k, v);
  m.cpu = pv.cpu;
  m.os = pv.os;
  m.libc = pv.libc;
  if (pv.deprecated && !pv.deprecated->empty()) m.deprecated = pv.deprecated;
  m.has_bin = pv.has_bin;
  m.bundled = pv.bundle_all || !pv.bundled_dependencies.empty();
  m.bundled_dependencies = pv.bundled_dependencies;
  // The manifest's peers, those it also depends on included (test/resolve/cases/
  // peers-shadowed); an optional peer with no range is written as `*`.
  std::map<std::string, std::pair<std::string, bool>> peers;
  for (auto& [n, r] : pv.peer_dependencies) peers[n] = {r, false};
  for (auto& n : pv.optional_peers) peers.try_emplace(n, "*", false).first->second.second = true;
  for (auto& [n, rp] : peers) {
    m.peer_dependencies.emplace_back(n, rp.first);
    if (rp.second) m.peer_dependencies_meta.emplace_back(n, true);
  }
  if (p.exotic) {
    // file:, tarball-URL and git packages: the resolution their resolver recorded.
    const PackageMeta& x = *p.exotic;
    m.resolution = x.resolution;
    m.integrity = x.integrity;
    m.tarball = x.tarball;
    m.directory = x.directory;
    m.git_repo = x.git_repo;
    m.git_commit = x.git_commit;
    m.git_path = x.git_path;
    m.version = x.version;
  }
  return m;
}

// How a dependency on `key` is written under `alias`: "1.0.0(peer@1)" when the alias is
// the package's own name, else the whole key.
DepRef dep_ref(const PkgName& alias, const std::string& key) {
  DepRef r;
  r.target = *DepPath::parse(key);
  r.kind = r.target.name() == alias ? DepRef::Kind::Version : DepRef::Kind::Alias;
  return r;
}

// pnpm's compute_corrected_optional: a snapshot is optional when every path to it from
// the projects' declared dependencies passes an optional edge.
std::map<std::string, int> reachability(const PeerGraph& g, const ResolvedTree& tree) {
  std::map<std::string, int> state;  // 1: reached optionally only, 2: reached required
  std::deque<std::string> queue;
  auto reach = [&](const std::string& key, bool optional) {
    int want = optional ? 1 : 2;
    int& s = state[key];
    if (s >= want) return;
    s = want;
    queue.push_back(key);
  };
  for (size_t i = 0; i < tree.importers.size(); ++i)
    for (size_t k = 0; k < tree.importers[i].deps.size(); ++k) {
      auto& d = tree.importers[i].deps[k];
      if (d.declared && !g.direct[i][k].empty()) reach(g.direct[i][k], d.group == DepGroup::Optional);
    }
  while (!queue.empty()) {
    std::string key = std::move(queue.front());
    queue.pop_front();
    auto it = g.nodes.find(key);
    if (it == g.nodes.end()) continue;
    bool parent_opt = state[key] == 1;
    for (auto& e : it->second.edges) reach(e.dep_path, parent_opt || e.optional);
  }
  return state;
}

Snapshot snapshot(const std::string& key, const GraphNode& n, bool optional) {
  Snapshot s;
  s.key = *DepPath::parse(key);
  for (auto& e : n.edges) (e.optional ? s.optional_dependencies : s.dependencies).push_back({e.alias, dep_ref(e.alias, e.dep_path)});
  s.transitive_peer_dependencies.assign(n.transitive_peers.begin(), n.transitive_peers.end());
  s.optional = optional;
  return s;
}

Importer importer(const ResolvedImporter& ri, const std::vector<std::string>& keys) {
  Importer imp;
  imp.id = ri.id;
  for (size_t k = 0; k < ri.deps.size(); ++k) {
    auto& d = ri.deps[k];
    ImporterDep dep;
    dep.alias = d.alias;
    dep.specifier = d.specifier;
    dep.group = d.group;
    if (!d.link.empty()) {
      dep.ref.kind = DepRef::Kind::Link;
      dep.ref.link = d.link;
      dep.version = "link:" + d.link;
      imp.deps.push_back(std::move(dep));
      continue;
    }
    if (!d.declared || keys[k].empty()) continue;  // auto-installed peers are not written
    dep.ref = dep_ref(d.alias, keys[k]);
    dep.version = dep.ref.kind == DepRef::Kind::Version ? keys[k].substr(d.alias.str().size() + 1) : keys[k];
    dep.group = d.group;
    imp.deps.push_back(std::move(dep));
  }
  return imp;
}

void collect_issues(const PeerGraph& g, const ResolvedTree& tree, PeerIssues& issues) {
  issues.bad = g.bad;
  for (size_t i = 0; i < g.missing.size(); ++i)
    for (auto& [name, m] : g.missing[i])
      if (m.required()) issues.missing.push_back(tree.importers[i].id.str() + ": " + name + "@" + m.ranges.front());
}

}  // namespace

Result<Lockfile> build_lockfile(const ResolvedTree& tree, const ResolveInput& in, PeerIssues* issues) {
  PeerGraph g = resolve_peers(tree, true);
  if (in.dedupe_peer_dependents) dedupe_peer_dependents(g, tree);
  auto state = reachability(g, tree);
  Lockfile lf;
  lf.auto_install_peers = in.auto_install_peers;
  lf.overrides = in.overrides;
  lf.package_extensions_checksum = in.package_extensions_checksum;
  for (auto& [key, n] : g.nodes) {
    const ResolvedPackage& p = tree.packages[n.pkg];
    if (!lf.packages.count(p.id())) {
      // A version the lockfile already had keeps its entry as written: pnpm carries fields
      // the registry no longer reports that way over (an `add` to alotta-modules keeps 33
      // `deprecated:` notes and array-style `engines` a fresh resolution would not write).
      const PackageMeta* kept = nullptr;
      if (in.existing)
        if (auto it = in.existing->packages.find(p.id()); it != in.existing->packages.end()) kept = &it->second;
      lf.packages.emplace(p.id(), kept ? *kept : package_meta(in, p));
    }
    auto st = state.find(key);
    lf.snapshots.push_back(snapshot(key, n, st != state.end() && st->second == 1));
  }
  lf.reindex();
  for (size_t i = 0; i < tree.importers.size(); ++i) {
    lf.importers.push_back(importer(tree.importers[i], g.direct[i]));
    // pnpm copies package.json's dependenciesMeta into the importer (test/resolve/cases/
    // file-injected).
    for (auto& p : in.projects)
      if (p.id == tree.importers[i].id) lf.importers.back().dependencies_meta = p.manifest.dependencies_meta;
  }
  lf.catalogs = catalog_snapshots(lf.importers, in.catalogs);
  // pnpm's merge_recorded_time: the lockfile's dates, this run's layered over them (the
  // writer prunes them to the importers' direct dependencies, as prune_time does).
  if (in.mode == ResolutionMode::TimeBased) {
    if (in.existing) lf.time = in.existing->time;
    for (auto& [id, at] : tree.time) lf.time[id] = at;
  }
  if (issues) collect_issues(g, tree, *issues);
  return lf;
}

// pnpm warns about deprecated direct dependencies, naming a newer version that is not.
void deprecation_warnings(const ResolvedTree& tree, std::vector<std::string>& out) {
  std::set<size_t> seen;
  for (auto& imp : tree.importers)
    for (auto& d : imp.deps) {
      if (!d.declared || d.target == SIZE_MAX || !seen.insert(d.target).second) continue;
      const ResolvedPackage& p = tree.packages[d.target];
      if (!p.meta->deprecated || p.meta->deprecated->empty()) continue;
      std::string w = "deprecated " + p.id();
      const PackageVersion* newer = nullptr;
      for (auto& v : p.doc->versions)
        if (p.meta->version < v.version && !v.version.is_prerelease() && (!v.deprecated || v.deprecated->empty()))
          newer = &v;
      if (newer) w += ". " + newer->version.str() + " is not deprecated.";
      out.push_back(w);
    }
}

Result<Lockfile> resolve(const ResolveInput& raw, PackumentSource& source, ResolveReport* report) {
  std::vector<std::string>* warnings = report ? &report->warnings : nullptr;
  auto prepared = prepare_input(raw);
  if (!prepared) return prepared.error();
  const ResolveInput& in = *prepared;
  auto tree = resolve_tree(in, source);
  if (!tree) return tree.error();
  PeerIssues issues;
  auto lf = build_lockfile(*tree, in, &issues);
  if (!lf) return lf;
  if (report) {
    deprecation_warnings(*tree, report->warnings);
    report->warnings.insert(report->warnings.end(), tree->warnings.begin(), tree->warnings.end());
    report->immature = tree->immature;
  }
  if (issues.missing.empty() && issues.bad.empty()) return lf;
  std::string list;
  for (size_t i = 0; i < issues.missing.size() && i < 3; ++i) list += "\n  missing peer " + issues.missing[i];
  for (size_t i = 0; i < issues.bad.size() && i < 3; ++i) list += "\n  unmet peer: " + issues.bad[i];
  if (in.strict_peer_dependencies)
    return Error::failed(Code::PeerDepIssues, "failed to resolve peer dependencies: " +
                                                  std::to_string(issues.missing.size() + issues.bad.size()) + " issues" + list);
  // pnpm prints one line; tarn adds the first few issues, having no `peers check` yet.
  if (warnings) warnings->push_back("Issues with peer dependencies found" + list);
  return lf;
}

}  // namespace tarn::resolve
