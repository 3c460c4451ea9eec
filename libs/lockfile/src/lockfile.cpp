#include "tarn/lockfile/lockfile.hpp"

#include <yaml-cpp/yaml.h>

#include "tarn/fs/fs.hpp"

namespace tarn {

std::string_view group_field(DepGroup g) {
  switch (g) {
    case DepGroup::Prod: return "dependencies";
    case DepGroup::Dev: return "devDependencies";
    case DepGroup::Optional: return "optionalDependencies";
  }
  return "";
}

// pnpm: a value is an alias when its first '@' (past position 0) comes before any '(' or ':'.
static bool looks_like_alias(std::string_view v) {
  if (!v.empty() && v[0] == '@') return true;
  auto at = v.find('@');
  if (at == std::string_view::npos) return false;
  auto paren = v.find('('), colon = v.find(':');
  return (paren == std::string_view::npos || at < paren) && (colon == std::string_view::npos || at < colon);
}

Result<DepRef> DepRef::parse(const PkgName& alias, std::string_view value) {
  DepRef r;
  if (value.substr(0, 5) == "link:") {
    r.kind = Kind::Link;
    r.link = std::string(value.substr(5));
    return r;
  }
  if (looks_like_alias(value)) {
    auto p = DepPath::parse(value);
    if (!p) return p.error();
    r.kind = Kind::Alias;
    r.target = std::move(*p);
    return r;
  }
  auto p = DepPath::from_parts(alias, value);
  if (!p) return p.error();
  r.kind = Kind::Version;
  r.target = std::move(*p);
  return r;
}

namespace {

Error bad(const std::string& path, const std::string& why) {
  return Error::failed("ERR_PNPM_BROKEN_LOCKFILE", "failed to read " + path + ": " + why);
}

std::vector<std::string> string_list(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) out.push_back(n.as<std::string>());
  else if (n.IsSequence())
    for (auto it : n) out.push_back(it.as<std::string>());
  return out;
}

Result<std::vector<Dependency>> read_deps(const YAML::Node& n, const std::string& path, const std::string& where) {
  std::vector<Dependency> out;
  if (!n) return out;
  if (!n.IsMap()) return bad(path, where + " is not a map");
  out.reserve(n.size());
  for (auto it : n) {
    auto alias = PkgName::parse(it.first.Scalar());
    if (!alias) return bad(path, where + ": " + alias.error().message);
    auto ref = DepRef::parse(*alias, it.second.Scalar());
    if (!ref) return bad(path, where + ": " + ref.error().message);
    out.push_back(Dependency{std::move(*alias), std::move(*ref)});
  }
  return out;
}

}  // namespace

Result<Lockfile> Lockfile::load(const std::string& path) {
  auto text = fs::read_file(path);
  if (!text) {
    if (text.error().is_not_found())
      return Error::not_found("ERR_PNPM_NO_LOCKFILE",
                              "Cannot install with \"frozen-lockfile\" because " + path + " is absent");
    return text.error();
  }
  return parse(*text, path);
}

Result<Lockfile> Lockfile::parse(std::string_view text_in, const std::string& path) {
  std::string text(text_in);
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  YAML::Node root;
  try {
    // Newer pnpm may put an env document first; the project lockfile is the last document.
    auto docs = YAML::LoadAll(text);
    // (A default YAML::Node counts as "defined", so track the choice by index.)
    size_t pick = docs.size();
    for (size_t i = 0; i < docs.size(); ++i)
      if (docs[i].IsMap() && (docs[i]["importers"] || docs[i]["packages"] || docs[i]["snapshots"])) pick = i;
    if (pick == docs.size() && !docs.empty()) pick = docs.size() - 1;
    if (pick < docs.size()) root = docs[pick];
  } catch (const YAML::Exception& e) {
    return bad(path, std::string("not valid YAML: ") + e.what());
  }
  if (!root || !root.IsMap()) return bad(path, "not a YAML map");
  Lockfile lf;
  try {
    auto v = root["lockfileVersion"];
    if (!v) return bad(path, "no lockfileVersion");
    lf.lockfile_version = v.as<std::string>();
    if (lf.lockfile_version != "9.0" && lf.lockfile_version != "9")
      return Error::failed("ERR_PNPM_LOCKFILE_BREAKING_CHANGE",
                           "failed to read " + path + ": lockfileVersion " + lf.lockfile_version +
                               " is not supported (tarn reads lockfileVersion 9.0)");
    if (auto s = root["settings"]; s && s["autoInstallPeers"]) lf.auto_install_peers = s["autoInstallPeers"].as<bool>();

    if (auto imps = root["importers"]; imps && imps.IsMap()) {
      for (auto it : imps) {
        Importer imp;
        imp.id = it.first.Scalar();
        for (DepGroup g : {DepGroup::Prod, DepGroup::Dev, DepGroup::Optional}) {
          auto deps = it.second[std::string(group_field(g))];
          if (!deps) continue;
          if (!deps.IsMap()) return bad(path, "importer " + imp.id + " " + std::string(group_field(g)) + " is not a map");
          for (auto d : deps) {
            ImporterDep dep;
            auto alias = PkgName::parse(d.first.Scalar());
            if (!alias) return bad(path, "importer " + imp.id + ": " + alias.error().message);
            dep.alias = *alias;
            dep.group = g;
            if (d.second.IsMap()) {
              dep.specifier = d.second["specifier"] ? d.second["specifier"].Scalar() : "";
              dep.version = d.second["version"] ? d.second["version"].Scalar() : "";
            } else {
              dep.version = d.second.Scalar();
            }
            auto ref = DepRef::parse(dep.alias, dep.version);
            if (!ref) return bad(path, "importer " + imp.id + ": " + ref.error().message);
            dep.ref = std::move(*ref);
            imp.deps.push_back(std::move(dep));
          }
        }
        lf.importers.push_back(std::move(imp));
      }
    }

    if (auto pkgs = root["packages"]; pkgs && pkgs.IsMap()) {
      lf.packages.reserve(pkgs.size());
      for (auto it : pkgs) {
        const std::string& key = it.first.Scalar();
        auto dp = DepPath::parse(key);
        if (!dp) return bad(path, dp.error().message);
        PackageMeta m;
        const YAML::Node& n = it.second;
        if (auto res = n["resolution"]) {
          if (auto integ = res["integrity"]) {
            auto i = Integrity::parse(integ.Scalar());
            if (!i) return bad(path, std::string(key) + ": " + i.error().message);
            m.integrity = std::move(*i);
          }
          if (auto t = res["tarball"]) m.tarball = t.Scalar();
          if (auto t = res["type"]) m.resolution_type = t.Scalar();
        } else {
          return bad(path, key + " has no resolution");
        }
        if (auto x = n["version"]) m.version = x.Scalar();
        if (auto x = n["hasBin"]) m.has_bin = x.as<bool>();
        if (auto x = n["requiresBuild"]) m.requires_build = x.as<bool>();
        if (auto x = n["bundledDependencies"]) m.bundled = !x.IsScalar() || x.as<bool>();
        m.os = string_list(n["os"]);
        m.cpu = string_list(n["cpu"]);
        m.libc = string_list(n["libc"]);
        if (auto pd = n["peerDependencies"]; pd && pd.IsMap())
          for (auto kv : pd) m.peer_dependencies.push_back(kv.first.Scalar());
        if (auto e = n["engines"]; e && e.IsMap())
          for (auto kv : e) m.engines.emplace_back(kv.first.Scalar(), kv.second.Scalar());
        lf.packages.emplace(std::string(dp->without_peers()), std::move(m));
      }
    }

    if (auto snaps = root["snapshots"]; snaps && snaps.IsMap()) {
      lf.snapshots.reserve(snaps.size());
      for (auto it : snaps) {
        Snapshot s;
        auto dp = DepPath::parse(it.first.Scalar());
        if (!dp) return bad(path, dp.error().message);
        s.key = std::move(*dp);
        const YAML::Node& n = it.second;
        if (n && n.IsMap()) {
          auto d = read_deps(n["dependencies"], path, s.key.str() + " dependencies");
          if (!d) return d.error();
          s.dependencies = std::move(*d);
          auto o = read_deps(n["optionalDependencies"], path, s.key.str() + " optionalDependencies");
          if (!o) return o.error();
          s.optional_dependencies = std::move(*o);
          if (auto x = n["optional"]) s.optional = x.as<bool>();
        }
        lf.snapshot_index.emplace(s.key.str(), lf.snapshots.size());
        lf.snapshots.push_back(std::move(s));
      }
    }
  } catch (const YAML::Exception& e) {
    return bad(path, std::string("unexpected shape: ") + e.what());
  }

  // Every snapshot needs its metadata, and every reference must land on a snapshot.
  for (auto& s : lf.snapshots) {
    if (!lf.packages.count(std::string(s.key.without_peers())))
      return Error::failed("ERR_PNPM_LOCKFILE_MISSING_DEPENDENCY",
                           "failed to read " + path + ": snapshot " + s.key.str() + " is missing from packages:");
    for (auto* list : {&s.dependencies, &s.optional_dependencies})
      for (auto& d : *list)
        if (!d.ref.is_link() && !lf.snapshot_index.count(d.ref.target.str()))
          return Error::failed("ERR_PNPM_LOCKFILE_MISSING_DEPENDENCY",
                               "failed to read " + path + ": " + s.key.str() + " depends on " +
                                   d.ref.target.str() + ", which is missing from snapshots:");
  }
  for (auto& imp : lf.importers)
    for (auto& d : imp.deps)
      if (!d.ref.is_link() && !lf.snapshot_index.count(d.ref.target.str()))
        return Error::failed("ERR_PNPM_LOCKFILE_MISSING_DEPENDENCY",
                             "failed to read " + path + ": importer " + imp.id + " depends on " +
                                 d.ref.target.str() + ", which is missing from snapshots:");
  return lf;
}

const Snapshot* Lockfile::find(const DepPath& p) const {
  auto it = snapshot_index.find(p.str());
  return it == snapshot_index.end() ? nullptr : &snapshots[it->second];
}

const PackageMeta* Lockfile::meta(const DepPath& p) const {
  auto it = packages.find(std::string(p.without_peers()));
  return it == packages.end() ? nullptr : &it->second;
}

const Importer* Lockfile::importer(std::string_view id) const {
  for (auto& i : importers)
    if (i.id == id) return &i;
  return nullptr;
}

}  // namespace tarn
