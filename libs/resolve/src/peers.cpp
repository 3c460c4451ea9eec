// The peer pass. For each importer, a post-order walk over every occurrence (children
// first) with the providers visible at that point: the occurrence's siblings, then each
// ancestor level's, up to the importer's direct dependencies (and, for other projects, the
// workspace root's). A peer binds to the nearest provider of its name even when the version
// does not satisfy the range (that is reported). An occurrence's snapshot key is its pkg id
// plus the peers it and its subtree took from above, each rendered as the provider's own
// key, sorted. Two caches keep the walk linear in practice, as in pnpm: subtrees without any
// peer are named by their pkg id without a walk, and a package revisited under the same
// providers reuses its earlier answer.
#include <openssl/evp.h>

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <optional>

#include "peer_graph.hpp"

namespace tarn::resolve {

namespace {

struct Scope;
struct Provider {
  Scope* scope = nullptr;
  size_t idx = 0;
  explicit operator bool() const { return scope != nullptr; }
};

struct OccResult {
  std::string dep_path;
  std::map<std::string, Provider> external;   // peers taken from above, by name
  std::map<std::string, MissingPeer> missing;  // peers nothing above provides
};

struct Scope {
  Scope* up = nullptr;
  std::string path;  // the aliases from the importer to this scope's owner, each after '\n'
  bool provides = true;  // false: a canonical occurrence's scope, which provides no peers
  std::vector<std::pair<PkgName, size_t>> kids;  // alias -> package
  std::vector<char> optional;                    // per kid: an optional edge
  std::vector<std::optional<OccResult>> memo;
  std::vector<char> busy;
  // Children behind a cut cycle edge (see PeerWalk::cut): alias, the package's canonical
  // occurrence, optional, and the position among the children.
  struct Back {
    PkgName alias;
    Provider at;
    bool optional;
    size_t pos;
  };
  std::vector<Back> back;
  void init() {
    memo.assign(kids.size(), std::nullopt);
    busy.assign(kids.size(), 0);
  }
};

struct CacheEntry {
  OccResult result;                                // externals re-bound on reuse
  std::map<std::string, std::string> provider_path;  // name -> provider's key
};

std::string sha256_hex32(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n && out.size() < 32; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// A pkg id and its peers' segments: sorted as strings, in parentheses; a body over 1000 bytes
// becomes the first 32 hex digits of its sha256.
std::string join_key(const std::string& id, std::vector<std::string> parts) {
  if (parts.empty()) return id;
  std::sort(parts.begin(), parts.end());
  std::string body;
  for (auto& x : parts) body += (body.empty() ? "" : ")(") + x;
  if (body.size() > 1000) return id + "(" + sha256_hex32(body) + ")";
  return id + "(" + body + ")";
}

// pnpm's peer-range check with prerelease tolerance: 1.0.0-rc satisfies what 1.0.0 does.
bool peer_satisfied(const Version& v, const std::string& range) {
  if (range == "*" || range.empty()) return true;
  auto r = Range::parse(range);
  if (!r) return true;  // git, file or URL peers match any provider
  if (r->satisfies(v, true)) return true;
  auto base = Version::parse(std::to_string(v.major()) + "." + std::to_string(v.minor()) + "." + std::to_string(v.patch()));
  return base && r->satisfies(*base);
}

struct PeerWalk {
  const ResolvedTree& tree;
  bool record;
  PeerGraph out;
  std::vector<char> pure;
  std::vector<std::vector<CacheEntry>> cache;
  std::set<size_t> pure_recorded;
  // Edges to a peer whose key was not final yet (a peer cycle): patched when it is.
  std::map<std::pair<const Scope*, size_t>, std::vector<std::pair<std::string, size_t>>> fixups;

  std::vector<size_t> scc;        // per package: its component in the children graph
  // Canonical occurrences of cut edges' targets, one scope each (walked at the level of the
  // importer that first cut an edge to them; their missing peers are not reported, as pnpm's
  // in_canonical_drain).
  std::vector<std::unique_ptr<Scope>> canon;
  std::map<size_t, size_t> canon_index;  // package -> index in `canon`
  size_t canon_walked = 0;

  PeerWalk(const ResolvedTree& t, bool rec) : tree(t), record(rec), cache(t.packages.size()) {
    compute_pure();
    compute_scc();
  }

  void compute_pure() {
    pure.assign(tree.packages.size(), 1);
    for (size_t i = 0; i < pure.size(); ++i) pure[i] = tree.packages[i].peers.empty();
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t i = 0; i < pure.size(); ++i)
        if (pure[i])
          for (auto& e : tree.packages[i].children)
            if (e.target != SIZE_MAX && !pure[e.target]) {
              pure[i] = 0;
              changed = true;
              break;
            }
    }
  }

  // pnpm's canonical cycle gate (resolve_peers/walker.rs cuts_cycle_edge): inside one
  // strongly connected component of the children graph, an edge to a package whose id is
  // not later in string order is cut, the same way at every occurrence. A cut edge is still
  // a dependency of the snapshot, but it points at the target's one canonical occurrence,
  // walked at the importer's level, and gives its parent neither peers nor a provider.
  bool cut(size_t pkg, size_t child) const {
    return scc[pkg] == scc[child] && tree.packages[child].id() <= tree.packages[pkg].id();
  }
  void compute_scc();
  Provider canonical(size_t pkg);
  void drain_canonical(Scope& importer);
  Scope* importer_scope = nullptr;  // the importer being walked

  Provider lookup(Scope* s, const std::string& name) const {
    for (; s; s = s->up) {
      if (!s->provides) continue;
      for (size_t i = 0; i < s->kids.size(); ++i)
        if (s->kids[i].first.str() == name) return {s, i};
      for (size_t i = 0; i < s->kids.size(); ++i)
        if (tree.packages[s->kids[i].second].name.str() == name) return {s, i};
    }
    return {};
  }

  // A provider still being walked (an ancestor, or a peer cycle) has no key yet: it is
  // named by a token, which finalize() replaces by its key.
  std::string path_of(Provider p) {
    if (!p.scope->busy[p.idx]) return resolve(*p.scope, p.idx).dep_path;
    auto [it, fresh] = token_of.try_emplace({p.scope, p.idx}, "");
    if (fresh) it->second = "\x01" + std::to_string(token_key.size() + token_of.size()) + "\x01";
    return it->second;
  }

  // What a provisional key is made of, for finalize(): the package and each peer's
  // provider, as its provisional key or a token.
  struct KeyRecord {
    size_t pkg;
    std::vector<std::pair<std::string, std::string>> peers;
  };
  std::unordered_map<std::string, KeyRecord> records;
  std::map<std::pair<const Scope*, size_t>, std::string> token_of;  // busy occurrence -> its token
  std::unordered_map<std::string, std::string> token_key;            // token -> provisional key
  void finalize();

  // pnpm's hoisted_peer_provider_node_ids: an importer's appended peer provider is the
  // occurrence at its tree position, so its key is that occurrence's. Until the walk gets
  // there it is a token; a position the walk never reaches (a cache answer above it) is
  // walked at the importer instead (pnpm's pruned-provider fallback).
  std::map<std::string, std::string> provider_token;  // occurrence path -> token
  std::map<std::string, std::string> provider_key;     // token -> the occurrence's key
  size_t provider_tokens = 0;
  void bind_provider(const Scope& s, size_t k);
  void add_providers(Scope& sc, const ResolvedImporter& imp, const std::vector<size_t>& slot);
  void fallback_providers(Scope& sc, const ResolvedImporter& imp, const std::vector<size_t>& slot);

  void record_pure(size_t pkg);
  std::optional<OccResult> from_cache(Scope& s, size_t pkg);
  const OccResult& resolve(Scope& s, size_t k);
  OccResult compute(Scope& s, size_t k);
  OccResult walk(Scope& s, size_t k);
  std::string key_for(size_t pkg, const std::map<std::string, Provider>& peers, const Scope& s, size_t k);
  std::string segment(Provider p, const Scope& s, size_t k);
  void record_node(const OccResult& r, size_t pkg, const Scope& children, const std::map<std::string, Provider>& own);
};

void PeerWalk::record_pure(size_t pkg) {
  if (!record || !pure_recorded.insert(pkg).second) return;
  GraphNode& n = out.nodes[tree.packages[pkg].id()];
  n.pkg = pkg;
  for (auto& e : tree.packages[pkg].children) {
    if (e.target == SIZE_MAX) continue;  // dropped (the walk is still running)
    n.edges.push_back({e.alias, tree.packages[e.target].id(), e.optional});
    record_pure(e.target);
  }
}

std::optional<OccResult> PeerWalk::from_cache(Scope& s, size_t pkg) {
  for (auto& c : cache[pkg]) {
    bool match = true;
    for (auto& [name, path] : c.provider_path) {
      Provider p = lookup(&s, name);
      if (!p || path_of(p) != path) {
        match = false;
        break;
      }
    }
    for (auto it = c.result.missing.begin(); match && it != c.result.missing.end(); ++it)
      match = !lookup(&s, it->first);
    if (!match) continue;
    OccResult r = c.result;
    for (auto& [name, p] : r.external) p = lookup(&s, name);
    return r;
  }
  return std::nullopt;
}

const OccResult& PeerWalk::resolve(Scope& s, size_t k) {
  if (s.memo[k]) return *s.memo[k];
  s.memo[k] = compute(s, k);
  if (!provider_token.empty()) bind_provider(s, k);
  if (auto t = token_of.find({&s, k}); t != token_of.end()) {
    token_key[t->second] = s.memo[k]->dep_path;
    token_of.erase(t);  // a later scope may reuse this address
  }
  // Edges recorded while this occurrence's key was not final (a peer cycle, a cut edge).
  if (auto f = fixups.find({&s, k}); f != fixups.end()) {
    for (auto& [node, edge] : f->second) out.nodes[node].edges[edge].dep_path = s.memo[k]->dep_path;
    fixups.erase(f);
  }
  return *s.memo[k];
}

OccResult PeerWalk::compute(Scope& s, size_t k) {
  size_t pkg = s.kids[k].second;
  if (pure[pkg]) {
    record_pure(pkg);
    return OccResult{tree.packages[pkg].id(), {}, {}};
  }
  s.busy[k] = 1;  // before the cache check too: it resolves providers, which may need this one
  if (auto hit = from_cache(s, pkg)) {
    s.busy[k] = 0;
    return std::move(*hit);
  }
  OccResult r = walk(s, k);
  s.busy[k] = 0;
  CacheEntry c{r, {}};
  for (auto& [name, p] : r.external) c.provider_path[name] = path_of(p);
  cache[pkg].push_back(std::move(c));
  return r;
}

void merge_missing(std::map<std::string, MissingPeer>& into, const std::map<std::string, MissingPeer>& from) {
  for (auto& [name, m] : from) {
    auto& dst = into[name];
    for (auto& r : m.ranges)
      if (std::find(dst.ranges.begin(), dst.ranges.end(), r) == dst.ranges.end()) dst.ranges.push_back(r);
    for (auto& r : m.optional_ranges)
      if (std::find(dst.optional_ranges.begin(), dst.optional_ranges.end(), r) == dst.optional_ranges.end())
        dst.optional_ranges.push_back(r);
  }
}

// pnpm's suffix: each peer as its provider's own key, sorted as strings, in parentheses;
// a body over 1000 bytes becomes the first 32 hex digits of its sha256.
// A peer in a peer cycle with this occurrence (it takes this one from above) is written as
// name@version: pnpm names the members of a peer-graph cycle without their suffixes.
std::string PeerWalk::segment(Provider p, const Scope& s, size_t k) {
  std::string path = path_of(p);
  const auto& memo = p.scope->memo[p.idx];
  if (memo)
    for (auto& [name, q] : memo->external)
      if (q.scope == &s && q.idx == k) return tree.packages[p.scope->kids[p.idx].second].id();
  return path;
}

std::string PeerWalk::key_for(size_t pkg, const std::map<std::string, Provider>& peers, const Scope& s, size_t k) {
  std::string id = tree.packages[pkg].id();
  if (peers.empty()) return id;
  std::vector<std::string> parts;
  for (auto& [name, p] : peers) parts.push_back(segment(p, s, k));
  return join_key(id, parts);
}

OccResult PeerWalk::walk(Scope& s, size_t k) {
  size_t pkg = s.kids[k].second;
  const ResolvedPackage& P = tree.packages[pkg];
  Scope c;
  c.up = &s;
  if (!provider_token.empty()) c.path = s.path + "\n" + s.kids[k].first.str();
  OccResult r;
  for (auto& e : P.children) {
    if (e.target == SIZE_MAX) continue;  // dropped (the walk is still running)
    if (e.target == pkg) continue;  // a self-dependency
    // test/resolve/cases/peers-cycle-optional: `reg@1.0.0`, whose child `core` is cut, has
    // no suffix though `core` takes a peer from above.
    if (cut(pkg, e.target)) {
      c.back.push_back({e.alias, canonical(e.target), e.optional, c.kids.size() + c.back.size()});
      continue;
    }
    c.kids.emplace_back(e.alias, e.target);
    c.optional.push_back(e.optional);
  }
  c.init();
  std::map<std::string, Provider> all;
  for (size_t j = 0; j < c.kids.size(); ++j) {
    const OccResult& cr = resolve(c, j);
    for (auto& [name, p] : cr.external)
      if (p.scope != &c) all.emplace(name, p);
    merge_missing(r.missing, cr.missing);
  }
  std::map<std::string, Provider> own;
  for (auto& peer : P.peers) {
    Provider p = lookup(&s, peer.name);
    if (!p) {
      auto& m = r.missing[peer.name];
      auto& list = peer.optional ? m.optional_ranges : m.ranges;
      if (std::find(list.begin(), list.end(), peer.range) == list.end()) list.push_back(peer.range);
      continue;
    }
    own[peer.name] = p;
    all[peer.name] = p;
    const ResolvedPackage& prov = tree.packages[p.scope->kids[p.idx].second];
    if (!peer_satisfied(prov.meta->version, peer.range))
      out.bad.push_back(P.id() + " wants " + peer.name + "@" + peer.range + ", found " + prov.meta->version.str());
  }
  all.erase(P.name.str());
  r.external = all;
  r.dep_path = key_for(pkg, all, s, k);
  if (record && !all.empty() && !records.count(r.dep_path)) {
    KeyRecord kr{pkg, {}};
    for (auto& [name, p] : all) kr.peers.emplace_back(name, path_of(p));
    records.emplace(r.dep_path, std::move(kr));
  }
  if (record) record_node(r, pkg, c, own);
  return r;
}

void PeerWalk::record_node(const OccResult& r, size_t pkg, const Scope& c, const std::map<std::string, Provider>& own) {
  const ResolvedPackage& P = tree.packages[pkg];
  auto [it, fresh] = out.nodes.try_emplace(r.dep_path);
  GraphNode& n = it->second;
  std::set<std::string> declared;
  for (auto& [name, range] : P.meta->peer_dependencies) declared.insert(name);
  for (auto& name : P.meta->optional_peers) declared.insert(name);
  for (auto& [name, p] : r.external)
    if (!declared.count(name)) n.transitive_peers.insert(name);
  for (auto& [name, m] : r.missing)
    if (!declared.count(name)) n.transitive_peers.insert(name);
  if (!fresh) return;  // the first (shallowest) occurrence's edges stand
  n.pkg = pkg;
  for (auto& [name, p] : r.external) n.resolved_peer_names.insert(name);
  for (size_t j = 0, b = 0; j < c.kids.size() || b < c.back.size();) {
    if (b < c.back.size() && c.back[b].pos == j + b) {
      // The canonical occurrence is walked after the importer's tree: its key is written
      // when it is final.
      auto& back = c.back[b++];
      const auto& memo = back.at.scope->memo[back.at.idx];
      if (!memo) fixups[{back.at.scope, back.at.idx}].emplace_back(r.dep_path, n.edges.size());
      n.edges.push_back({back.alias, memo ? memo->dep_path : tree.packages[back.at.scope->kids[back.at.idx].second].id(),
                         back.optional});
      continue;
    }
    n.edges.push_back({c.kids[j].first, c.memo[j]->dep_path, c.optional[j] != 0});
    ++j;
  }
  for (auto& peer : P.peers)
    if (auto o = own.find(peer.name); o != own.end()) {
      Provider p = o->second;
      if (p.scope->busy[p.idx]) fixups[{p.scope, p.idx}].emplace_back(r.dep_path, n.edges.size());
      n.edges.push_back({*PkgName::parse(peer.name), path_of(p), peer.optional});
    }
}

}  // namespace

// Tarjan's strongly connected components, iteratively (a chain of a thousand packages must
// not become a thousand stack frames): the component of each node.
std::vector<size_t> scc_ids(const std::vector<std::vector<size_t>>& adj) {
  size_t n = adj.size(), next = 0, comps = 0;
  std::vector<size_t> index(n, SIZE_MAX), low(n, 0), stack, comp(n, SIZE_MAX);
  std::vector<char> on(n, 0);
  std::vector<std::pair<size_t, size_t>> frames;  // (node, next successor)
  auto enter = [&](size_t v) {
    index[v] = low[v] = next++;
    stack.push_back(v), on[v] = 1;
    frames.push_back({v, 0});
  };
  for (size_t root = 0; root < n; ++root) {
    if (index[root] != SIZE_MAX) continue;
    enter(root);
    while (!frames.empty()) {
      size_t v = frames.back().first;
      if (size_t& i = frames.back().second; i < adj[v].size()) {
        size_t w = adj[v][i++];
        if (index[w] == SIZE_MAX) enter(w);
        else if (on[w]) low[v] = std::min(low[v], index[w]);
        continue;
      }
      frames.pop_back();
      if (!frames.empty()) low[frames.back().first] = std::min(low[frames.back().first], low[v]);
      if (low[v] != index[v]) continue;
      for (size_t w = SIZE_MAX; w != v;) {
        w = stack.back();
        stack.pop_back(), on[w] = 0;
        comp[w] = comps;
      }
      ++comps;
    }
  }
  return comp;
}

namespace {

void PeerWalk::compute_scc() {
  std::vector<std::vector<size_t>> adj(tree.packages.size());
  for (size_t i = 0; i < adj.size(); ++i)
    for (auto& e : tree.packages[i].children)
      if (e.target != SIZE_MAX) adj[i].push_back(e.target);
  scc = scc_ids(adj);
}

// pnpm's cyclic_peer_names: names in a cycle of the graph "package name -> the names of the
// peers its occurrences take from above" (a self-loop counts).
std::set<std::string> cyclic_names(const std::vector<std::pair<std::string, std::vector<std::string>>>& edges) {
  std::map<std::string, size_t> id;
  auto of = [&](const std::string& n) { return id.try_emplace(n, id.size()).first->second; };
  std::vector<std::pair<size_t, size_t>> pairs;
  for (auto& [from, tos] : edges)
    for (auto& to : tos) pairs.push_back({of(from), of(to)});
  std::vector<std::vector<size_t>> adj(id.size());
  for (auto& [a, b] : pairs) adj[a].push_back(b);
  auto comp = scc_ids(adj);
  std::vector<size_t> size(id.size(), 0);
  for (size_t c : comp) ++size[c];
  std::set<std::string> out;
  for (auto& [name, i] : id)
    if (size[comp[i]] > 1 || std::find(adj[i].begin(), adj[i].end(), i) != adj[i].end()) out.insert(name);
  return out;
}

// pnpm's build_final_dep_paths (resolve_peers/finalize.rs): every key is rebuilt with each
// peer's own final key, except a peer in the same strongly connected component of the peer
// graph as the occurrence, or whose name is in a cycle of names: that one is name@version.
// (test/resolve/cases/peers-parent: `helper` peers on its parent `core`, which was still
// being walked when `helper`'s provisional key was made.)
void PeerWalk::finalize() {
  token_key.insert(provider_key.begin(), provider_key.end());
  auto target = [&](const std::string& ref) -> std::string {
    auto t = token_key.find(ref);
    return t == token_key.end() ? ref : t->second;
  };
  std::vector<std::string> keys;
  for (auto& [k, r] : records) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < keys.size(); ++i) index[keys[i]] = i;
  std::vector<std::vector<size_t>> adj(keys.size());
  std::vector<std::pair<std::string, std::vector<std::string>>> name_edges;
  for (size_t i = 0; i < keys.size(); ++i) {
    const KeyRecord& r = records.at(keys[i]);
    name_edges.push_back({tree.packages[r.pkg].name.str(), {}});
    for (auto& [name, ref] : r.peers) {
      name_edges.back().second.push_back(name);
      if (auto it = index.find(target(ref)); it != index.end()) adj[i].push_back(it->second);
    }
  }
  auto comp = scc_ids(adj);
  auto cyclic = cyclic_names(name_edges);
  std::unordered_map<std::string, std::string> done;
  std::set<std::string> visiting;
  std::function<std::string(const std::string&)> render = [&](const std::string& key) -> std::string {
    if (auto d = done.find(key); d != done.end()) return d->second;
    auto it = index.find(key);
    if (it == index.end() || !visiting.insert(key).second) return key;
    const KeyRecord& r = records.at(key);
    std::vector<std::string> parts;
    for (auto& [name, ref] : r.peers) {
      std::string p = target(ref);
      auto pi = index.find(p);
      std::string pair = pi == index.end() ? p : tree.packages[records.at(p).pkg].id();
      bool collapse = (pi != index.end() && comp[pi->second] == comp[it->second]) || cyclic.count(name);
      parts.push_back(collapse ? pair : render(p));
    }
    visiting.erase(key);
    return done[key] = join_key(tree.packages[r.pkg].id(), parts);
  };
  auto final_of = [&](const std::string& ref) { return render(target(ref)); };
  std::map<std::string, GraphNode> nodes;
  for (auto& [k, n] : out.nodes) {
    for (auto& e : n.edges) e.dep_path = final_of(e.dep_path);
    auto [at, fresh] = nodes.try_emplace(final_of(k), std::move(n));
    if (fresh) continue;
    at->second.transitive_peers.insert(n.transitive_peers.begin(), n.transitive_peers.end());
  }
  out.nodes = std::move(nodes);
  for (auto& d : out.direct)
    for (auto& p : d)
      if (!p.empty()) p = final_of(p);
}

Provider PeerWalk::canonical(size_t pkg) {
  auto [it, fresh] = canon_index.try_emplace(pkg, canon.size());
  if (fresh) {
    auto sc = std::make_unique<Scope>();
    sc->up = importer_scope;
    sc->provides = false;
    sc->path = "\x02";  // no provider is under a canonical occurrence
    sc->kids.emplace_back(tree.packages[pkg].name, pkg);
    sc->optional.push_back(0);
    sc->init();
    canon.push_back(std::move(sc));
  }
  return {canon[it->second].get(), 0};
}

// After an importer's tree: its canonical occurrences, which may cut edges to more.
void PeerWalk::drain_canonical(Scope& importer) {
  for (; canon_walked < canon.size(); ++canon_walked) {
    Scope& sc = *canon[canon_walked];
    if (sc.up == &importer) resolve(sc, 0);
  }
}

std::string provider_path(const ResolvedImporter::Direct& d) {
  std::string path;
  for (auto& a : d.provider_at) path += "\n" + a.str();
  return path;
}

void PeerWalk::add_providers(Scope& sc, const ResolvedImporter& imp, const std::vector<size_t>& slot) {
  provider_token.clear();  // paths are per importer
  for (size_t k = 0; k < sc.kids.size(); ++k) {
    const auto& d = imp.deps[slot[k]];
    if (d.provider_at.empty()) continue;
    std::string token = "\x01p" + std::to_string(provider_tokens++) + "\x01";
    provider_token[provider_path(d)] = token;
    sc.memo[k] = OccResult{token, {}, {}};
  }
}

void PeerWalk::bind_provider(const Scope& s, size_t k) {
  auto t = provider_token.find(s.path + "\n" + s.kids[k].first.str());
  if (t != provider_token.end()) provider_key.try_emplace(t->second, s.memo[k]->dep_path);
}

void PeerWalk::fallback_providers(Scope& sc, const ResolvedImporter& imp, const std::vector<size_t>& slot) {
  for (size_t k = 0; k < sc.kids.size(); ++k) {
    const auto& d = imp.deps[slot[k]];
    if (d.provider_at.empty() || provider_key.count(sc.memo[k]->dep_path)) continue;
    sc.busy[k] = 1;
    OccResult r = walk(sc, k);
    sc.busy[k] = 0;
    provider_key[sc.memo[k]->dep_path] = r.dep_path;
  }
}

PeerGraph run(const ResolvedTree& tree, bool record) {
  PeerWalk w(tree, record);
  size_t n = tree.importers.size();
  w.out.direct.resize(n);
  w.out.missing.resize(n);
  std::unique_ptr<Scope> root;
  for (size_t i = 0; i < n; ++i) {
    auto sc = std::make_unique<Scope>();
    // pnpm's resolvePeersFromWorkspaceRoot: other projects also see the root's dependencies.
    sc->up = i > 0 ? root.get() : nullptr;
    std::vector<size_t> slot;  // kid -> index in the importer's deps
    for (size_t k = 0; k < tree.importers[i].deps.size(); ++k) {
      auto& d = tree.importers[i].deps[k];
      if (d.target == SIZE_MAX) continue;
      sc->kids.emplace_back(d.alias, d.target);
      sc->optional.push_back(d.optional);
      slot.push_back(k);
    }
    sc->init();
    w.add_providers(*sc, tree.importers[i], slot);
    w.importer_scope = sc.get();
    w.out.direct[i].assign(tree.importers[i].deps.size(), "");
    for (size_t k = 0; k < sc->kids.size(); ++k) {
      const OccResult& r = w.resolve(*sc, k);
      w.out.direct[i][slot[k]] = r.dep_path;
      merge_missing(w.out.missing[i], r.missing);
    }
    w.drain_canonical(*sc);
    w.fallback_providers(*sc, tree.importers[i], slot);
    if (i == 0 && tree.importers[i].id.is_root()) root = std::move(sc);
  }
  if (record) w.finalize();
  return std::move(w.out);
}

}  // namespace

PeerGraph resolve_peers(const ResolvedTree& tree, bool record_graph) { return run(tree, record_graph); }

std::map<std::string, MissingPeer> discover_missing_peers(const ResolvedTree& tree, size_t importer) {
  PeerGraph g = run(tree, false);
  return std::move(g.missing[importer]);
}

}  // namespace tarn::resolve

namespace tarn::resolve {

namespace {

size_t deps_count(const GraphNode& n) { return n.edges.size() + n.resolved_peer_names.size(); }

bool compatible_and_larger(const GraphNode& larger, const GraphNode& smaller) {
  if (deps_count(larger) < deps_count(smaller)) return false;
  std::set<std::string> kids;
  for (auto& e : larger.edges) kids.insert(e.dep_path);
  for (auto& e : smaller.edges)
    if (!kids.count(e.dep_path)) return false;
  return std::includes(larger.resolved_peer_names.begin(), larger.resolved_peer_names.end(),
                       smaller.resolved_peer_names.begin(), smaller.resolved_peer_names.end());
}

// One round of pnpm's deduplicate_dep_paths over the groups of variants.
std::map<std::string, std::string> dedupe_round(const PeerGraph& g, const std::vector<std::vector<std::string>>& groups,
                                                std::vector<std::vector<std::string>>& remaining) {
  std::map<std::string, std::string> map;
  auto by_count = [&](const std::string& a, const std::string& b) {
    size_t ca = deps_count(g.nodes.at(a)), cb = deps_count(g.nodes.at(b));
    return ca != cb ? ca < cb : a < b;
  };
  for (auto& variants : groups) {
    std::set<std::string> unresolved(variants.begin(), variants.end());
    std::vector<std::string> current = variants;
    std::sort(current.begin(), current.end(), by_count);
    while (!current.empty()) {
      std::string largest = current.back();
      current.pop_back();
      std::vector<std::string> next;
      while (!current.empty()) {
        std::string cand = current.back();
        current.pop_back();
        if (compatible_and_larger(g.nodes.at(largest), g.nodes.at(cand))) {
          map[cand] = largest;
          unresolved.erase(largest);
          unresolved.erase(cand);
        } else {
          next.push_back(cand);
        }
      }
      current = std::move(next);
      std::sort(current.begin(), current.end(), by_count);
    }
    if (!unresolved.empty()) remaining.emplace_back(unresolved.begin(), unresolved.end());
  }
  return map;
}

void prune_unreachable(PeerGraph& g) {
  std::set<std::string> seen;
  std::vector<std::string> stack;
  for (auto& d : g.direct)
    for (auto& p : d)
      if (!p.empty()) stack.push_back(p);
  while (!stack.empty()) {
    std::string k = std::move(stack.back());
    stack.pop_back();
    if (!seen.insert(k).second) continue;
    auto it = g.nodes.find(k);
    if (it == g.nodes.end()) continue;
    for (auto& e : it->second.edges) stack.push_back(e.dep_path);
  }
  std::erase_if(g.nodes, [&](auto& kv) { return !seen.count(kv.first); });
}

}  // namespace

void dedupe_peer_dependents(PeerGraph& g, const ResolvedTree& tree) {
  std::map<std::string, std::vector<std::string>> by_pkg;
  for (auto& [key, n] : g.nodes) by_pkg[tree.packages[n.pkg].id()].push_back(key);
  std::vector<std::vector<std::string>> groups;
  for (auto& [id, v] : by_pkg)
    if (v.size() > 1) groups.push_back(v);
  std::map<std::string, std::string> merged;
  while (!groups.empty()) {
    std::vector<std::vector<std::string>> remaining;
    auto map = dedupe_round(g, groups, remaining);
    if (remaining.size() == groups.size() || map.empty()) {
      merged.insert(map.begin(), map.end());
      break;
    }
    for (auto& [k, n] : g.nodes)
      for (auto& e : n.edges)
        if (auto it = map.find(e.dep_path); it != map.end()) e.dep_path = it->second;
    for (auto& [a, b] : map) merged[a] = b;
    groups = std::move(remaining);
  }
  if (merged.empty()) return;
  for (auto& d : g.direct)
    for (auto& p : d)
      if (auto it = merged.find(p); it != merged.end()) p = it->second;
  prune_unreachable(g);
}

}  // namespace tarn::resolve
