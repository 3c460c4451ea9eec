// Reading the sections of a pnpm-lock.yaml document. Each entry's fields are read in one
// pass: yaml-cpp's node["key"] is a linear search that allocates, and it was half the
// lockfile time on alotta-modules.
#include "read.hpp"

#include <algorithm>

namespace tarn::detail {

Error bad(const std::string& path, const std::string& why) {
  return Error::failed(Code::BrokenLockfile, "failed to read " + path + ": " + why);
}

namespace {

std::vector<std::string> string_list(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) out.push_back(n.as<std::string>());
  else if (n.IsSequence())
    for (auto it : n) out.push_back(it.as<std::string>());
  return out;
}

std::vector<std::pair<std::string, std::string>> string_pairs(const YAML::Node& n) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!n.IsMap()) return out;
  out.reserve(n.size());
  for (auto kv : n) out.emplace_back(kv.first.Scalar(), kv.second.Scalar());
  return out;
}

// A YAML node as the JSON value serde reads it into: plain scalars that the core schema
// resolves become null, booleans and numbers; quoted ones stay strings.
YamlValue to_value(const YAML::Node& n) {
  if (n.IsMap()) {
    YamlValue v = YamlValue::map();
    for (auto kv : n) v.add(kv.first.Scalar(), to_value(kv.second));
    return v;
  }
  if (n.IsSequence()) {
    YamlValue v = YamlValue::seq();
    for (auto item : n) v.push(to_value(item));
    return v;
  }
  if (!n.IsScalar()) return YamlValue::null();
  const std::string& s = n.Scalar();
  if (n.Tag() != "?") return YamlValue::string(s);
  return lockyaml::plain_scalar(s);
}

std::map<std::string, CatalogEntry> specifier_versions(const YAML::Node& n) {
  std::map<std::string, CatalogEntry> out;
  if (!n.IsMap()) return out;
  for (auto kv : n) {
    CatalogEntry e;
    if (kv.second.IsMap())
      for (auto f : kv.second) {
        if (f.first.Scalar() == "specifier") e.specifier = f.second.Scalar();
        else if (f.first.Scalar() == "version") e.version = f.second.Scalar();
      }
    out[kv.first.Scalar()] = std::move(e);
  }
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

Result<void> read_importer_deps(const YAML::Node& deps, DepGroup g, Importer& imp, const std::string& path) {
  if (!deps.IsMap())
    return bad(path, "importer " + imp.id.str() + " " + std::string(group_field(g)) + " is not a map");
  for (auto d : deps) {
    ImporterDep dep;
    auto alias = PkgName::parse(d.first.Scalar());
    if (!alias) return bad(path, "importer " + imp.id.str() + ": " + alias.error().message);
    dep.alias = *alias;
    dep.group = g;
    if (d.second.IsMap()) {
      for (auto kv : d.second) {
        const std::string& k = kv.first.Scalar();
        if (k == "specifier") dep.specifier = kv.second.Scalar();
        else if (k == "version") dep.version = kv.second.Scalar();
      }
    } else {
      dep.version = d.second.Scalar();
    }
    auto ref = DepRef::parse(dep.alias, dep.version);
    if (!ref) return bad(path, "importer " + imp.id.str() + ": " + ref.error().message);
    dep.ref = std::move(*ref);
    imp.deps.push_back(std::move(dep));
  }
  return {};
}

Result<void> read_importers(const YAML::Node& imps, Partial& out, const std::string& path) {
  if (!imps.IsMap()) return {};
  for (auto it : imps) {
    Importer imp;
    imp.id = ImporterId(it.first.Scalar());
    if (it.second.IsMap())
      for (auto grp : it.second) {
        const std::string& field = grp.first.Scalar();
        Result<void> r;
        if (field == "dependencies") r = read_importer_deps(grp.second, DepGroup::Prod, imp, path);
        else if (field == "devDependencies") r = read_importer_deps(grp.second, DepGroup::Dev, imp, path);
        else if (field == "optionalDependencies") r = read_importer_deps(grp.second, DepGroup::Optional, imp, path);
        else if (field == "dependenciesMeta") imp.dependencies_meta = to_value(grp.second);
        else if (field == "publishDirectory") imp.publish_directory = grp.second.Scalar();
        if (!r) return r.error();
      }
    // pnpm lists groups in this order; keep it whatever order the file used.
    std::stable_sort(imp.deps.begin(), imp.deps.end(),
                     [](const ImporterDep& a, const ImporterDep& b) { return a.group < b.group; });
    out.importers.push_back(std::move(imp));
  }
  return {};
}

ResolutionKind resolution_kind(std::string_view t) {
  return t == "directory" ? ResolutionKind::Directory
         : t == "git"     ? ResolutionKind::Git
         : t == "tarball" ? ResolutionKind::Tarball
                          : ResolutionKind::Other;
}

Result<void> read_resolution(const YAML::Node& v, PackageMeta& m, const std::string& key, const std::string& path) {
  if (!v.IsMap()) return {};
  for (auto r : v) {
    const std::string& rk = r.first.Scalar();
    const YAML::Node& val = r.second;
    if (rk == "integrity") {
      m.integrity_text = val.Scalar();
      auto i = Integrity::parse(m.integrity_text);
      if (!i) return bad(path, key + ": " + i.error().message);
      m.integrity = std::move(*i);
    } else if (rk == "tarball") {
      m.tarball = TarballUrl(val.Scalar());
      if (m.resolution == ResolutionKind::Registry) m.resolution = ResolutionKind::Tarball;
    } else if (rk == "type") {
      m.resolution = resolution_kind(val.Scalar());
    } else if (rk == "directory") {
      m.directory = val.Scalar();
    } else if (rk == "repo") {
      m.git_repo = val.Scalar();
    } else if (rk == "commit") {
      m.git_commit = val.Scalar();
    } else if (rk == "path") {
      m.git_path = val.Scalar();
    } else if (rk == "gitHosted") {
      m.git_hosted = val.as<bool>();
    }
  }
  if (m.resolution == ResolutionKind::Other) m.other_resolution = to_value(v);
  // pnpm back-fills gitHosted on tarballs read from lockfiles written before the field.
  if (m.resolution == ResolutionKind::Tarball && !m.git_hosted && is_git_hosted_tarball_url(m.tarball.str()))
    m.git_hosted = true;
  return {};
}

void read_bundled(const YAML::Node& v, PackageMeta& m) {
  if (v.IsSequence()) {
    m.bundled = true;
    m.bundled_dependencies = string_list(v);
  } else {
    m.bundled = v.as<bool>();
  }
}

void read_peer_meta(const YAML::Node& v, PackageMeta& m) {
  if (!v.IsMap()) return;
  for (auto kv : v) {
    bool optional = false;
    if (kv.second.IsMap())
      for (auto f : kv.second)
        if (f.first.Scalar() == "optional") optional = f.second.as<bool>();
    m.peer_dependencies_meta.emplace_back(kv.first.Scalar(), optional);
  }
}

// One field of a packages: entry.
Result<void> read_package_field(const std::string& k, const YAML::Node& v, PackageMeta& m, const std::string& key,
                                const std::string& path) {
  if (k == "resolution") return read_resolution(v, m, key, path);
  if (k == "version") m.version = v.Scalar();
  else if (k == "hasBin") m.has_bin = v.as<bool>();
  else if (k == "requiresBuild") m.requires_build = v.as<bool>();
  else if (k == "prepare") m.prepare = v.as<bool>();
  else if (k == "bundledDependencies") read_bundled(v, m);
  else if (k == "os") m.os = string_list(v);
  else if (k == "cpu") m.cpu = string_list(v);
  else if (k == "libc") {
    m.libc = string_list(v);
    m.libc_scalar = v.IsScalar();
  } else if (k == "deprecated") m.deprecated = v.Scalar();
  else if (k == "peerDependencies") m.peer_dependencies = string_pairs(v);
  else if (k == "peerDependenciesMeta") read_peer_meta(v, m);
  else if (k == "engines") m.engines = string_pairs(v);
  return {};
}

Result<void> read_packages(const YAML::Node& pkgs, Partial& out, const std::string& path) {
  if (!pkgs.IsMap()) return {};
  out.packages.reserve(pkgs.size());
  for (auto it : pkgs) {
    const std::string& key = it.first.Scalar();
    auto dp = DepPath::parse(key);
    if (!dp) return bad(path, dp.error().message);
    PackageMeta m;
    bool has_resolution = false;
    if (it.second.IsMap())
      for (auto f : it.second) {
        const std::string& k = f.first.Scalar();
        if (k == "resolution") has_resolution = true;
        if (auto r = read_package_field(k, f.second, m, key, path); !r) return r;
      }
    if (!has_resolution) return bad(path, key + " has no resolution");
    out.packages.emplace_back(std::string(dp->without_peers()), std::move(m));
  }
  return {};
}

Result<void> read_snapshot_field(const std::string& k, const YAML::Node& v, Snapshot& s, const std::string& path) {
  if (k == "dependencies" || k == "optionalDependencies") {
    auto d = read_deps(v, path, s.key.str() + " " + k);
    if (!d) return d.error();
    (k == "dependencies" ? s.dependencies : s.optional_dependencies) = std::move(*d);
  } else if (k == "optional") {
    s.optional = v.as<bool>();
  } else if (k == "transitivePeerDependencies") {
    s.transitive_peer_dependencies = string_list(v);
  } else if (k == "id") {
    s.id = v.Scalar();
  } else if (k == "patched") {
    s.patched = v.as<bool>();
  }
  return {};
}

Result<void> read_snapshots(const YAML::Node& snaps, std::vector<Snapshot>& out, const std::string& path) {
  if (!snaps.IsMap()) return {};
  out.reserve(snaps.size());
  for (auto it : snaps) {
    Snapshot s;
    auto dp = DepPath::parse(it.first.Scalar());
    if (!dp) return bad(path, dp.error().message);
    s.key = std::move(*dp);
    if (it.second.IsMap())
      for (auto f : it.second)
        if (auto r = read_snapshot_field(f.first.Scalar(), f.second, s, path); !r) return r;
    out.push_back(std::move(s));
  }
  return {};
}

Settings read_settings(const YAML::Node& n) {
  Settings s;
  if (!n.IsMap()) return s;
  for (auto kv : n) {
    const std::string& k = kv.first.Scalar();
    if (k == "autoInstallPeers") s.auto_install_peers = kv.second.as<bool>();
    else if (k == "dedupePeers") s.dedupe_peers = kv.second.as<bool>();
    else if (k == "excludeLinksFromLockfile") s.exclude_links_from_lockfile = kv.second.as<bool>();
    else if (k == "injectWorkspacePackages") s.inject_workspace_packages = kv.second.as<bool>();
    else if (k == "peersSuffixMaxLength") s.peers_suffix_max_length = kv.second.as<uint64_t>();
  }
  return s;
}

// patchedDependencies: the patch hash, or pnpm 10's {hash, path}, which pnpm collapses to the hash.
std::map<std::string, std::string> read_patched(const YAML::Node& n) {
  std::map<std::string, std::string> out;
  if (!n.IsMap()) return out;
  for (auto kv : n) {
    std::string hash;
    if (kv.second.IsMap()) {
      for (auto f : kv.second)
        if (f.first.Scalar() == "hash") hash = f.second.Scalar();
    } else {
      hash = kv.second.Scalar();
    }
    out[kv.first.Scalar()] = std::move(hash);
  }
  return out;
}

void read_catalogs(const YAML::Node& n, Partial& out) {
  if (!n.IsMap()) return;
  for (auto kv : n) out.catalogs[kv.first.Scalar()] = specifier_versions(kv.second);
}

// The keys besides importers/packages/snapshots.
void read_header_field(const std::string& k, const YAML::Node& v, Partial& out) {
  if (k == "lockfileVersion") out.lockfile_version = v.as<std::string>();
  else if (k == "settings") out.settings = read_settings(v);
  else if (k == "catalogs") read_catalogs(v, out);
  else if (k == "overrides") out.overrides = string_pairs(v);
  else if (k == "packageExtensionsChecksum") out.package_extensions_checksum = v.Scalar();
  else if (k == "pnpmfileChecksum") out.pnpmfile_checksum = v.Scalar();
  else if (k == "patchedDependencies") out.patched = read_patched(v);
  else if (k == "ignoredOptionalDependencies") out.ignored_optional = string_list(v);
  else if (k == "time") {
    for (auto& [name, when] : string_pairs(v)) out.time[name] = when;
  }
}

}  // namespace

Result<void> read_document(const YAML::Node& root, Partial& out, const std::string& path) {
  if (!root.IsMap()) return {};
  for (auto top : root) {
    const std::string& k = top.first.Scalar();
    Result<void> r;
    if (k == "importers") r = read_importers(top.second, out, path);
    else if (k == "packages") r = read_packages(top.second, out, path);
    else if (k == "snapshots") r = read_snapshots(top.second, out.snapshots, path);
    else read_header_field(k, top.second, out);
    if (!r) return r.error();
  }
  return {};
}

void merge(Partial& all, Partial&& p) {
  if (p.lockfile_version) all.lockfile_version = std::move(p.lockfile_version);
  if (p.settings) all.settings = p.settings;
  all.catalogs.merge(p.catalogs);
  for (auto& x : p.overrides) all.overrides.push_back(std::move(x));
  if (p.package_extensions_checksum) all.package_extensions_checksum = std::move(p.package_extensions_checksum);
  if (p.pnpmfile_checksum) all.pnpmfile_checksum = std::move(p.pnpmfile_checksum);
  all.patched.merge(p.patched);
  for (auto& x : p.ignored_optional) all.ignored_optional.push_back(std::move(x));
  all.time.merge(p.time);
  for (auto& x : p.importers) all.importers.push_back(std::move(x));
  for (auto& x : p.packages) all.packages.push_back(std::move(x));
  for (auto& x : p.snapshots) all.snapshots.push_back(std::move(x));
}

namespace {

Result<void> read_env_field(const std::string& k, const YAML::Node& v, EnvLockfile& env, const std::string& path) {
  if (k == "lockfileVersion") {
    env.lockfile_version = v.as<std::string>();
  } else if (k == "importers" && v.IsMap()) {
    for (auto it : v) {
      EnvImporter imp;
      imp.id = ImporterId(it.first.Scalar());
      if (it.second.IsMap())
        for (auto f : it.second) {
          if (f.first.Scalar() == "configDependencies") imp.config_dependencies = specifier_versions(f.second);
          else if (f.first.Scalar() == "packageManagerDependencies")
            imp.package_manager_dependencies = specifier_versions(f.second);
        }
      env.importers.push_back(std::move(imp));
    }
  } else if (k == "packages") {
    Partial p;
    if (auto r = read_packages(v, p, path); !r) return r;
    for (auto& [key, m] : p.packages) env.packages.insert_or_assign(std::move(key), std::move(m));
  } else if (k == "snapshots") {
    return read_snapshots(v, env.snapshots, path);
  }
  return {};
}

}  // namespace

Result<EnvLockfile> read_env_document(const std::string& text, const std::string& path) {
  EnvLockfile env;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return bad(path, "the env document is not a YAML map");
    for (auto top : root)
      if (auto r = read_env_field(top.first.Scalar(), top.second, env, path); !r) return r.error();
  } catch (const YAML::Exception& e) {
    return bad(path, std::string("the env document: ") + e.what());
  }
  return env;
}

}  // namespace tarn::detail
