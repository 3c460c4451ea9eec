// The planner: sub-passes over the lockfile graph that decide every slot, directory, link
// and bin before anything is written. Each step mirrors one part of pnpm's linker.
#include "tarn/linker/plan.hpp"

#include <algorithm>
#include <deque>
#include <unordered_set>

#include "installability.hpp"
#include "tarn/fs/fs.hpp"
#include "tarn/linker/geometry.hpp"

namespace tarn {

namespace {

struct Edge {
  size_t to;
  bool optional;
};

// Scope directory ("<dir>/@scope") that a link or package named `name` under `dir` needs.
void add_scope_dir(std::vector<std::string>& dirs, const std::string& dir, const PkgName& name) {
  if (name.scoped()) dirs.push_back(dir + "/" + std::string(name.scope()));
}

using Children = std::vector<std::pair<std::string, size_t>>;  // alias -> snapshot index

class Planner {
 public:
  Planner(const Lockfile& lf, const Settings& s, const PlanOptions& o)
      : lf_(lf), s_(s), o_(o), n_(lf.snapshots.size()), check_(s, o.platform, o.node_version) {}

  InstallPlan run() {
    build_edges();
    compute_skips();
    compute_kept();
    plan_slots();
    plan_.top_dirs = {std::string(geometry::kModules), std::string(geometry::kVirtualStore)};
    for (auto* imp : importers_) plan_importer(*imp);
    plan_hoisting();
    for (auto& b : importer_bins_)
      if (!b.sources.empty()) plan_.bins.push_back(std::move(b));
    order_dirs(plan_.top_dirs);
    plan_slot_bins();
    return std::move(plan_);
  }

 private:
  size_t index_of(const DepPath& p) const { return lf_.snapshot_index.at(p.str()); }
  bool group_included(DepGroup g) const {
    return g == DepGroup::Prod ? o_.include.prod : g == DepGroup::Dev ? o_.include.dev : o_.include.optional;
  }
  std::string pkg_path(size_t i) const { return geometry::package_dir(slot_of_[i], lf_.snapshots[i].key.name()); }
  const PlannedPackage& planned(size_t i) const { return plan_.packages[plan_index_[i]]; }

  void build_edges();
  void compute_skips();
  void walk_installed(std::vector<char>& installed, std::vector<char>& required);
  bool fails_optional_check(size_t i);
  void compute_kept();
  void plan_slots();
  PlannedPackage plan_slot(size_t i) const;
  void plan_importer(const Importer& imp);
  void plan_peer_bins(const Importer& imp, const std::unordered_set<std::string>& names, BinTarget& bins) const;
  void plan_hoisting();
  std::vector<Children> hoisting_children() const;
  void hoist_alias(const std::string& alias, size_t child, bool pub, BinTarget& private_bins);
  void hoist_workspace_packages(const Matcher& priv);
  void plan_slot_bins();

  const Lockfile& lf_;
  const Settings& s_;
  const PlanOptions& o_;
  const size_t n_;
  Installability check_;
  std::vector<const Importer*> importers_;
  std::vector<std::vector<Edge>> edges_;
  std::vector<signed char> candidate_;  // cached "fails the optional check"
  std::vector<char> skip_, excluded_, keep_;
  std::vector<SlotName> slot_of_;
  std::vector<size_t> plan_index_;
  std::vector<BinTarget> importer_bins_;
  std::unordered_set<std::string> hoisted_aliases_;  // lower-cased; root's direct deps first
  std::unordered_map<size_t, size_t> hoisted_pos_;
  InstallPlan plan_;
};

void Planner::build_edges() {
  edges_.resize(n_);
  for (size_t i = 0; i < n_; ++i) {
    auto& s = lf_.snapshots[i];
    for (auto& d : s.dependencies)
      if (!d.ref.is_link()) edges_[i].push_back({index_of(d.ref.target), false});
    for (auto& d : s.optional_dependencies)
      if (!d.ref.is_link()) edges_[i].push_back({index_of(d.ref.target), true});
  }
  for (auto& imp : lf_.importers) importers_.push_back(&imp);
  // The root sorts first ("." < any path), as pnpm walks importers.
  std::sort(importers_.begin(), importers_.end(), [](auto* a, auto* b) { return a->id < b->id; });
  candidate_.assign(n_, -1);
}

bool Planner::fails_optional_check(size_t i) {
  if (candidate_[i] < 0) candidate_[i] = !check_.ok(lf_.snapshots[i].key, *lf_.meta(lf_.snapshots[i].key), true);
  return candidate_[i] == 1;
}

// pnpm's installed/required walk: a package failing the optional check is skipped unless
// some non-optional edge requires it.
void Planner::walk_installed(std::vector<char>& installed, std::vector<char>& required) {
  std::deque<std::pair<size_t, bool>> pending;
  for (auto* imp : importers_)
    for (auto& d : imp->deps)
      if (!d.ref.is_link()) pending.emplace_back(index_of(d.ref.target), d.group == DepGroup::Optional);
  while (!pending.empty()) {
    auto [k, edge_optional] = pending.front();
    pending.pop_front();
    if (installed[k]) continue;
    bool fresh;
    if (fails_optional_check(k)) {
      if (edge_optional) fresh = false;
      else required[k] = 1, fresh = !installed[k], installed[k] = 1;
    } else {
      fresh = !installed[k];
      installed[k] = 1;
    }
    if (fresh)
      for (auto& e : edges_[k]) pending.emplace_back(e.to, e.optional);
  }
}

// pnpm's skipped-optional computation over every importer edge.
void Planner::compute_skips() {
  std::vector<char> reachable(n_, 0), installed(n_, 0), required(n_, 0);
  std::deque<size_t> q;
  for (auto* imp : importers_)
    for (auto& d : imp->deps) {
      if (d.ref.is_link()) continue;
      size_t t = index_of(d.ref.target);
      if (!reachable[t]) reachable[t] = 1, q.push_back(t);
    }
  while (!q.empty()) {
    size_t k = q.front();
    q.pop_front();
    for (auto& e : edges_[k])
      if (!reachable[e.to]) reachable[e.to] = 1, q.push_back(e.to);
  }
  walk_installed(installed, required);
  skip_.assign(n_, 0);
  for (size_t i = 0; i < n_; ++i) {
    bool opt_check = reachable[i] ? true : lf_.snapshots[i].optional;
    bool req = reachable[i] ? required[i] : !lf_.snapshots[i].optional;
    bool fails = opt_check ? fails_optional_check(i)
                           : !check_.ok(lf_.snapshots[i].key, *lf_.meta(lf_.snapshots[i].key), false);
    if (fails && !req) skip_[i] = 1;
  }
  excluded_ = skip_;
  if (!o_.include.optional)
    for (size_t i = 0; i < n_; ++i)
      if (lf_.snapshots[i].optional) excluded_[i] = 1;
}

// What gets a slot: reachable from the included groups without passing a skipped node.
void Planner::compute_kept() {
  keep_.assign(n_, 0);
  std::vector<char> full(n_, 0);
  std::deque<size_t> q, qf;
  for (auto* imp : importers_)
    for (auto& d : imp->deps) {
      if (d.ref.is_link() || !group_included(d.group)) continue;
      size_t t = index_of(d.ref.target);
      if (!full[t]) full[t] = 1, qf.push_back(t);
      if (!excluded_[t] && !keep_[t]) keep_[t] = 1, q.push_back(t);
    }
  auto walk = [&](std::deque<size_t>& queue, std::vector<char>& seen, bool block) {
    while (!queue.empty()) {
      size_t k = queue.front();
      queue.pop_front();
      for (auto& e : edges_[k]) {
        if (e.optional && !o_.include.optional) continue;
        if (seen[e.to] || (block && excluded_[e.to])) continue;
        seen[e.to] = 1;
        queue.push_back(e.to);
      }
    }
  };
  walk(q, keep_, true);
  walk(qf, full, false);
  for (size_t i = 0; i < n_; ++i)
    if (full[i] && !keep_[i] && skip_[i]) plan_.skipped.push_back(lf_.snapshots[i].key.str());
  std::sort(plan_.skipped.begin(), plan_.skipped.end());
}

void Planner::plan_slots() {
  slot_of_.reserve(n_);
  for (size_t i = 0; i < n_; ++i)
    slot_of_.push_back(SlotName::from(lf_.snapshots[i].key, s_.virtual_store_dir_max_length));
  plan_index_.assign(n_, SIZE_MAX);
  for (size_t i = 0; i < n_; ++i) {
    if (!keep_[i]) continue;
    plan_index_[i] = plan_.packages.size();
    plan_.by_dep_path.emplace(lf_.snapshots[i].key.str(), plan_.packages.size());
    plan_.packages.push_back(plan_slot(i));
    if (auto issue = check_.engine_issue(lf_.snapshots[i].key, *plan_.packages.back().meta))
      plan_.engine_issues.push_back(std::move(*issue));
  }
}

// One slot: its directories and its dependency links.
PlannedPackage Planner::plan_slot(size_t i) const {
  const Snapshot& s = lf_.snapshots[i];
  PlannedPackage p;
  p.snapshot = &s;
  p.meta = lf_.meta(s.key);
  p.slot = slot_of_[i];
  p.modules_dir = geometry::slot_modules(p.slot);
  p.pkg_dir = geometry::package_dir(p.slot, s.key.name());
  p.has_bin = p.meta->has_bin;
  p.dirs = {geometry::slot_dir(p.slot), p.modules_dir};
  add_scope_dir(p.dirs, p.modules_dir, s.key.name());
  p.dirs.push_back(p.pkg_dir);
  for (auto* list : {&s.dependencies, &s.optional_dependencies}) {
    if (list == &s.optional_dependencies && !o_.include.optional) continue;
    for (auto& d : *list) {
      if (d.alias == s.key.name()) continue;  // pnpm never links a package into itself
      std::string path = p.modules_dir + "/" + d.alias.str();
      std::string target;
      if (d.ref.is_link()) {
        target = fs::normalize(fs::join(o_.project_dir, d.ref.link));
        target = fs::relative(fs::dirname(fs::join(o_.project_dir, path)), target);
      } else {
        size_t t = index_of(d.ref.target);
        if (!keep_[t]) continue;
        target = fs::relative(fs::dirname(path), pkg_path(t));
      }
      add_scope_dir(p.dirs, p.modules_dir, d.alias);
      p.links.push_back({std::move(path), std::move(target)});
    }
  }
  order_dirs(p.dirs);
  return p;
}

// An importer's direct links (dependencies, devDependencies, optionalDependencies, in
// pnpm's order; the first group to name an alias wins) and its .bin sources.
void Planner::plan_importer(const Importer& imp) {
  PlannedImporter pi{imp.id, geometry::importer_modules(imp.id), {}};
  const std::string importer_dir = imp.id.is_root() ? o_.project_dir : fs::join(o_.project_dir, imp.id.str());
  BinTarget bins{geometry::bin_dir(pi.modules_dir), {}, {}};
  std::unordered_set<std::string> names;
  plan_.top_dirs.push_back(pi.modules_dir);
  for (DepGroup g : {DepGroup::Prod, DepGroup::Dev, DepGroup::Optional}) {
    if (!group_included(g)) continue;
    for (auto& d : imp.deps) {
      if (d.group != g || !names.insert(d.alias.str()).second) continue;
      std::string path = pi.modules_dir + "/" + d.alias.str();
      std::string target, version = d.version;
      if (d.ref.is_link()) {
        std::string linked = fs::normalize(fs::join(importer_dir, d.ref.link));
        target = fs::relative(fs::dirname(fs::join(o_.project_dir, path)), linked);
        bins.sources.push_back({BinTarget::Source::kLinked, path, false, linked});
      } else {
        size_t t = index_of(d.ref.target);
        if (!keep_[t]) continue;  // skipped optional dependency
        target = fs::relative(fs::dirname(path), pkg_path(t));
        if (planned(t).has_bin) bins.sources.push_back({plan_index_[t], path, false, {}});
        version = d.ref.kind == DepRef::Kind::Alias ? d.ref.target.str() : std::string(d.ref.target.version());
        // pnpm's summary shows a git or tarball dependency's package version ("+ gitpkg 0.1.0").
        if (const PackageMeta* m = planned(t).meta;
            m && (m->resolution == ResolutionKind::Git || m->resolution == ResolutionKind::Tarball) && !m->version.empty())
          version = m->version;
      }
      add_scope_dir(plan_.top_dirs, pi.modules_dir, d.alias);
      plan_.top_links.push_back({std::move(path), std::move(target)});
      pi.direct.push_back({g, d.alias, version});
    }
  }
  plan_peer_bins(imp, names, bins);
  plan_.importers.push_back(std::move(pi));
  importer_bins_.push_back(std::move(bins));
}

// pnpm links the bins of peers that a direct dependency declares and the importer does
// not list itself (auto-installed peers) into the importer's .bin, without a link.
void Planner::plan_peer_bins(const Importer& imp, const std::unordered_set<std::string>& names,
                             BinTarget& bins) const {
  for (auto& d : imp.deps) {
    if (d.ref.is_link() || !group_included(d.group)) continue;
    size_t t = index_of(d.ref.target);
    if (!keep_[t]) continue;
    const Snapshot& s = lf_.snapshots[t];
    for (auto& [peer, range] : lf_.meta(s.key)->peer_dependencies) {
      if (names.count(peer)) continue;
      for (auto* list : {&s.dependencies, &s.optional_dependencies})
        for (auto& dep : *list) {
          if (dep.alias.str() != peer || dep.ref.is_link()) continue;
          size_t pt = index_of(dep.ref.target);
          if (keep_[pt] && planned(pt).has_bin) bins.sources.push_back({plan_index_[pt], pkg_path(pt), true, {}});
        }
    }
  }
}

// Each snapshot's children by alias; a later optional dependency replaces a same-named one.
std::vector<Children> Planner::hoisting_children() const {
  std::vector<Children> children(n_);
  for (size_t i = 0; i < n_; ++i) {
    auto& s = lf_.snapshots[i];
    for (auto* list : {&s.dependencies, &s.optional_dependencies}) {
      std::vector<const Dependency*> sorted;
      for (auto& d : *list)
        if (!d.ref.is_link()) sorted.push_back(&d);
      std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->alias.str() < b->alias.str(); });
      for (auto* d : sorted) {
        size_t t = index_of(d->ref.target);
        auto it = std::find_if(children[i].begin(), children[i].end(), [&](auto& c) { return c.first == d->alias.str(); });
        if (it != children[i].end()) it->second = t;
        else children[i].emplace_back(d->alias.str(), t);
      }
    }
  }
  return children;
}

struct HoistEntry {
  int depth;
  const std::string* sort_key;
  const Children* kids;
};

// Depth-first over levels, exactly like pnpm's graph walker, so each node gets pnpm's
// depth; then ordered by depth, then by slot name.
std::vector<HoistEntry> hoist_order(const std::vector<Children>& children, const std::vector<SlotName>& slots,
                                    std::vector<size_t> direct_nodes, std::vector<char>& visited,
                                    const Children& direct_deps) {
  static const std::string empty;
  std::vector<HoistEntry> entries{{-1, &empty, &direct_deps}};
  std::vector<std::pair<std::vector<size_t>, int>> steps{{std::move(direct_nodes), 0}};
  while (!steps.empty()) {
    auto [nodes, depth] = std::move(steps.back());
    steps.pop_back();
    for (size_t k : nodes) entries.push_back({depth, &slots[k].str(), &children[k]});
    std::vector<std::vector<size_t>> next;
    for (size_t k : nodes) {
      std::vector<size_t> nn;
      for (auto& c : children[k])
        if (!visited[c.second]) visited[c.second] = 1, nn.push_back(c.second);
      next.push_back(std::move(nn));
    }
    for (auto it = next.rbegin(); it != next.rend(); ++it)
      if (!it->empty()) steps.emplace_back(std::move(*it), depth + 1);
  }
  std::stable_sort(entries.begin(), entries.end(), [](const HoistEntry& a, const HoistEntry& b) {
    return a.depth != b.depth ? a.depth < b.depth : *a.sort_key < *b.sort_key;
  });
  return entries;
}

// Hoisting (hoist-pattern into node_modules/.pnpm/node_modules, public-hoist-pattern into
// the root's node_modules), in pnpm's order. Every importer's direct dependencies are the
// walk's first level, dev before prod before optional, each sorted by alias.
void Planner::plan_hoisting() {
  Matcher priv(s_.hoist_pattern), pub(s_.public_hoist_pattern);
  plan_.private_hoisting = !priv.empty();
  if (priv.empty() && pub.empty()) return;
  std::vector<Children> children = hoisting_children();
  Children direct_deps;
  std::vector<size_t> direct_nodes;
  std::vector<char> visited(n_, 0);
  std::unordered_set<std::string> direct_seen;
  for (auto* imp : importers_)
    for (DepGroup g : {DepGroup::Dev, DepGroup::Prod, DepGroup::Optional}) {
      if (!group_included(g)) continue;
      std::vector<const ImporterDep*> sorted;
      for (auto& d : imp->deps)
        if (d.group == g && !d.ref.is_link()) sorted.push_back(&d);
      std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->alias.str() < b->alias.str(); });
      for (auto* d : sorted) {
        size_t t = index_of(d->ref.target);
        if (direct_seen.insert(d->alias.str()).second) direct_deps.emplace_back(d->alias.str(), t);
        if (!visited[t]) visited[t] = 1, direct_nodes.push_back(t);
        if (imp->id.is_root()) hoisted_aliases_.insert(ascii_lower(d->alias.str()));
      }
    }
  BinTarget private_bins{geometry::bin_dir(geometry::kHoisted), {}, {}};
  for (auto& e : hoist_order(children, slot_of_, std::move(direct_nodes), visited, direct_deps)) {
    for (auto& [alias, child] : *e.kids) {
      bool is_pub = pub.matches(alias);
      if (is_pub || priv.matches(alias)) hoist_alias(alias, child, is_pub, private_bins);
    }
    if (e.depth < 0) hoist_workspace_packages(priv);
  }
  if (!private_bins.sources.empty()) plan_.bins.push_back(std::move(private_bins));
}

// pnpm's hoistWorkspacePackages (default true): every workspace project is linked into
// the hoisted directory under its package name, right after the importers' direct
// dependencies, keyed by its importer id in .modules.yaml. Their bins are not hoisted.
void Planner::hoist_workspace_packages(const Matcher& priv) {
  for (auto& [id, name] : o_.workspace_packages) {
    std::string low = ascii_lower(name.str());
    if (id.is_root() || !priv.matches(name.str()) || hoisted_aliases_.count(low)) continue;
    hoisted_aliases_.insert(low);
    plan_.hoisted.push_back({id.str(), {{name.str(), HoistKind::Private}}});
    std::string path = std::string(geometry::kHoisted) + "/" + name.str();
    plan_.top_dirs.push_back(std::string(geometry::kHoisted));
    add_scope_dir(plan_.top_dirs, std::string(geometry::kHoisted), name);
    plan_.top_links.push_back({path, fs::relative(fs::dirname(path), id.str())});
  }
}

void Planner::hoist_alias(const std::string& alias, size_t child, bool is_pub, BinTarget& private_bins) {
  std::string low = ascii_lower(alias);
  if (hoisted_aliases_.count(low) || !keep_[child]) return;  // skipped nodes never claim an alias
  hoisted_aliases_.insert(low);
  HoistKind kind = is_pub ? HoistKind::Public : HoistKind::Private;
  auto [pos, fresh] = hoisted_pos_.emplace(child, plan_.hoisted.size());
  if (fresh) plan_.hoisted.push_back({lf_.snapshots[child].key.str(), {}});
  plan_.hoisted[pos->second].second.emplace_back(alias, kind);
  std::string base(is_pub ? geometry::kModules : geometry::kHoisted);
  std::string path = base + "/" + alias;
  if (!is_pub) plan_.top_dirs.push_back(base);  // deduplicated by order_dirs
  add_scope_dir(plan_.top_dirs, base, *PkgName::parse(alias));
  plan_.top_links.push_back({path, fs::relative(fs::dirname(path), pkg_path(child))});
  if (!planned(child).has_bin) return;
  if (is_pub && !importer_bins_.empty()) importer_bins_.front().sources.push_back({plan_index_[child], path, true, {}});
  else private_bins.sources.push_back({plan_index_[child], path, false, {}});
}

// Each slot's own .bin: its children's bins and its own.
void Planner::plan_slot_bins() {
  for (size_t pi = 0; pi < plan_.packages.size(); ++pi) {
    auto& p = plan_.packages[pi];
    BinTarget bt{geometry::bin_dir(p.pkg_dir + "/node_modules"), {}, {}};
    for (auto* list : {&p.snapshot->dependencies, &p.snapshot->optional_dependencies})
      for (auto& d : *list) {
        if (d.ref.is_link()) continue;
        size_t t = index_of(d.ref.target);
        if (!keep_[t] || !planned(t).has_bin) continue;
        bt.sources.push_back({plan_index_[t], p.modules_dir + "/" + d.alias.str(), false, {}});
      }
    if (p.has_bin) bt.sources.push_back({pi, p.pkg_dir, false, {}});
    if (p.meta->bundled) bt.bundled_dir = p.pkg_dir + "/node_modules";
    if (!bt.sources.empty() || !bt.bundled_dir.empty()) plan_.bins.push_back(std::move(bt));
  }
}

}  // namespace

Result<InstallPlan> make_plan(const Lockfile& lf, const Settings& settings, const PlanOptions& opt) {
  return Planner(lf, settings, opt).run();
}

}  // namespace tarn
