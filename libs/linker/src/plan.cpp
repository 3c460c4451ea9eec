#include "tarn/linker/plan.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <mutex>
#include <set>
#include <unordered_set>

#include "tarn/fs/fs.hpp"

namespace tarn {

Platform Platform::host() {
  Platform p;
  struct utsname u;
  uname(&u);
  std::string sys = u.sysname, mach = u.machine;
  p.os = sys == "Linux" ? "linux" : sys == "Darwin" ? "darwin" : sys == "FreeBSD" ? "freebsd" : "linux";
  if (mach == "x86_64" || mach == "amd64") p.cpu = "x64";
  else if (mach == "aarch64" || mach == "arm64") p.cpu = "arm64";
  else if (mach == "i386" || mach == "i686") p.cpu = "ia32";
  else if (mach.rfind("arm", 0) == 0) p.cpu = "arm";
  else p.cpu = mach;
#if defined(__GLIBC__)
  p.libc = "glibc";
#else
  p.libc = "musl";
#endif
  return p;
}

// ------------------------------------------------------------------ installability

namespace {

std::string ascii_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Unique directories, parents before children (shorter paths first).
void order_dirs(std::vector<std::string>& d) {
  std::sort(d.begin(), d.end());
  d.erase(std::unique(d.begin(), d.end()), d.end());
  std::stable_sort(d.begin(), d.end(), [](auto& a, auto& b) { return a.size() < b.size(); });
}

enum class Match { Rejected, Matched, None };

Match value_match(std::string_view value, const std::vector<std::string>& wanted) {
  for (auto& w : wanted) {
    if (!w.empty() && w[0] == '!') {
      if (std::string_view(w).substr(1) == value) return Match::Rejected;
    } else if (w == value) {
      return Match::Matched;
    }
  }
  return Match::None;
}

}  // namespace

bool platform_supported(const std::vector<std::string>& wanted, const std::vector<std::string>* supported,
                        std::string_view current) {
  if (wanted.empty()) return true;
  if (wanted.size() == 1 && wanted[0] == "any") return true;
  bool matched = false;
  if (supported && !supported->empty()) {
    for (auto& v : *supported) {
      switch (value_match(v == "current" ? current : std::string_view(v), wanted)) {
        case Match::Rejected: return false;
        case Match::Matched: matched = true; break;
        case Match::None: break;
      }
    }
  } else {
    switch (value_match(current, wanted)) {
      case Match::Rejected: return false;
      case Match::Matched: matched = true; break;
      case Match::None: break;
    }
  }
  return matched || std::all_of(wanted.begin(), wanted.end(), [](auto& w) { return !w.empty() && w[0] == '!'; });
}

namespace {

const char* os_token(std::string_view t) {
  if (t == "aix") return "aix";
  if (t == "android") return "android";
  if (t == "darwin" || t == "macos" || t == "osx") return "darwin";
  if (t == "freebsd") return "freebsd";
  if (t == "linux") return "linux";
  if (t == "netbsd") return "netbsd";
  if (t == "openbsd") return "openbsd";
  if (t == "openharmony") return "openharmony";
  if (t == "sunos") return "sunos";
  if (t == "win32" || t == "windows") return "win32";
  return nullptr;
}
const char* cpu_token(std::string_view t) {
  if (t == "arm" || t == "armv6" || t == "armv7") return "arm";
  if (t == "arm64" || t == "aarch64") return "arm64";
  if (t == "ia32") return "ia32";
  if (t == "loong64") return "loong64";
  if (t == "mips64el") return "mips64el";
  if (t == "ppc64" || t == "ppc64le") return "ppc64";
  if (t == "riscv64") return "riscv64";
  if (t == "s390x") return "s390x";
  if (t == "x64" || t == "amd64") return "x64";
  if (t == "wasm32") return "wasm32";
  return nullptr;
}
const char* libc_token(std::string_view t) {
  if (t == "glibc" || t == "gnu" || t == "gnueabihf") return "glibc";
  if (t == "musl" || t == "musleabihf") return "musl";
  return nullptr;
}

struct Wanted {
  std::vector<std::string> os, cpu, libc;
};

// pnpm infers the platform of optional packages such as "@esbuild/linux-x64" from their
// names when the manifest leaves axes undeclared.
Wanted wanted_platform(std::string_view name, const PackageMeta& m, bool optional) {
  Wanted w{m.os, m.cpu, m.libc};
  if (!optional || (!m.os.empty() && !m.cpu.empty() && !m.libc.empty())) return w;
  auto slash = name.find('/');
  std::string lower = ascii_lower(std::string(slash == std::string_view::npos ? name : name.substr(slash + 1)));
  Wanted inf;
  size_t i = 0;
  while (i <= lower.size()) {
    size_t j = lower.find_first_of("-_.", i);
    if (j == std::string::npos) j = lower.size();
    std::string_view t(lower.data() + i, j - i);
    auto add = [](std::vector<std::string>& v, const char* x) {
      if (x && std::find(v.begin(), v.end(), x) == v.end()) v.emplace_back(x);
    };
    add(inf.os, os_token(t));
    add(inf.cpu, cpu_token(t));
    add(inf.libc, libc_token(t));
    i = j + 1;
  }
  if (inf.os.empty() && inf.cpu.empty() && inf.libc.empty()) return w;
  bool declares = !m.os.empty() || !m.cpu.empty() || !m.libc.empty();
  if (!declares && inf.os.empty()) return w;
  if (w.os.empty()) w.os = inf.os;
  if (w.cpu.empty()) w.cpu = inf.cpu;
  if (w.libc.empty()) w.libc = inf.libc;
  return w;
}

class Installability {
 public:
  Installability(const Settings& s, const Platform& p, const std::function<std::string()>& node_version)
      : s_(s), p_(p), node_version_fn_(node_version) {}

  // pnpm's packageIsInstallable: platform (with supportedArchitectures) and engines.
  bool ok(const DepPath& key, const PackageMeta& m, bool optional) {
    Wanted w = wanted_platform(key.name().str(), m, optional);
    const auto* sa = s_.supported_architectures ? &*s_.supported_architectures : nullptr;
    if (!platform_supported(w.os, sa ? &sa->os : nullptr, p_.os)) return false;
    if (!platform_supported(w.cpu, sa ? &sa->cpu : nullptr, p_.cpu)) return false;
    if (!w.libc.empty() && p_.libc != "unknown" && !platform_supported(w.libc, sa ? &sa->libc : nullptr, p_.libc))
      return false;
    for (auto& [engine, range] : m.engines) {
      if (engine == "node" && !semver_satisfies(node_version(), range)) return false;
      // pnpm checks its own version here; tarn stands in for pnpm 12.
      if (engine == "pnpm" && !semver_satisfies("12.21.0", range)) return false;
    }
    return true;
  }

 private:
  // Detected once, and only when an engines check needs it (spawning node costs ~30 ms).
  const std::string& node_version() {
    std::call_once(once_, [&] { node_ = node_version_fn_ ? node_version_fn_() : detect_node_version(); });
    return node_;
  }
  const Settings& s_;
  const Platform& p_;
  const std::function<std::string()>& node_version_fn_;
  std::once_flag once_;
  std::string node_;
};

struct Edge {
  size_t to;
  bool optional;
};

std::string pkg_dir_of(const std::string& modules_dir, const PkgName& name) { return modules_dir + "/" + name.str(); }

// Scope directory ("<dir>/@scope") that a link or package named `name` under `dir` needs.
void add_scope_dir(std::vector<std::string>& dirs, const std::string& dir, const PkgName& name) {
  if (name.scoped()) dirs.push_back(dir + "/" + std::string(name.scope()));
}

}  // namespace

std::string detect_node_version() {
  std::string v;
  if (FILE* f = popen("node --version 2>/dev/null", "r")) {
    char buf[64] = {0};
    if (fgets(buf, sizeof buf, f)) v = buf;
    pclose(f);
  }
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
  if (!v.empty() && v[0] == 'v') v.erase(0, 1);
  return v.empty() ? kUnknownNodeVersion : v;
}

Result<InstallPlan> make_plan(const Lockfile& lf, const Settings& settings, const PlanOptions& opt) {
  const size_t n = lf.snapshots.size();
  InstallPlan plan;
  Installability check(settings, opt.platform, opt.node_version);

  auto index_of = [&](const DepPath& p) -> size_t { return lf.snapshot_index.at(p.str()); };
  std::vector<std::vector<Edge>> edges(n);
  for (size_t i = 0; i < n; ++i) {
    auto& s = lf.snapshots[i];
    for (auto& d : s.dependencies)
      if (!d.ref.is_link()) edges[i].push_back({index_of(d.ref.target), false});
    for (auto& d : s.optional_dependencies)
      if (!d.ref.is_link()) edges[i].push_back({index_of(d.ref.target), true});
  }
  const Importer* root = lf.importer(".");
  std::vector<const Importer*> importers;
  for (auto& imp : lf.importers) importers.push_back(&imp);
  std::sort(importers.begin(), importers.end(), [](auto* a, auto* b) { return a->id < b->id; });
  auto group_included = [&](DepGroup g) {
    return g == DepGroup::Prod ? opt.include.prod : g == DepGroup::Dev ? opt.include.dev : opt.include.optional;
  };

  // --- 1. pnpm's skipped-optional computation over every importer edge.
  std::vector<char> skip(n, 0);
  {
    std::vector<char> reachable(n, 0), installed(n, 0), required(n, 0);
    std::vector<signed char> candidate(n, -1);  // cached "fails the optional check"
    auto is_candidate = [&](size_t i) {
      if (candidate[i] < 0) candidate[i] = !check.ok(lf.snapshots[i].key, *lf.meta(lf.snapshots[i].key), true);
      return candidate[i] == 1;
    };
    std::deque<size_t> q;
    std::deque<std::pair<size_t, bool>> pending;
    for (auto* imp : importers)
      for (auto& d : imp->deps) {
        if (d.ref.is_link()) continue;
        size_t t = index_of(d.ref.target);
        if (!reachable[t]) reachable[t] = 1, q.push_back(t);
        pending.emplace_back(t, d.group == DepGroup::Optional);
      }
    while (!q.empty()) {
      size_t k = q.front();
      q.pop_front();
      for (auto& e : edges[k])
        if (!reachable[e.to]) reachable[e.to] = 1, q.push_back(e.to);
    }
    while (!pending.empty()) {
      auto [k, edge_optional] = pending.front();
      pending.pop_front();
      if (installed[k]) continue;
      bool fresh;
      if (is_candidate(k)) {
        if (edge_optional) fresh = false;
        else required[k] = 1, fresh = !installed[k], installed[k] = 1;
      } else {
        fresh = !installed[k];
        installed[k] = 1;
      }
      if (fresh)
        for (auto& e : edges[k]) pending.emplace_back(e.to, e.optional);
    }
    for (size_t i = 0; i < n; ++i) {
      bool opt_check = reachable[i] ? true : lf.snapshots[i].optional;
      bool req = reachable[i] ? required[i] : !lf.snapshots[i].optional;
      bool fails = opt_check ? is_candidate(i) : !check.ok(lf.snapshots[i].key, *lf.meta(lf.snapshots[i].key), false);
      if (fails && !req) skip[i] = 1;
    }
  }
  std::vector<char> excluded = skip;
  if (!opt.include.optional)
    for (size_t i = 0; i < n; ++i)
      if (lf.snapshots[i].optional) excluded[i] = 1;

  // --- 2. What gets a slot: reachable from the included groups without passing a skipped node.
  std::vector<char> keep(n, 0), full(n, 0);
  {
    std::deque<size_t> q, qf;
    for (auto* imp : importers)
      for (auto& d : imp->deps) {
        if (d.ref.is_link() || !group_included(d.group)) continue;
        size_t t = index_of(d.ref.target);
        if (!full[t]) full[t] = 1, qf.push_back(t);
        if (!excluded[t] && !keep[t]) keep[t] = 1, q.push_back(t);
      }
    auto walk = [&](std::deque<size_t>& queue, std::vector<char>& seen, bool block) {
      while (!queue.empty()) {
        size_t k = queue.front();
        queue.pop_front();
        for (auto& e : edges[k]) {
          if (e.optional && !opt.include.optional) continue;
          if (seen[e.to] || (block && excluded[e.to])) continue;
          seen[e.to] = 1;
          queue.push_back(e.to);
        }
      }
    };
    walk(q, keep, true);
    walk(qf, full, false);
  }
  for (size_t i = 0; i < n; ++i)
    if (full[i] && !keep[i] && skip[i]) plan.skipped.push_back(lf.snapshots[i].key.str());
  std::sort(plan.skipped.begin(), plan.skipped.end());

  // --- 3. Slots, directories and dependency links.
  std::vector<std::string> slot_of(n);
  for (size_t i = 0; i < n; ++i)
    slot_of[i] = SlotName::from(lf.snapshots[i].key, settings.virtual_store_dir_max_length).str();
  const std::string vs = "node_modules/.pnpm";
  auto pkg_path = [&](size_t i) { return pkg_dir_of(vs + "/" + slot_of[i] + "/node_modules", lf.snapshots[i].key.name()); };
  std::vector<size_t> plan_index(n, SIZE_MAX);
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    const Snapshot& s = lf.snapshots[i];
    PlannedPackage p;
    p.snapshot = &s;
    p.meta = lf.meta(s.key);
    p.slot = slot_of[i];
    p.modules_dir = vs + "/" + p.slot + "/node_modules";
    p.pkg_dir = pkg_dir_of(p.modules_dir, s.key.name());
    p.has_bin = p.meta->has_bin;
    p.dirs.push_back(vs + "/" + p.slot);
    p.dirs.push_back(p.modules_dir);
    add_scope_dir(p.dirs, p.modules_dir, s.key.name());
    p.dirs.push_back(p.pkg_dir);
    for (auto* list : {&s.dependencies, &s.optional_dependencies}) {
      if (list == &s.optional_dependencies && !opt.include.optional) continue;
      for (auto& d : *list) {
        if (d.alias == s.key.name()) continue;  // pnpm never links a package into itself
        std::string path = p.modules_dir + "/" + d.alias.str();
        std::string target;
        if (d.ref.is_link()) {
          target = fs::normalize(fs::join(opt.project_dir, d.ref.link));
          target = fs::relative(fs::dirname(fs::join(opt.project_dir, path)), target);
        } else {
          size_t t = index_of(d.ref.target);
          if (!keep[t]) continue;
          target = fs::relative(fs::dirname(path), pkg_path(t));
        }
        add_scope_dir(p.dirs, p.modules_dir, d.alias);
        p.links.push_back({std::move(path), std::move(target)});
      }
    }
    order_dirs(p.dirs);
    plan_index[i] = plan.packages.size();
    plan.by_dep_path.emplace(s.key.str(), plan.packages.size());
    plan.packages.push_back(std::move(p));
  }

  // --- 4. Root links: the importer's dependencies, devDependencies and optionalDependencies.
  plan.top_dirs = {"node_modules", vs};
  BinTarget root_bins{"node_modules/.bin", {}};
  std::unordered_set<std::string> root_names;
  if (root) {
    for (DepGroup g : {DepGroup::Prod, DepGroup::Dev, DepGroup::Optional}) {
      if (!group_included(g)) continue;
      for (auto& d : root->deps) {
        if (d.group != g || !root_names.insert(d.alias.str()).second) continue;
        std::string path = "node_modules/" + d.alias.str();
        std::string target;
        std::string version = d.version;
        if (d.ref.is_link()) {
          target = fs::relative(fs::dirname(fs::join(opt.project_dir, path)), fs::join(opt.project_dir, d.ref.link));
        } else {
          size_t t = index_of(d.ref.target);
          if (!keep[t]) continue;  // skipped optional dependency
          target = fs::relative(fs::dirname(path), pkg_path(t));
          if (plan.packages[plan_index[t]].has_bin)
            root_bins.sources.push_back({plan_index[t], path, false});
          if (d.ref.kind == DepRef::Kind::Alias) version = d.ref.target.str();
          else version = std::string(d.ref.target.version());
        }
        add_scope_dir(plan.top_dirs, "node_modules", d.alias);
        plan.top_links.push_back({std::move(path), std::move(target)});
        plan.direct.push_back({g, d.alias.str(), version});
      }
    }
  }

  // pnpm links the bins of peers that a direct dependency declares and the project does
  // not list itself (auto-installed peers) into the project's .bin, without a root link.
  if (root) {
    for (auto& d : root->deps) {
      if (d.ref.is_link() || !group_included(d.group)) continue;
      size_t t = index_of(d.ref.target);
      if (!keep[t]) continue;
      const Snapshot& s = lf.snapshots[t];
      for (auto& peer : lf.meta(s.key)->peer_dependencies) {
        if (root_names.count(peer)) continue;
        for (auto* list : {&s.dependencies, &s.optional_dependencies})
          for (auto& dep : *list) {
            if (dep.alias.str() != peer || dep.ref.is_link()) continue;
            size_t pt = index_of(dep.ref.target);
            if (keep[pt] && plan.packages[plan_index[pt]].has_bin)
              root_bins.sources.push_back({plan_index[pt], pkg_path(pt), true});
          }
      }
    }
  }

  // --- 5. Hoisting, as pnpm's graph walker orders it: by depth, then by slot name.
  Matcher priv(settings.hoist_pattern), pub(settings.public_hoist_pattern);
  plan.private_hoisting = !priv.empty();
  if (!priv.empty() || !pub.empty()) {
    std::vector<std::vector<std::pair<std::string, size_t>>> children(n);
    for (size_t i = 0; i < n; ++i) {
      auto& s = lf.snapshots[i];
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
    // Direct dependencies per importer: dev, prod, optional, each sorted by alias.
    std::vector<std::pair<std::string, size_t>> direct_deps;
    std::vector<size_t> direct_nodes;
    std::vector<char> visited(n, 0);
    std::unordered_set<std::string> direct_seen;
    std::unordered_set<std::string> hoisted_aliases;
    for (auto* imp : importers) {
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
          if (imp->id == ".") {
            hoisted_aliases.insert(ascii_lower(d->alias.str()));
          }
        }
      }
    }
    struct Entry {
      int depth;
      const std::string* sort_key;
      const std::vector<std::pair<std::string, size_t>>* kids;
    };
    static const std::string empty;
    std::vector<Entry> entries{{-1, &empty, &direct_deps}};
    // Depth-first over levels, exactly like pnpm's walker, so each node gets pnpm's depth.
    std::vector<std::pair<std::vector<size_t>, int>> steps{{direct_nodes, 0}};
    while (!steps.empty()) {
      auto [nodes, depth] = std::move(steps.back());
      steps.pop_back();
      for (size_t k : nodes) entries.push_back({depth, &slot_of[k], &children[k]});
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
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (a.depth != b.depth) return a.depth < b.depth;
      return *a.sort_key < *b.sort_key;
    });
    BinTarget private_bins{vs + "/node_modules/.bin", {}};
    std::unordered_map<size_t, size_t> hoisted_pos;
    for (auto& e : entries) {
      for (auto& [alias, child] : *e.kids) {
        HoistKind kind;
        if (pub.matches(alias)) kind = HoistKind::Public;
        else if (priv.matches(alias)) kind = HoistKind::Private;
        else continue;
        std::string low = ascii_lower(alias);
        if (hoisted_aliases.count(low)) continue;
        if (!keep[child]) continue;  // skipped nodes never claim an alias
        hoisted_aliases.insert(low);
        auto [pos, fresh] = hoisted_pos.emplace(child, plan.hoisted.size());
        if (fresh) plan.hoisted.push_back({lf.snapshots[child].key.str(), {}});
        plan.hoisted[pos->second].second.emplace_back(alias, kind);
        auto alias_name = *PkgName::parse(alias);
        std::string base = kind == HoistKind::Public ? "node_modules" : vs + "/node_modules";
        std::string path = base + "/" + alias;
        if (kind == HoistKind::Private) plan.top_dirs.push_back(base);  // deduplicated below
        add_scope_dir(plan.top_dirs, base, alias_name);
        plan.top_links.push_back({path, fs::relative(fs::dirname(path), pkg_path(child))});
        if (plan.packages[plan_index[child]].has_bin) {
          if (kind == HoistKind::Private) private_bins.sources.push_back({plan_index[child], path, false});
          else root_bins.sources.push_back({plan_index[child], path, true});
        }
      }
    }
    if (!private_bins.sources.empty()) plan.bins.push_back(std::move(private_bins));
  }
  if (!root_bins.sources.empty()) plan.bins.push_back(std::move(root_bins));
  order_dirs(plan.top_dirs);

  // --- 6. Each slot's own .bin: its children's bins and its own.
  for (size_t pi = 0; pi < plan.packages.size(); ++pi) {
    auto& p = plan.packages[pi];
    BinTarget bt{p.pkg_dir + "/node_modules/.bin", {}};
    for (auto* list : {&p.snapshot->dependencies, &p.snapshot->optional_dependencies})
      for (auto& d : *list) {
        if (d.ref.is_link()) continue;
        size_t t = index_of(d.ref.target);
        if (!keep[t] || !plan.packages[plan_index[t]].has_bin) continue;
        bt.sources.push_back({plan_index[t], p.modules_dir + "/" + d.alias.str(), false});
      }
    if (p.has_bin) bt.sources.push_back({pi, p.pkg_dir, false});
    if (p.meta->bundled) bt.bundled_dir = p.pkg_dir + "/node_modules";
    if (!bt.sources.empty() || !bt.bundled_dir.empty()) plan.bins.push_back(std::move(bt));
  }
  return plan;
}

}  // namespace tarn
