// pnpm's compatibility database: @yarnpkg/extensions' list of fields packages forgot to
// declare (libs/resolve/data). Each matching entry adds its dependencies,
// optionalDependencies, peerDependencies and peerDependenciesMeta to a resolved manifest,
// never overriding what the manifest declares (pnpm's `{...extension, ...manifest}`).
#include "compat.hpp"

#include <boost/json.hpp>

#include <mutex>

namespace tarn::resolve {

extern const char kCompatExtensionsJson[];

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Extension {
  std::string name;
  std::optional<Range> range;  // none: every version
  Pairs dependencies, optional_dependencies, peer_dependencies;
  std::vector<std::string> optional_peers;
};

Pairs pairs(const boost::json::value* v) {
  Pairs out;
  if (v && v->is_object())
    for (auto& kv : v->as_object())
      if (kv.value().is_string()) out.emplace_back(std::string(kv.key()), std::string(kv.value().as_string()));
  return out;
}

Extension parse_entry(const boost::json::array& e) {
  Extension x;
  std::string sel(e.at(0).as_string());
  size_t at = sel.find('@', sel[0] == '@' ? 1 : 0);
  x.name = sel.substr(0, at);
  if (at != std::string::npos) x.range = Range::parse(sel.substr(at + 1));
  auto& o = e.at(1).as_object();
  x.dependencies = pairs(o.if_contains("dependencies"));
  x.optional_dependencies = pairs(o.if_contains("optionalDependencies"));
  x.peer_dependencies = pairs(o.if_contains("peerDependencies"));
  if (auto* m = o.if_contains("peerDependenciesMeta"); m && m->is_object())
    for (auto& kv : m->as_object())
      if (auto* opt = kv.value().is_object() ? kv.value().as_object().if_contains("optional") : nullptr;
          opt && opt->is_bool() && opt->as_bool())
        x.optional_peers.emplace_back(kv.key());
  return x;
}

const std::vector<Extension>& database() {
  static std::vector<Extension> db = [] {
    std::vector<Extension> out;
    boost::json::value v = boost::json::parse(kCompatExtensionsJson);
    for (auto& e : v.as_array()) out.push_back(parse_entry(e.as_array()));
    return out;
  }();
  return db;
}

void merge(Pairs& into, const Pairs& ext) {
  for (auto& kv : ext)
    if (std::none_of(into.begin(), into.end(), [&](auto& p) { return p.first == kv.first; })) into.push_back(kv);
}

// Among matching entries a later one wins (consolidate@0.14.5 matches both `<0.16.0`, with
// mustache ^3.0.0, and `<=0.16.0`, with ^4.0.1: pnpm records ^4.0.1).
void overlay(Pairs& into, const Pairs& ext) {
  for (auto& kv : ext) {
    auto it = std::find_if(into.begin(), into.end(), [&](auto& p) { return p.first == kv.first; });
    if (it != into.end()) it->second = kv.second;
    else into.push_back(kv);
  }
}

}  // namespace

std::optional<PackageVersion> extend_manifest(const PkgName& name, const PackageVersion& pv) {
  std::optional<Extension> acc;
  for (auto& x : database()) {
    if (x.name != name.str() || (x.range && !x.range->satisfies(pv.version))) continue;
    if (!acc) acc.emplace();
    overlay(acc->dependencies, x.dependencies);
    overlay(acc->optional_dependencies, x.optional_dependencies);
    overlay(acc->peer_dependencies, x.peer_dependencies);
    for (auto& p : x.optional_peers)
      if (std::find(acc->optional_peers.begin(), acc->optional_peers.end(), p) == acc->optional_peers.end())
        acc->optional_peers.push_back(p);
  }
  if (!acc) return std::nullopt;
  PackageVersion out = pv;
  merge(out.dependencies, acc->dependencies);
  merge(out.optional_dependencies, acc->optional_dependencies);
  merge(out.peer_dependencies, acc->peer_dependencies);
  for (auto& p : acc->optional_peers)
    if (std::find(out.optional_peers.begin(), out.optional_peers.end(), p) == out.optional_peers.end())
      out.optional_peers.push_back(p);
  return out;
}

size_t compat_database_size() { return database().size(); }

}  // namespace tarn::resolve
