// pnpm's discovery walk (resolve_peers/walker.rs resolve_node with discovery = true), kept to
// the state that decides which visits report bindings: node identities (an eagerly resolved
// occurrence, a leaf shared per package, or a node the walk materializes under a lazy
// parent), parent refs with their shadowing counters, and the caches pnpm keeps across
// passes (pure_pkgs, peers_cache, node_dep_paths, parent_pkgs_of_node). Only a visit that
// walks a node reports its own peers' providers; a cache answer reports none
// (PeersCacheItem::to_node_output). Locked-peer pins are not modelled (no lockfile context).
// Read from the pnpm mirror (12.0.0-rc.8, older than the 12.21 tarn matches); one difference
// measured against 12.21 is noted in settle().
#include "peer_providers.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "peer_graph.hpp"

namespace tarn::resolve {

namespace {

using NodeId = PeerProviderDiscovery::NodeId;
constexpr NodeId kLeaf = NodeId{1} << 62;   // NodeId::leaf(pkg id)
constexpr NodeId kFresh = NodeId{2} << 62;  // NodeId::next() of the peer walk

struct Node {
  size_t pkg;
  int depth;
  bool realized;                             // TreeChildren::Realized: an owning occurrence
  std::map<std::string, NodeId> children;    // realized children, by alias
};

struct Ref {
  std::string version;
  NodeId node;
  std::optional<std::string> alias;  // when it differs from the package's name
  int depth;
  unsigned occurrence = 0;
};
using Refs = std::map<std::string, Ref>;
using RefsPtr = std::shared_ptr<const Refs>;

struct PkgInfo {
  size_t pkg = SIZE_MAX;
  std::optional<std::string> version;
  int depth = 0;
  unsigned occurrence = 0;
};
using Context = std::shared_ptr<const std::map<std::string, PkgInfo>>;

struct CacheItem {
  std::string dep_path;
  std::map<std::string, NodeId> resolved;
  std::set<std::string> missing;
};

struct Output {
  std::string dep_path;
  std::map<std::string, NodeId> external;
  std::map<std::string, NodeId> bound;  // auto_install_resolved_peers
  std::set<std::string> missing;
};

enum class Fast { Match, NoMatch, Ambiguous };

}  // namespace

struct PeerProviderDiscovery::Impl {
  const ResolvedTree* tree = nullptr;
  std::unordered_map<NodeId, Node> nodes;
  std::unordered_set<NodeId> eager_leaves;
  size_t synced = 0;
  NodeId next_fresh = kFresh;
  std::set<std::string> peer_names;
  std::vector<size_t> scc;
  std::unordered_map<NodeId, std::string> dep_paths;
  std::unordered_map<size_t, std::string> pure;
  std::unordered_map<size_t, std::vector<CacheItem>> cache;
  std::unordered_map<NodeId, Context> contexts;
  std::unordered_set<NodeId> in_progress, visited, providers;

  const ResolvedPackage& P(size_t pkg) const { return tree->packages[pkg]; }
  bool leaf(size_t pkg) const {
    const PackageVersion& m = *P(pkg).meta;
    return m.dependencies.empty() && m.optional_dependencies.empty() && m.peer_dependencies.empty() &&
           m.optional_peers.empty();
  }
  NodeId fresh_or_leaf(size_t pkg) { return leaf(pkg) ? kLeaf | pkg : next_fresh++; }
  bool relevant(const std::string& alias, size_t pkg) const {
    return peer_names.count(alias) || peer_names.count(P(pkg).name.str());
  }
  bool cut(size_t pkg, size_t child) const {
    return pkg == child || (scc[pkg] == scc[child] && P(child).id() <= P(pkg).id());
  }

  void sync(const std::vector<EagerOcc>& occs, const std::vector<size_t>& owner_of);
  void refresh();
  NodeId node_of(const std::vector<EagerOcc>& occs, size_t o) const {
    return leaf(occs[o].pkg) ? kLeaf | occs[o].pkg : NodeId{o};
  }
  void insert_ref(Refs& refs, const std::string& alias, NodeId node) const;
  Refs importer_refs(const std::vector<Direct>& direct) const;
  Context context_of(const Refs& refs) const;
  void remember(NodeId id, const std::string& dp) {
    if (!contexts.count(id) && !providers.count(id)) return;
    dep_paths[id] = dp;
    visited.insert(id);
  }
  std::string key(size_t pkg, const std::map<std::string, NodeId>& peers) const;

  bool refs_match(const Ref& a, const Ref& b) const;
  bool breaks_diamond(const Refs& with_new, const Ref& inherited, const Ref& own, NodeId id) const;
  bool contexts_match(NodeId cached, NodeId current) const;
  bool ref_matches(const Ref& current, NodeId cached) const;
  const CacheItem* find_hit(const Refs& refs, size_t pkg) const;
  Fast fast_match(const Refs& refs, size_t pkg, const CacheItem& item) const;
  const CacheItem* fast_hit(const Refs& refs, size_t pkg) const;

  Output hit(NodeId id, const CacheItem& item);
  std::map<std::string, NodeId> preview(NodeId id);
  std::pair<RefsPtr, Refs> child_refs(NodeId id, const RefsPtr& refs, const std::map<std::string, NodeId>& kids);
  Output resolve(NodeId id, const RefsPtr& refs, const Context& ctx);
  void walk_children(NodeId id, const RefsPtr& refs, const Context& ctx, const std::map<std::string, NodeId>& kids,
                     Output& acc, std::set<std::string>& aliases);
  Output deferred(NodeId child, size_t pkg, int depth, const RefsPtr& refs, const Context& ctx);
  Output settle(NodeId id, const Refs& refs, Output kids, const std::set<std::string>& aliases);
};

namespace {

void fold_child(Output& acc, Output out, const std::set<std::string>& aliases) {
  for (auto& [name, node] : out.bound) acc.bound[name] = node;
  for (auto& [name, node] : out.external)
    if (!aliases.count(name)) acc.external[name] = node;
  acc.missing.insert(out.missing.begin(), out.missing.end());
}

bool version_gte(const std::string& a, const std::string& b) {
  auto va = Version::parse(a), vb = Version::parse(b);
  if (va && vb) return !(*va < *vb);
  return a >= b;
}

// pnpm's update_parent_refs: a name already taken stays unless its entry came in under an
// alias (an npm-alias dependency) that a real-name entry may replace.
void update_ref(Refs& refs, const std::string& key, const Ref& r) {
  if (auto it = refs.find(key); it != refs.end()) {
    const Ref& ex = it->second;
    if (!(ex.alias && *ex.alias != key)) return;
    if (r.alias && *r.alias != key && version_gte(ex.version, r.version)) return;
  }
  refs[key] = r;
}

}  // namespace

// The eagerly resolved occurrences (pnpm's workspace dependencies_tree) not seen yet: an
// occurrence that owns its package's children has them realized, every other one is lazy.
void PeerProviderDiscovery::Impl::sync(const std::vector<EagerOcc>& occs, const std::vector<size_t>& owner_of) {
  for (; synced < occs.size(); ++synced) {
    const EagerOcc& o = occs[synced];
    NodeId id = node_of(occs, synced);
    NodeId parent = o.parent == SIZE_MAX ? 0 : node_of(occs, o.parent);
    int depth = o.parent == SIZE_MAX ? 0 : nodes.at(parent).depth + 1;
    if (id & kLeaf) eager_leaves.insert(id);
    auto [it, fresh] = nodes.try_emplace(id, Node{o.pkg, depth, !leaf(o.pkg) && owner_of[o.pkg] == synced, {}});
    if (!fresh) it->second.depth = std::min(it->second.depth, depth);
    if (o.parent != SIZE_MAX && nodes.at(parent).realized)
      nodes.at(parent).children[P(occs[o.parent].pkg).children[o.slot].alias.str()] = id;
  }
}

void PeerProviderDiscovery::Impl::refresh() {
  peer_names.clear();
  std::vector<std::vector<size_t>> adj(tree->packages.size());
  for (size_t i = 0; i < adj.size(); ++i) {
    for (auto& p : P(i).peers) peer_names.insert(p.name);
    for (auto& e : P(i).children)
      if (e.target != SIZE_MAX) adj[i].push_back(e.target);
  }
  scc = scc_ids(adj);
}

void PeerProviderDiscovery::Impl::insert_ref(Refs& refs, const std::string& alias, NodeId node) const {
  const Node& n = nodes.at(node);
  std::string real = P(n.pkg).name.str();
  Ref r{P(n.pkg).meta->version.str(), node, alias != real ? std::optional(alias) : std::nullopt, n.depth, 0};
  update_ref(refs, alias, r);
  if (alias != real) update_ref(refs, real, r);
}

// pnpm's build_importer_parents_from: the importer's peer-relevant direct dependencies.
Refs PeerProviderDiscovery::Impl::importer_refs(const std::vector<Direct>& direct) const {
  Refs refs;
  for (auto& d : direct)
    if (auto it = nodes.find(d.node); it != nodes.end() && relevant(d.alias, it->second.pkg))
      insert_ref(refs, d.alias, d.node);
  return refs;
}

// pnpm's parent_dep_paths_from_refs: the snapshot a cache match compares providers by.
Context PeerProviderDiscovery::Impl::context_of(const Refs& refs) const {
  auto out = std::make_shared<std::map<std::string, PkgInfo>>();
  for (auto& [name, r] : refs) {
    if (!peer_names.count(name)) continue;
    PkgInfo info{SIZE_MAX, std::nullopt, r.depth, r.occurrence};
    if (auto it = nodes.find(r.node); it != nodes.end()) info.pkg = it->second.pkg;
    else info.version = r.version;
    (*out)[name] = info;
  }
  return out;
}

// The walk's provisional depPath: each peer as its provider's depPath once walked, else
// name@version (pnpm's build_peer_id cycle fallback). Only compared, never written.
std::string PeerProviderDiscovery::Impl::key(size_t pkg, const std::map<std::string, NodeId>& peers) const {
  if (peers.empty()) return P(pkg).id();
  std::vector<std::string> parts;
  for (auto& [name, node] : peers) {
    auto it = dep_paths.find(node);
    parts.push_back(it != dep_paths.end() ? it->second : P(nodes.at(node).pkg).id());
  }
  std::sort(parts.begin(), parts.end());
  std::string out = P(pkg).id();
  for (auto& p : parts) out += "(" + p + ")";
  return out;
}

bool PeerProviderDiscovery::Impl::refs_match(const Ref& a, const Ref& b) const {
  if (a.version != b.version || a.alias != b.alias) return false;
  auto na = nodes.find(a.node), nb = nodes.find(b.node);
  if (na == nodes.end() || nb == nodes.end()) return true;
  return P(na->second.pkg).name == P(nb->second.pkg).name;
}

// pnpm's inherited_parent_pkg_breaks_peer_diamond (resolve_peers/context.rs).
bool PeerProviderDiscovery::Impl::breaks_diamond(const Refs& with_new, const Ref& inherited, const Ref& own,
                                                 NodeId id) const {
  if (inherited.node == own.node) return false;
  auto ctx = contexts.find(inherited.node);
  auto own_node = nodes.find(own.node);
  if (ctx == contexts.end() || own_node == nodes.end()) return false;
  const ResolvedPackage& parent = P(own_node->second.pkg);
  std::set<std::string> conflicting;
  for (auto& peer : parent.peers) {
    if (!peer_names.count(peer.name)) continue;
    auto inh = ctx->second->find(peer.name);
    auto cur = with_new.find(peer.name);
    if (inh == ctx->second->end() || cur == with_new.end()) continue;
    bool differs = inh->second.pkg != SIZE_MAX
                       ? !nodes.count(cur->second.node) || nodes.at(cur->second.node).pkg != inh->second.pkg
                       : inh->second.version != cur->second.version;
    if (differs) conflicting.insert(peer.name);
  }
  if (conflicting.empty()) return false;
  const Node& n = nodes.at(id);
  std::vector<size_t> kids;
  if (n.realized)
    for (auto& [alias, c] : n.children) kids.push_back(nodes.at(c).pkg);
  else
    for (auto& e : P(n.pkg).children)
      if (e.target != SIZE_MAX) kids.push_back(e.target);
  auto has = [&](size_t k, const std::string& name) {
    return std::any_of(P(k).peers.begin(), P(k).peers.end(), [&](auto& p) { return p.name == name; });
  };
  for (size_t k : kids)
    if (has(k, parent.name.str()) && std::any_of(conflicting.begin(), conflicting.end(), [&](auto& c) { return has(k, c); }))
      return true;
  return false;
}

// pnpm's parent_packages_match: the two providers were seen under equivalent contexts.
bool PeerProviderDiscovery::Impl::contexts_match(NodeId cached, NodeId current) const {
  auto a = contexts.find(cached), b = contexts.find(current);
  if (a == contexts.end() || b == contexts.end() || a->second->size() != b->second->size()) return false;
  int max_depth = 0;
  bool single = true;
  for (auto& [n, i] : *b->second) max_depth = std::max(max_depth, i.depth), single &= i.occurrence == 0;
  for (auto& [n, i] : *a->second) single &= i.occurrence == 0;
  for (auto& [name, ci] : *a->second) {
    auto cu = b->second->find(name);
    if (cu == b->second->end()) return false;
    if (ci.version && cu->second.version) {
      if (*ci.version != *cu->second.version) return false;
      continue;
    }
    if (ci.pkg == SIZE_MAX || ci.pkg != cu->second.pkg) return false;
    if (!(single || cu->second.depth == max_depth || pure.count(ci.pkg))) return false;
  }
  return true;
}

// pnpm's parent_ref_matches_cached.
bool PeerProviderDiscovery::Impl::ref_matches(const Ref& current, NodeId cached) const {
  if (current.node == cached) return true;
  auto dc = dep_paths.find(cached), du = dep_paths.find(current.node);
  if (dc != dep_paths.end() && du != dep_paths.end() && dc->second == du->second) return true;
  auto nc = nodes.find(cached), nu = nodes.find(current.node);
  if (nc == nodes.end() || nu == nodes.end() || nc->second.pkg != nu->second.pkg) return false;
  return pure.count(nu->second.pkg) || contexts_match(cached, current.node);
}

// pnpm's find_hit: the first earlier verdict whose providers match and whose missing peers
// are still missing.
const CacheItem* PeerProviderDiscovery::Impl::find_hit(const Refs& refs, size_t pkg) const {
  auto it = cache.find(pkg);
  if (it == cache.end()) return nullptr;
  for (auto& item : it->second) {
    bool ok = std::all_of(item.resolved.begin(), item.resolved.end(), [&](auto& kv) {
      auto r = refs.find(kv.first);
      return r != refs.end() && ref_matches(r->second, kv.second);
    });
    ok = ok && std::none_of(item.missing.begin(), item.missing.end(), [&](auto& m) { return refs.count(m); });
    if (ok) return &item;
  }
  return nullptr;
}

// pnpm's fast_cache_item_matches: decided from the package's child edges without
// realizing them; a name both inherited and provided by a child is ambiguous (no hit).
Fast PeerProviderDiscovery::Impl::fast_match(const Refs& refs, size_t pkg, const CacheItem& item) const {
  auto provider = [&](const std::string& name, const Ref*& inherited, size_t& child) {
    auto r = refs.find(name);
    inherited = r == refs.end() ? nullptr : &r->second;
    child = SIZE_MAX;
    for (auto& e : P(pkg).children) {
      if (e.target == SIZE_MAX || cut(pkg, e.target)) continue;
      bool by_alias = e.alias.str() == name && peer_names.count(name);
      bool by_name = P(e.target).name.str() == name && e.alias.str() != name && peer_names.count(name);
      if (!by_alias && !by_name) continue;
      if (child != SIZE_MAX) return false;  // two children: ambiguous
      child = e.target;
    }
    return !(inherited && child != SIZE_MAX);
  };
  bool ambiguous = false;
  for (auto& [name, cached] : item.resolved) {
    const Ref* inh;
    size_t child;
    if (!provider(name, inh, child)) ambiguous = true;
    else if (!inh && child == SIZE_MAX) return Fast::NoMatch;
    else if (inh && !ref_matches(*inh, cached)) return Fast::NoMatch;
    else if (!inh) {
      if (!nodes.count(cached) || nodes.at(cached).pkg != child) return Fast::NoMatch;
      if (!pure.count(child) && cached != (kLeaf | child)) ambiguous = true;
    }
  }
  for (auto& name : item.missing) {
    const Ref* inh;
    size_t child;
    if (!provider(name, inh, child)) ambiguous = true;
    else if (inh || child != SIZE_MAX) return Fast::NoMatch;
  }
  return ambiguous ? Fast::Ambiguous : Fast::Match;
}

const CacheItem* PeerProviderDiscovery::Impl::fast_hit(const Refs& refs, size_t pkg) const {
  auto it = cache.find(pkg);
  if (it == cache.end()) return nullptr;
  for (auto& item : it->second)
    if (fast_match(refs, pkg, item) == Fast::Match) return &item;
  return nullptr;
}

// A cache answer (pnpm's finish_cache_hit): the verdict's peers, no bindings reported.
Output PeerProviderDiscovery::Impl::hit(NodeId id, const CacheItem& item) {
  Output out{item.dep_path, item.resolved, {}, item.missing};
  remember(id, out.dep_path);
  in_progress.erase(id);
  return out;
}

// pnpm's preview_peer_provider_children: the node's peer-relevant children; under a lazy
// node they are materialized (fresh nodes, leaves shared).
std::map<std::string, NodeId> PeerProviderDiscovery::Impl::preview(NodeId id) {
  std::map<std::string, NodeId> out;
  Node n = nodes.at(id);
  if (n.realized) {
    for (auto& [alias, c] : n.children)
      if (relevant(alias, nodes.at(c).pkg)) out[alias] = c;
    return out;
  }
  for (auto& e : P(n.pkg).children) {
    if (e.target == SIZE_MAX || !relevant(e.alias.str(), e.target) || cut(n.pkg, e.target)) continue;
    NodeId c = fresh_or_leaf(e.target);
    nodes.try_emplace(c, Node{e.target, n.depth + 1, false, {}});
    out[e.alias.str()] = c;
  }
  return out;
}

// pnpm's build_child_parent_refs: the node's own peer-relevant children join the refs; one
// that does not match the inherited entry of its name shadows it (occurrence + 1).
std::pair<RefsPtr, Refs> PeerProviderDiscovery::Impl::child_refs(NodeId id, const RefsPtr& refs,
                                                                 const std::map<std::string, NodeId>& kids) {
  Refs own;
  for (auto& [alias, c] : kids) insert_ref(own, alias, c);
  if (own.empty()) return {refs, own};
  auto out = std::make_shared<Refs>(*refs);
  std::optional<Refs> with_new;
  for (auto [name, r] : own) {
    auto ex = out->find(name);
    if (ex == out->end()) {
      (*out)[name] = r;
      continue;
    }
    if (!with_new) {
      with_new = *out;
      for (auto& [k, v] : own) (*with_new)[k] = v;
    }
    if (!refs_match(ex->second, r) || breaks_diamond(*with_new, ex->second, r, id)) {
      r.occurrence = ex->second.occurrence + 1;
      ex->second = r;
    }
  }
  return {out, own};
}

Output PeerProviderDiscovery::Impl::resolve(NodeId id, const RefsPtr& refs, const Context& ctx) {
  const Node n = nodes.at(id);
  if (auto p = pure.find(n.pkg); p != pure.end() && P(n.pkg).peers.empty()) {
    std::string dp = p->second;
    remember(id, dp);
    return Output{dp, {}, {}, {}};
  }
  if (in_progress.count(id)) return Output{P(n.pkg).id(), {}, {}, {}};
  in_progress.insert(id);
  if (!n.realized)
    if (const CacheItem* item = fast_hit(*refs, n.pkg)) return hit(id, *item);
  auto kids = preview(id);
  auto [crefs, own] = child_refs(id, refs, kids);
  Context cctx = crefs != refs ? context_of(*crefs) : ctx;
  for (auto& [name, r] : own) contexts[r.node] = cctx;
  if (const CacheItem* item = find_hit(*crefs, n.pkg)) return hit(id, *item);
  Output acc;
  std::set<std::string> aliases;
  walk_children(id, crefs, cctx, kids, acc, aliases);
  return settle(id, *crefs, std::move(acc), aliases);
}

// Children in pnpm's order: those whose alias the refs already name first, then the rest;
// a realized node's by alias, a lazy node's in edge order. Cut cycle edges are not walked.
void PeerProviderDiscovery::Impl::walk_children(NodeId id, const RefsPtr& refs, const Context& ctx,
                                                const std::map<std::string, NodeId>& kids, Output& acc,
                                                std::set<std::string>& aliases) {
  const Node n = nodes.at(id);
  if (n.realized) {
    for (auto& [alias, c] : n.children) aliases.insert(alias);
    for (bool repeated : {true, false})
      for (auto& [alias, c] : n.children)
        if (refs->count(alias) == (repeated ? 1u : 0u) && !cut(n.pkg, nodes.at(c).pkg))
          fold_child(acc, resolve(c, refs, ctx), aliases);
    return;
  }
  for (auto& e : P(n.pkg).children)
    if (e.target != SIZE_MAX) aliases.insert(e.alias.str());
  for (bool repeated : {true, false})
    for (auto& e : P(n.pkg).children) {
      if (e.target == SIZE_MAX || refs->count(e.alias.str()) != (repeated ? 1u : 0u) || cut(n.pkg, e.target)) continue;
      auto k = kids.find(e.alias.str());
      NodeId c = k != kids.end() ? k->second : fresh_or_leaf(e.target);
      fold_child(acc, nodes.count(c) ? resolve(c, refs, ctx) : deferred(c, e.target, n.depth + 1, refs, ctx), aliases);
    }
}

// pnpm's resolve_deferred_child: a pure package or a fast cache answer without missing
// peers needs no node; anything else is materialized and walked.
Output PeerProviderDiscovery::Impl::deferred(NodeId child, size_t pkg, int depth, const RefsPtr& refs,
                                             const Context& ctx) {
  if (auto p = pure.find(pkg); p != pure.end() && P(pkg).peers.empty()) return Output{p->second, {}, {}, {}};
  if (const CacheItem* item = fast_hit(*refs, pkg); item && item->missing.empty())
    return Output{item->dep_path, item->resolved, {}, item->missing};
  nodes.try_emplace(child, Node{pkg, depth, false, {}});
  return resolve(child, refs, ctx);
}

// pnpm's resolve_node_peers and the verdict it caches: the node's own peers bind last, over
// whatever its children reported.
Output PeerProviderDiscovery::Impl::settle(NodeId id, const Refs& refs, Output kids, const std::set<std::string>& aliases) {
  size_t pkg = nodes.at(id).pkg;
  std::map<std::string, NodeId> all = kids.external;
  std::set<std::string> missing = kids.missing;
  for (auto& peer : P(pkg).peers) {
    auto r = refs.find(peer.name);
    if (r == refs.end()) {
      missing.insert(peer.name);
      continue;
    }
    all[peer.name] = r->second.node;
    // Only a node of the resolved tree reports its bindings, not one the walk materialized
    // under a lazy occurrence. Measured, pnpm 12.21 (the mirror's 12.0.0-rc.8 source would
    // report it): in angular-quickstart follow-redirects under @angular/cli >
    // webpack-dev-server > http-proxy-middleware > http-proxy (whose children karma's
    // occurrence owns) binds debug to webpack-dev-server's child 3.2.7, yet pnpm hoists no
    // debug provider; its TypeScript resolver likewise gave resolvedPeers only to packages
    // whose children it resolved.
    if (id < kFresh) kids.bound[peer.name] = r->second.node;
  }
  all.erase(P(pkg).name.str());
  std::string dp = key(pkg, all);
  remember(id, dp);
  if (all.empty() && missing.empty()) pure[pkg] = dp;
  else cache[pkg].push_back({dp, all, missing});
  in_progress.erase(id);
  Output out{dp, {}, std::move(kids.bound), missing};
  for (auto& [name, node] : all)
    if (!aliases.count(name)) out.external[name] = node;
  return out;
}

PeerProviderDiscovery::PeerProviderDiscovery() : impl_(std::make_unique<Impl>()) {}
PeerProviderDiscovery::~PeerProviderDiscovery() = default;

PeerProviderDiscovery::NodeId PeerProviderDiscovery::node_of(const ResolvedTree& tree,
                                                             const std::vector<EagerOcc>& occs, size_t occ) const {
  impl_->tree = &tree;
  return impl_->node_of(occs, occ);
}

size_t PeerProviderDiscovery::eager_pkg(NodeId node) const {
  if (node >= kFresh || ((node & kLeaf) && !impl_->eager_leaves.count(node))) return SIZE_MAX;
  return impl_->nodes.at(node).pkg;
}

// pnpm's discover_peers: the importer's own direct dependencies in order, then appended
// providers not reached at their tree position; the last report of each peer name wins.
std::map<std::string, PeerProviderDiscovery::NodeId> PeerProviderDiscovery::discover(
    const ResolvedTree& tree, const std::vector<EagerOcc>& occs, const std::vector<size_t>& owner_of,
    const std::vector<Direct>& direct, size_t walk_from, const std::vector<NodeId>& providers) {
  Impl& w = *impl_;
  w.tree = &tree;
  w.refresh();
  w.sync(occs, owner_of);
  w.providers = {providers.begin(), providers.end()};
  w.in_progress.clear();
  w.visited.clear();
  auto refs = std::make_shared<const Refs>(w.importer_refs(direct));
  Context ctx = w.context_of(*refs);
  std::map<std::string, NodeId> found;
  auto remember = [&](const Direct& d) {
    if (w.relevant(d.alias, w.nodes.at(d.node).pkg)) w.contexts[d.node] = ctx;
  };
  auto walk = [&](const Direct& d) {
    for (auto& [name, node] : w.resolve(d.node, refs, ctx).bound) found[name] = node;
  };
  for (size_t k = walk_from; k < direct.size(); ++k)
    if (!w.providers.count(direct[k].node)) remember(direct[k]);
  for (size_t k = walk_from; k < direct.size(); ++k)
    if (!w.providers.count(direct[k].node)) walk(direct[k]);
  for (size_t k = walk_from; k < direct.size(); ++k)
    if (w.providers.count(direct[k].node) && !w.visited.count(direct[k].node)) remember(direct[k]), walk(direct[k]);
  return found;
}

}  // namespace tarn::resolve
