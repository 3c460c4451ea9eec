// --filter selectors (filter.hpp), after pnpm's parse_project_selector.rs and filter.rs,
// with pnpm 12.21's ordered evaluation of inclusions and exclusions.
#include "tarn/workspace/filter.hpp"

#include <algorithm>
#include <map>

#include "tarn/config/config.hpp"
#include "tarn/fs/fs.hpp"

namespace tarn::workspace {

namespace {

// Node's path.join(prefix, rel): an absolute `rel` extends the prefix, then lexical
// normalisation.
std::string lexical_join(std::string_view prefix, std::string_view rel) {
  while (!rel.empty() && (rel.front() == '/' || rel.front() == '\\')) rel.remove_prefix(1);
  return fs::normalize(fs::join(prefix, rel));
}

struct Parts {
  std::optional<std::string> name, brace, bracket;
};

// An optional <open>inner<close> group at the start of `in` (inner non-empty, without
// `close`); false when an <open> starts a malformed group.
bool match_delimited(std::string_view& in, char open, char close, std::optional<std::string>& inner) {
  if (in.empty() || in.front() != open) return true;
  size_t at = in.find(close, 1);
  if (at == std::string_view::npos || at == 1) return false;
  inner = std::string(in.substr(1, at - 1));
  in.remove_prefix(at + 1);
  return true;
}

// pnpm's selector regex ^([^.][^{}[\]]*)?(\{[^}]+\})?(\[[^\]]+\])?$, backtracking over the
// name's length, longest first, then no name.
std::optional<Parts> match_selector_pattern(std::string_view in) {
  std::vector<size_t> lengths;
  if (!in.empty() && in.front() != '.') {
    size_t end = 1;
    while (end < in.size() && std::string_view("{}[]").find(in[end]) == std::string_view::npos) ++end;
    for (size_t n = end; n >= 1; --n) lengths.push_back(n);
  }
  lengths.push_back(0);
  for (size_t n : lengths) {
    Parts p;
    std::string_view rest = in.substr(n);
    if (!match_delimited(rest, '{', '}', p.brace) || !match_delimited(rest, '[', ']', p.bracket) || !rest.empty())
      continue;
    if (n) p.name = std::string(in.substr(0, n));
    return p;
  }
  return std::nullopt;
}

// ".", "./x", "..", "../x" (and backslash forms).
bool by_location(std::string_view s) {
  if (s.empty() || s[0] != '.') return false;
  if (s.size() == 1 || s[1] == '/' || s[1] == '\\') return true;
  if (s[1] != '.') return false;
  return s.size() == 2 || s[2] == '/' || s[2] == '\\';
}

}  // namespace

Selector parse_selector(std::string_view raw, std::string_view prefix) {
  Selector s;
  if (!raw.empty() && raw.front() == '!') s.exclude = true, raw.remove_prefix(1);
  if (raw.size() >= 3 && raw.substr(raw.size() - 3) == "...") {
    s.include_dependencies = true, raw.remove_suffix(3);
    if (!raw.empty() && raw.back() == '^') s.exclude_self = true, raw.remove_suffix(1);
  }
  if (raw.substr(0, 3) == "...") {
    s.include_dependents = true, raw.remove_prefix(3);
    if (!raw.empty() && raw.front() == '^') s.exclude_self = true, raw.remove_prefix(1);
  }
  if (auto parts = match_selector_pattern(raw)) {
    s.name_pattern = std::move(parts->name);
    if (parts->brace) s.parent_dir = lexical_join(prefix, *parts->brace);
    s.diff = std::move(parts->bracket);
    return s;
  }
  // pnpm's fallbacks: a path keeps only `exclude`; anything else is a bare name.
  Selector fallback;
  if (by_location(raw)) {
    fallback.exclude = s.exclude;
    fallback.parent_dir = lexical_join(prefix, raw);
  } else {
    fallback.name_pattern = std::string(raw);
  }
  return fallback;
}

bool dir_glob_match(std::string_view candidate, std::string_view pattern) {
  auto split = [](std::string_view p) {
    std::string s(p);
    std::replace(s.begin(), s.end(), '\\', '/');
    if (!s.empty() && s.back() == '/') s.pop_back();
    std::vector<std::string> out;
    for (size_t i = 0;;) {
      size_t j = s.find('/', i);
      out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
      if (j == std::string::npos) return out;
      i = j + 1;
    }
  };
  auto pat = split(pattern), path = split(candidate);
  auto rec = [&](auto& self, size_t pi, size_t i) -> bool {
    if (pi == pat.size()) return i == path.size();
    if (pat[pi] == "**") {
      for (size_t k = i; k <= path.size(); ++k)
        if (self(self, pi + 1, k)) return true;
      return false;
    }
    return i < path.size() && glob_match(pat[pi], path[i]) && self(self, pi + 1, i + 1);
  };
  return rec(rec, 0, 0);
}

namespace {

// Insertion-ordered set of project indices.
struct OrderedSet {
  std::vector<size_t> order;
  std::vector<char> in;
  explicit OrderedSet(size_t n) : in(n, 0) {}
  bool contains(size_t i) const { return in[i]; }
  void insert(size_t i) {
    if (!in[i]) in[i] = 1, order.push_back(i);
  }
  void extend(const std::vector<size_t>& v) {
    for (size_t i : v) insert(i);
  }
  void remove(const std::vector<size_t>& v) {
    for (size_t i : v) in[i] = 0;
    std::erase_if(order, [&](size_t i) { return !in[i]; });
  }
};

using Adjacency = std::vector<std::vector<size_t>>;

// pnpm's pick_subgraph: the selector's entries (unless `include_root` is false) and
// everything reachable from them.
void pick_subgraph(const Adjacency& adj, const std::vector<size_t>& ids, OrderedSet& walked, bool include_root) {
  for (size_t id : ids) {
    if (walked.contains(id)) continue;
    if (include_root) walked.insert(id);
    pick_subgraph(adj, adj[id], walked, true);
  }
}

// The buckets whose union, in this order, is one run's selection.
struct Walk {
  OrderedSet deps, dependents, dependents_deps, cherry;
  explicit Walk(size_t n) : deps(n), dependents(n), dependents_deps(n), cherry(n) {}

  void select(const Selector& s, const std::vector<size_t>& entries, const Adjacency& fwd, const Adjacency& rev) {
    bool include_root = !s.exclude_self;
    if (s.include_dependencies) pick_subgraph(fwd, entries, deps, include_root);
    if (s.include_dependents) pick_subgraph(rev, entries, dependents, include_root);
    if (s.include_dependencies && s.include_dependents) pick_subgraph(fwd, dependents.order, dependents_deps, false);
    if (!s.include_dependencies && !s.include_dependents) cherry.extend(entries);
  }
  std::vector<size_t> result(size_t n) const {
    OrderedSet all(n);
    for (auto* b : {&deps, &dependents, &dependents_deps, &cherry}) all.extend(b->order);
    return all.order;
  }
};

// Projects among `candidates` whose name matches `pattern`; an unscoped pattern that
// matches none falls back to "@*/<pattern>" when exactly one project matches that.
std::vector<size_t> match_names(const Graph& g, const std::vector<size_t>& candidates, const std::string& pattern) {
  Matcher m({pattern});
  std::vector<size_t> out;
  for (size_t i : candidates)
    if (!g.projects[i].name.empty() && m.matches(g.projects[i].name)) out.push_back(i);
  if (out.empty() && pattern.rfind('@', 0) != 0 && pattern.find('/') == std::string::npos) {
    auto scoped = match_names(g, candidates, "@*/" + pattern);
    if (scoped.size() == 1) return scoped;
  }
  return out;
}

Result<std::vector<size_t>> entries_of(const Graph& g, const Selector& s) {
  if (s.diff)
    return Error::failed(Code::Unsupported, "failed to filter workspace projects: the changed-since selector [" +
                                                printable(*s.diff) + "] is not supported by tarn yet");
  std::optional<std::vector<size_t>> entries;
  if (s.parent_dir) {
    entries.emplace();
    for (size_t i = 0; i < g.size(); ++i)
      if (dir_glob_match(g.projects[i].dir, *s.parent_dir)) entries->push_back(i);
  }
  if (s.name_pattern) {
    std::vector<size_t> candidates = entries.value_or(std::vector<size_t>{});
    if (!entries)
      for (size_t i = 0; i < g.size(); ++i) candidates.push_back(i);
    entries = match_names(g, candidates, *s.name_pattern);
  }
  if (!entries) return Error::failed(Code::Usage, "Unsupported project selector: an empty --filter selects nothing");
  return *entries;
}

Result<std::vector<size_t>> filter_run(const Graph& g, const Selector* first, const Selector* last) {
  Adjacency rev(g.size());
  for (size_t i = 0; i < g.size(); ++i)
    for (size_t d : g.deps[i]) rev[d].push_back(i);
  Walk walk(g.size());
  for (const Selector* s = first; s != last; ++s) {
    auto entries = entries_of(g, *s);
    if (!entries) return entries.error();
    walk.select(*s, *entries, g.deps, rev);
  }
  return walk.result(g.size());
}

}  // namespace

Result<std::vector<size_t>> filter_projects(const Graph& g, const std::vector<Selector>& selectors) {
  OrderedSet out(g.size());
  if (selectors.empty() || selectors.front().exclude)
    for (size_t i = 0; i < g.size(); ++i) out.insert(i);
  for (size_t i = 0; i < selectors.size();) {
    size_t j = i;
    while (j < selectors.size() && selectors[j].exclude == selectors[i].exclude) ++j;
    auto run = filter_run(g, selectors.data() + i, selectors.data() + j);
    if (!run) return run.error();
    if (selectors[i].exclude) out.remove(*run);
    else out.extend(*run);
    i = j;
  }
  return out.order;
}

Result<Selection> select_projects(const Graph& all, const Graph& prod, const std::vector<Selector>& selectors) {
  std::vector<Selector> regular, prod_only;
  for (auto& s : selectors) (s.follow_prod_deps_only ? prod_only : regular).push_back(s);
  Selection sel;
  sel.prod_only.assign(all.size(), 0);
  if (regular.empty() && prod_only.empty()) {
    for (size_t i = 0; i < all.size(); ++i) sel.selected.push_back(i);
    return sel;
  }
  OrderedSet out(all.size()), from_regular(all.size());
  if (!prod_only.empty()) {
    auto p = filter_projects(prod, prod_only);
    if (!p) return p.error();
    out.extend(*p);
  }
  if (!regular.empty()) {
    auto r = filter_projects(all, regular);
    if (!r) return r.error();
    out.extend(*r);
    from_regular.extend(*r);
  }
  for (size_t i : out.order) sel.prod_only[i] = !from_regular.contains(i);
  sel.selected = std::move(out.order);
  return sel;
}

}  // namespace tarn::workspace
