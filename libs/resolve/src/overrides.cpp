// catalogs, overrides and packageExtensions (tarn/resolve/overrides.hpp): ports of pnpm 12's
// catalogs-resolver, config-parse-overrides, package-manager/src/overrides.rs and
// package_extender.rs, rule for rule.
#include "tarn/resolve/overrides.hpp"

#include <algorithm>
#include <filesystem>

#include "compat.hpp"
#include "tarn/resolve/resolver.hpp"

namespace tarn::resolve {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// pnpm's parse_wanted_dependency: "name" or "name@spec" (the first '@' after index 0), the
// name a valid package name; nothing otherwise.
std::optional<OverrideSelector> parse_selector(std::string_view s) {
  size_t at = s.find('@', 1);
  auto name = PkgName::parse(s.substr(0, at));
  if (!name) return std::nullopt;
  OverrideSelector sel{name->str(), std::nullopt};
  if (at != std::string_view::npos) sel.range = std::string(s.substr(at + 1));
  return sel;
}

// The '>' of "parent>child": the first one whose preceding byte is not ' ', '|' or '@'
// (pnpm's /[^ |@]>/), so "foo@>1" and "a || >1" are not split.
size_t parent_delimiter(std::string_view s) {
  for (size_t i = 1; i < s.size(); ++i)
    if (s[i] == '>' && s[i - 1] != ' ' && s[i - 1] != '|' && s[i - 1] != '@') return i;
  return std::string_view::npos;
}

Error invalid_selector(const std::string& s) {
  return Error::failed(Code::InvalidSelector, "Cannot parse the \"" + s + "\" selector");
}

Result<VersionOverride> parse_override(const std::string& key, const std::string& value, const Catalogs& catalogs) {
  VersionOverride o;
  o.selector = key;
  size_t gt = parent_delimiter(key);
  if (gt != std::string::npos) {
    o.parent = parse_selector(std::string_view(key).substr(0, gt));
    if (!o.parent) return invalid_selector(key.substr(0, gt));
  }
  auto target = parse_selector(gt == std::string::npos ? key : key.substr(gt + 1));
  if (!target) return invalid_selector(gt == std::string::npos ? key : key.substr(gt + 1));
  o.target = *target;
  auto c = from_catalog(catalogs, o.target.name, value);
  if (!c) return Error::failed(Code::CatalogInOverrides, "Could not resolve a catalog in the overrides: " + c.error().message);
  o.value = *c ? **c : value;
  bool empty_range = o.target.range && o.target.range->empty();
  if (o.parent && (empty_range || (o.parent->range && o.parent->range->empty())))
    return Error::failed(Code::InvalidConvergenceOverride,
                         "Cannot use an empty range in the \"" + key +
                             "\" selector: convergence overrides (\"pkg@\") cannot be combined with parent>child selectors");
  if (empty_range && !Version::parse(o.value))
    return Error::failed(Code::InvalidConvergenceOverride, "The value of the convergence override \"" + key +
                                                               "\" must be an exact version, but got \"" + o.value + "\"");
  o.converge = empty_range;
  return o;
}

// config's resolve_version_references: "$foo" is the root manifest's spec for foo.
Result<std::string> version_reference(const std::string& value, const Manifest* root) {
  if (value.empty() || value[0] != '$') return value;
  std::string name = value.substr(1), found;
  bool have = false;
  if (root)
    for (auto* g : {&root->dev_dependencies, &root->dependencies, &root->optional_dependencies})
      for (auto& [n, s] : *g)
        if (n == name) found = s, have = true;
  if (!have)
    return Error::failed(Code::CannotResolveOverrideVersion, "Cannot resolve version " + value +
                                                                 " in overrides. The direct dependencies don't have dependency \"" +
                                                                 name + "\".");
  return found;
}

// pnpm's is_intersecting_range: no target range matches all; equal text matches; else both
// must parse and overlap.
bool intersecting(const std::optional<std::string>& target, const std::string& spec) {
  if (!target || target->empty() || *target == spec) return true;
  auto a = Range::parse(*target), b = Range::parse(spec);
  return a && b && a->intersects(*b);
}

bool satisfies(const std::string& version, const std::string& range) {
  auto v = Version::parse(version);
  auto r = Range::parse(range);
  return v && r && r->satisfies(*v);
}

// serde_json's Map::remove with preserve_order is swap_remove: the last entry takes the
// removed one's place (this decides the order of an importer's remaining dependencies).
void swap_remove(Pairs& p, const std::string& name) {
  auto it = std::find_if(p.begin(), p.end(), [&](auto& kv) { return kv.first == name; });
  if (it == p.end()) return;
  *it = std::move(p.back());
  p.pop_back();
}

void set_dep(Pairs& p, const std::string& name, const std::string& spec) {
  auto it = std::find_if(p.begin(), p.end(), [&](auto& kv) { return kv.first == name; });
  if (it != p.end()) it->second = spec;
  else p.emplace_back(name, spec);
}

// pnpm's merge_string_map: `{...extension, ...manifest}`: only names the manifest lacks.
void merge_missing(Pairs& into, const PackageExtension::Deps& ext) {
  if (!ext) return;
  for (auto& kv_ : *ext) {
    const std::string& n = kv_.first;  // clang 14 cannot capture a structured binding
    if (std::none_of(into.begin(), into.end(), [&](auto& kv) { return kv.first == n; })) into.emplace_back(n, kv_.second);
  }
}

}  // namespace

std::optional<std::string> catalog_name(std::string_view spec) {
  if (!starts_with(spec, "catalog:")) return std::nullopt;
  std::string_view raw = spec.substr(8);
  while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.front()))) raw.remove_prefix(1);
  while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.back()))) raw.remove_suffix(1);
  return raw.empty() ? std::string("default") : std::string(raw);
}

Result<std::optional<std::string>> from_catalog(const Catalogs& catalogs, const std::string& alias, std::string_view spec) {
  auto cat = catalog_name(spec);
  if (!cat) return std::optional<std::string>();
  auto c = catalogs.find(*cat);
  const std::string* entry = nullptr;
  if (c != catalogs.end())
    if (auto e = c->second.find(alias); e != c->second.end()) entry = &e->second;
  std::string where = "'" + alias + "' in catalog '" + *cat + "'";
  if (!entry)
    return Error::failed(Code::CatalogEntryNotFoundForSpec, "No catalog entry '" + alias + "' was found for catalog '" + *cat + "'.");
  if (catalog_name(*entry))
    return Error::failed(Code::CatalogEntryInvalidRecursiveDefinition,
                         "Found invalid catalog entry using the catalog protocol recursively. The entry for " + where + " is invalid.");
  std::string protocol = entry->substr(0, entry->find(':'));
  if (protocol == "workspace")
    return Error::failed(Code::CatalogEntryInvalidWorkspaceSpec,
                         "The workspace protocol cannot be used as a catalog value. The entry for " + where + " is invalid.");
  if (protocol == "link" || protocol == "file")
    return Error::failed(Code::CatalogEntryInvalidSpec, "The entry for " + where + " declares a dependency using the '" + protocol +
                                                            "' protocol. This is not yet supported, but may be in a future version of pnpm.");
  return std::optional<std::string>(*entry);
}

Result<std::vector<VersionOverride>> parse_overrides(const Pairs& raw, const Catalogs& catalogs, const Manifest* root) {
  std::vector<VersionOverride> out;
  for (auto& [key, value] : raw) {
    auto v = version_reference(value, root);
    if (!v) return v.error();
    auto o = parse_override(key, *v, catalogs);
    if (!o) return o.error();
    out.push_back(std::move(*o));
  }
  return out;
}

Pairs resolved_overrides(const std::vector<VersionOverride>& parsed) {
  Pairs out;
  for (auto& o : parsed) out.emplace_back(o.selector, o.value);
  return out;
}

// The dependency maps one rewrite works on; `dev` and `optional_peers` may be absent.
struct ManifestRewriter::Groups {
  Pairs* prod;
  Pairs* optional;
  Pairs* dev;
  Pairs* peer;
  std::vector<std::string>* optional_peers;
};

ManifestRewriter::ManifestRewriter(std::vector<VersionOverride> overrides, std::vector<PackageExtension> extensions,
                                   std::string root_dir)
    : overrides_(std::move(overrides)), extensions_(std::move(extensions)), root_dir_(std::move(root_dir)) {
  for (auto& o : overrides_) {
    names_.insert(o.target.name);
    if (o.parent) names_.insert(o.parent->name);
  }
  for (auto& x : extensions_)
    if (auto sel = parse_selector(x.selector)) names_.insert(sel->name);
}

// pnpm's PackageExtender::apply: every extension whose selector names this package (and whose
// range, if any, its version satisfies), in declared order.
void ManifestRewriter::extend(Groups& g, const std::string& name, const std::string& version) const {
  for (auto& x : extensions_) {
    auto sel = parse_selector(x.selector);
    if (!sel || sel->name != name) continue;
    if (sel->range && !satisfies(version, *sel->range)) continue;
    merge_missing(*g.prod, x.dependencies);
    merge_missing(*g.optional, x.optional_dependencies);
    merge_missing(*g.peer, x.peer_dependencies);
    if (x.peer_dependencies_meta && g.optional_peers)
      for (auto& [n, opt] : *x.peer_dependencies_meta)
        if (opt && *opt && std::find(g.optional_peers->begin(), g.optional_peers->end(), n) == g.optional_peers->end())
          g.optional_peers->push_back(n);
  }
}

// pnpm's choose_override: the parent-scoped candidates that match, most specific first, else
// the generic ones. "Most specific": a candidate whose target range the other's covers.
const VersionOverride* ManifestRewriter::choose(const std::vector<const VersionOverride*>& scoped, const std::string& name,
                                                const std::string& spec) const {
  auto best = [&](std::vector<const VersionOverride*> c) -> const VersionOverride* {
    std::erase_if(c, [&](auto* o) { return o->converge || o->target.name != name || !intersecting(o->target.range, spec); });
    std::stable_sort(c.begin(), c.end(), [](auto* l, auto* r) {
      std::string ls = l->target.range.value_or(""), rs = r->target.range.value_or("");
      return intersecting(rs, ls) && !intersecting(ls, rs);
    });
    return c.empty() ? nullptr : c.front();
  };
  if (auto* o = best(scoped)) return o;
  std::vector<const VersionOverride*> generic;
  for (auto& o : overrides_)
    if (!o.parent) generic.push_back(&o);
  return best(generic);
}

// A convergence override ("pkg@": exact version) applies where that version satisfies the
// declared range ("" counts as "*").
std::optional<std::string> ManifestRewriter::converge(const std::string& name, const std::string& spec) const {
  for (auto& o : overrides_) {
    if (!o.converge || o.target.name != name) continue;
    auto r = spec.empty() ? Range::parse("*") : Range::parse(spec);
    auto v = Version::parse(o.value);
    if (r && v && r->satisfies(*v)) return o.value;
    return std::nullopt;
  }
  return std::nullopt;
}

// link:/file: values are written relative to the rewritten manifest's directory (relative
// values are relative to the workspace root); without a directory, absolute.
std::string ManifestRewriter::value_for(const VersionOverride& o, const std::string* dir) const {
  std::string_view v = o.value;
  std::string protocol = starts_with(v, "file:") ? "file:" : starts_with(v, "link:") ? "link:" : "";
  if (protocol.empty()) return o.value;
  std::filesystem::path p(std::string(v.substr(protocol.size())));
  if (p.is_absolute()) return protocol + p.generic_string();
  std::filesystem::path abs = std::filesystem::path(root_dir_) / p;
  if (!dir) return protocol + abs.generic_string();
  std::string rel = abs.lexically_normal().lexically_relative(std::filesystem::path(*dir).lexically_normal()).generic_string();
  return protocol + (rel.empty() ? "." : rel);
}

void ManifestRewriter::override_group(Pairs& deps, const std::vector<const VersionOverride*>& scoped,
                                      const std::string* dir) const {
  std::vector<std::string> removed;
  for (auto& [name, spec] : deps) {
    const VersionOverride* o = choose(scoped, name, spec);
    if (!o) {
      if (auto c = converge(name, spec)) spec = *c;
    } else if (o->value == "-") {
      removed.push_back(name);
    } else {
      spec = value_for(*o, dir);
    }
  }
  for (auto& n : removed) swap_remove(deps, n);
}

// pnpm's override_peer_group: a peer range replaces the peer's; any other value (npm:, link:)
// becomes a regular dependency, the peer staying declared.
void ManifestRewriter::override_peers(Groups& g, const std::vector<const VersionOverride*>& scoped,
                                      const std::string* dir) const {
  Pairs entries = *g.peer;
  for (auto& [name, spec] : entries) {
    const VersionOverride* o = choose(scoped, name, spec);
    if (!o) {
      if (auto c = converge(name, spec)) set_dep(*g.peer, name, *c);
      continue;
    }
    if (o->value == "-") {
      swap_remove(*g.peer, name);
      continue;
    }
    std::string v = value_for(*o, dir);
    bool peer_range = Range::parse(v) || v.find("workspace:") != std::string::npos || v.find("catalog:") != std::string::npos;
    set_dep(peer_range ? *g.peer : *g.prod, name, v);
  }
}

void ManifestRewriter::override_all(Groups& g, const std::string& name, const std::string& version,
                                    const std::string* dir) const {
  if (overrides_.empty()) return;
  std::vector<const VersionOverride*> scoped;
  for (auto& o : overrides_)
    if (o.parent && o.parent->name == name && (!o.parent->range || satisfies(version, *o.parent->range)))
      scoped.push_back(&o);
  override_group(*g.prod, scoped, dir);
  override_group(*g.optional, scoped, dir);
  if (g.dev) override_group(*g.dev, scoped, dir);
  override_peers(g, scoped, dir);
}

void ManifestRewriter::apply(Manifest& m, const std::string& dir) const {
  Groups g{&m.dependencies, &m.optional_dependencies, &m.dev_dependencies, &m.peer_dependencies, nullptr};
  extend(g, m.name, m.version);
  override_all(g, m.name, m.version, &dir);
}

void ManifestRewriter::apply_overrides(Manifest& m, const std::string& dir) const {
  Groups g{&m.dependencies, &m.optional_dependencies, &m.dev_dependencies, &m.peer_dependencies, nullptr};
  override_all(g, m.name, m.version, &dir);
}

std::optional<PackageVersion> ManifestRewriter::apply(const PkgName& name, const PackageVersion& pv) const {
  auto named = [&](const Pairs& deps) {
    return std::any_of(deps.begin(), deps.end(), [&](auto& kv) { return names_.count(kv.first) > 0; });
  };
  if (!names_.count(name.str()) && !named(pv.dependencies) && !named(pv.optional_dependencies) &&
      !named(pv.peer_dependencies))
    return std::nullopt;
  PackageVersion out = pv;
  Groups g{&out.dependencies, &out.optional_dependencies, nullptr, &out.peer_dependencies, &out.optional_peers};
  extend(g, name.str(), pv.version.str());
  override_all(g, name.str(), pv.version.str(), nullptr);
  if (out.dependencies == pv.dependencies && out.optional_dependencies == pv.optional_dependencies &&
      out.peer_dependencies == pv.peer_dependencies && out.optional_peers == pv.optional_peers)
    return std::nullopt;
  return out;
}

std::optional<std::string> ManifestRewriter::for_undeclared(const std::string& name, const std::string& range) const {
  if (const VersionOverride* o = choose({}, name, range)) return o->value == "-" ? o->value : value_for(*o, &root_dir_);
  return converge(name, range);
}

std::optional<PackageVersion> transform_manifest(const ResolveInput& in, const PkgName& name, const PackageVersion& pv) {
  std::optional<PackageVersion> out;
  if (in.compat_db) out = extend_manifest(name, pv);
  if (!in.rewriter || in.rewriter->empty()) return out;
  if (auto r = in.rewriter->apply(name, out ? *out : pv)) out = std::move(r);
  return out;
}

std::map<std::string, std::map<std::string, CatalogEntry>> catalog_snapshots(const std::vector<Importer>& importers,
                                                                             const Catalogs& catalogs) {
  std::map<std::string, std::map<std::string, CatalogEntry>> out;
  for (auto& imp : importers)
    for (auto& d : imp.deps) {
      auto cat = catalog_name(d.specifier);
      if (!cat || (d.ref.kind != DepRef::Kind::Version && d.ref.kind != DepRef::Kind::Alias)) continue;
      auto c = catalogs.find(*cat);
      if (c == catalogs.end()) continue;
      auto e = c->second.find(d.alias.str());
      if (e == c->second.end()) continue;
      // The version without peers, and for an npm: alias without the real name (pnpm's ver_peer).
      out[*cat][d.alias.str()] = {e->second, std::string(d.ref.target.version())};
    }
  return out;
}

// pnpm's build_manifest_transforms: overrides parsed once; importer manifests rewritten
// before the walk (their specifiers are what the lockfile's importers record).
Result<ResolveInput> prepare_input(ResolveInput in) {
  const ResolveInput::Project* root = nullptr;
  for (auto& p : in.projects)
    if (p.id.is_root()) root = &p;
  auto parsed = parse_overrides(in.overrides, in.catalogs, root ? &root->manifest : nullptr);
  if (!parsed) return parsed.error();
  in.overrides = resolved_overrides(*parsed);
  auto rw = std::make_shared<ManifestRewriter>(std::move(*parsed), in.package_extensions, root ? root->dir : std::string());
  if (!rw->empty())
    for (auto& p : in.projects) rw->apply(p.manifest, p.dir);
  in.rewriter = std::move(rw);
  return in;
}

}  // namespace tarn::resolve
