// Lockfile -> the document pnpm 12 serializes (pnpm/crates/lockfile: Lockfile and its
// serde attributes, prune_time, save_lockfile), rendered by lockyaml::write_document.
// Which fields are omitted follows pnpm's serde skip rules; the order of the keys built
// here does not matter except where pnpm keeps it (settings' struct order, overrides,
// lists), since write_document applies pnpm's key sort.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "tarn/fs/fs.hpp"
#include "tarn/lockfile/lockfile.hpp"

namespace tarn {

namespace {

YamlValue str(std::string s) { return YamlValue::string(std::move(s)); }

YamlValue string_map(const std::vector<std::pair<std::string, std::string>>& kvs) {
  YamlValue v = YamlValue::map();
  for (auto& [k, x] : kvs) v.add(k, str(x));
  return v;
}

// LockfileSettings, in its field order (the root sort does not reach inside it).
YamlValue settings_value(const Lockfile& lf) {
  YamlValue v = YamlValue::map();
  v.add("autoInstallPeers", YamlValue::boolean(lf.auto_install_peers));
  if (lf.dedupe_peers) v.add("dedupePeers", YamlValue::boolean(*lf.dedupe_peers));
  v.add("excludeLinksFromLockfile", YamlValue::boolean(lf.exclude_links_from_lockfile));
  if (lf.inject_workspace_packages) v.add("injectWorkspacePackages", YamlValue::boolean(true));
  if (lf.peers_suffix_max_length)
    v.add("peersSuffixMaxLength", YamlValue::number(std::to_string(*lf.peers_suffix_max_length)));
  return v;
}

YamlValue specifier_versions(const std::map<std::string, CatalogEntry>& entries) {
  YamlValue v = YamlValue::map();
  for (auto& [alias, e] : entries) {
    YamlValue& x = v.add(alias, YamlValue::map());
    x.add("specifier", str(e.specifier));
    x.add("version", str(e.version));
  }
  return v;
}

YamlValue resolution_value(const PackageMeta& m) {
  if (m.resolution == ResolutionKind::Other && m.other_resolution) return *m.other_resolution;
  YamlValue v = YamlValue::map();
  std::string integrity = m.integrity_str();
  switch (m.resolution) {
    case ResolutionKind::Directory:
      v.add("directory", str(m.directory));
      v.add("type", str("directory"));
      break;
    case ResolutionKind::Git:  // a recorded integrity is dropped, as pnpm drops it
      v.add("repo", str(m.git_repo));
      v.add("commit", str(m.git_commit));
      if (!m.git_path.empty()) v.add("path", str(m.git_path));
      v.add("type", str("git"));
      break;
    default:
      if (!m.tarball.empty()) v.add("tarball", str(m.tarball.str()));
      if (!integrity.empty()) v.add("integrity", str(integrity));
      if (m.git_hosted) v.add("gitHosted", YamlValue::boolean(*m.git_hosted));
      if (!m.git_path.empty()) v.add("path", str(m.git_path));
  }
  return v;
}

// PackageMetadata; bundledDependencies sorts after the prioritised keys (pnpm's priority
// list names "bundleDependencies").
YamlValue package_value(const PackageMeta& m) {
  YamlValue v = YamlValue::map();
  v.add("resolution", resolution_value(m));
  if (!m.version.empty()) v.add("version", str(m.version));
  if (!m.engines.empty()) v.add("engines", string_map(m.engines));
  if (!m.cpu.empty()) v.add("cpu", YamlValue::string_list(m.cpu));
  if (!m.os.empty()) v.add("os", YamlValue::string_list(m.os));
  if (!m.libc.empty())
    v.add("libc", m.libc_scalar && m.libc.size() == 1 ? str(m.libc[0]) : YamlValue::string_list(m.libc));
  if (m.deprecated) v.add("deprecated", str(*m.deprecated));
  if (m.has_bin) v.add("hasBin", YamlValue::boolean(true));
  if (m.prepare) v.add("prepare", YamlValue::boolean(*m.prepare));
  if (m.bundled || !m.bundled_dependencies.empty())
    v.add("bundledDependencies",
          m.bundled_dependencies.empty() ? YamlValue::boolean(true) : YamlValue::string_list(m.bundled_dependencies));
  if (!m.peer_dependencies.empty()) v.add("peerDependencies", string_map(m.peer_dependencies));
  if (!m.peer_dependencies_meta.empty()) {
    YamlValue& meta = v.add("peerDependenciesMeta", YamlValue::map());
    for (auto& [name, optional] : m.peer_dependencies_meta)
      meta.add(name, YamlValue::map()).add("optional", YamlValue::boolean(optional));
  }
  return v;
}

YamlValue deps_value(const std::vector<Dependency>& deps) {
  YamlValue v = YamlValue::map();
  for (auto& d : deps) v.add(d.alias.str(), str(d.ref.text(d.alias)));
  return v;
}

YamlValue snapshot_value(const Snapshot& s) {
  YamlValue v = YamlValue::map();
  if (s.id) v.add("id", str(*s.id));
  if (!s.dependencies.empty()) v.add("dependencies", deps_value(s.dependencies));
  if (!s.optional_dependencies.empty()) v.add("optionalDependencies", deps_value(s.optional_dependencies));
  if (!s.transitive_peer_dependencies.empty())
    v.add("transitivePeerDependencies", YamlValue::string_list(s.transitive_peer_dependencies));
  if (s.patched) v.add("patched", YamlValue::boolean(*s.patched));
  if (s.optional) v.add("optional", YamlValue::boolean(true));
  return v;
}

std::string importer_version(const ImporterDep& d) { return !d.version.empty() ? d.version : d.ref.text(d.alias); }

YamlValue importer_value(const Importer& imp) {
  YamlValue v = YamlValue::map();
  for (DepGroup g : {DepGroup::Prod, DepGroup::Dev, DepGroup::Optional}) {
    YamlValue group = YamlValue::map();
    for (auto& d : imp.deps) {
      if (d.group != g) continue;
      YamlValue& x = group.add(d.alias.str(), YamlValue::map());
      x.add("specifier", str(d.specifier));
      x.add("version", str(importer_version(d)));
    }
    if (!group.entries.empty()) v.add(std::string(group_field(g)), std::move(group));
  }
  if (imp.dependencies_meta) v.add("dependenciesMeta", *imp.dependencies_meta);
  if (imp.publish_directory) v.add("publishDirectory", str(*imp.publish_directory));
  return v;
}

// pnpm's prune_time: `time:` keeps the importers' direct dependencies only (peer suffix
// stripped). A non-empty time that prunes to nothing is still written, as `{}`.
YamlValue pruned_time(const Lockfile& lf) {
  std::set<std::string, std::less<>> direct;
  for (auto& imp : lf.importers)
    for (auto& d : imp.deps)
      if (!d.ref.is_link()) direct.emplace(d.ref.target.without_peers());
  YamlValue v = YamlValue::map();
  for (auto& [k, when] : lf.time)
    if (direct.count(k)) v.add(k, str(when));
  return v;
}

template <class Map>
YamlValue packages_value(const Map& packages) {
  YamlValue v = YamlValue::map();
  v.entries.reserve(packages.size());
  for (auto& [key, m] : packages) v.add(key, package_value(m));
  return v;
}

YamlValue snapshots_value(const std::vector<Snapshot>& snapshots) {
  YamlValue v = YamlValue::map();
  v.entries.reserve(snapshots.size());
  for (auto& s : snapshots) v.add(s.key.str(), snapshot_value(s));
  return v;
}

void add_header(const Lockfile& lf, YamlValue& doc) {
  if (lf.has_settings) doc.add("settings", settings_value(lf));
  if (!lf.catalogs.empty()) {
    YamlValue& c = doc.add("catalogs", YamlValue::map());
    for (auto& [name, entries] : lf.catalogs) c.add(name, specifier_versions(entries));
  }
  if (!lf.overrides.empty()) doc.add("overrides", string_map(lf.overrides));
  if (lf.package_extensions_checksum) doc.add("packageExtensionsChecksum", str(*lf.package_extensions_checksum));
  if (lf.pnpmfile_checksum) doc.add("pnpmfileChecksum", str(*lf.pnpmfile_checksum));
  if (!lf.ignored_optional_dependencies.empty())
    doc.add("ignoredOptionalDependencies", YamlValue::string_list(lf.ignored_optional_dependencies));
  if (!lf.patched_dependencies.empty()) {
    YamlValue& p = doc.add("patchedDependencies", YamlValue::map());
    for (auto& [k, hash] : lf.patched_dependencies) p.add(k, str(hash));
  }
}

YamlValue main_document(const Lockfile& lf) {
  YamlValue doc = YamlValue::map();
  doc.add("lockfileVersion", str(lf.lockfile_version));
  add_header(lf, doc);
  if (!lf.importers.empty()) {
    YamlValue& imps = doc.add("importers", YamlValue::map());
    for (auto& imp : lf.importers) imps.add(imp.id.str(), importer_value(imp));
  }
  if (!lf.packages.empty()) doc.add("packages", packages_value(lf.packages));
  if (!lf.snapshots.empty()) doc.add("snapshots", snapshots_value(lf.snapshots));
  if (!lf.time.empty()) doc.add("time", pruned_time(lf));
  return doc;
}

// EnvLockfile: importers, packages and snapshots are always written, even empty.
YamlValue env_document(const EnvLockfile& env) {
  YamlValue doc = YamlValue::map();
  doc.add("lockfileVersion", str(env.lockfile_version));
  YamlValue& imps = doc.add("importers", YamlValue::map());
  for (auto& imp : env.importers) {
    YamlValue& x = imps.add(imp.id.str(), YamlValue::map());
    x.add("configDependencies", specifier_versions(imp.config_dependencies));
    if (imp.package_manager_dependencies)
      x.add("packageManagerDependencies", specifier_versions(*imp.package_manager_dependencies));
  }
  doc.add("packages", packages_value(env.packages));
  doc.add("snapshots", snapshots_value(env.snapshots));
  return doc;
}

constexpr std::string_view kDocumentStart = "---\n", kDocumentSeparator = "\n---\n";

std::string with_env(std::string_view env, std::string_view main) {
  std::string out;
  out.reserve(env.size() + main.size() + 9);
  out.append(kDocumentStart).append(env).append(kDocumentSeparator).append(main);
  return out;
}

}  // namespace

std::string write_lockfile(const Lockfile& lf) {
  std::string main = lockyaml::write_document(main_document(lf));
  if (!lf.env) return main;
  return with_env(lockyaml::write_document(env_document(*lf.env)), main);
}

namespace {

Error write_error(const std::string& path, const std::string& why) {
  return Error::failed(Code::LockfileWrite, "failed to write " + path + ": " + why);
}

// The file as pnpm compares it: without a BOM, with LF line ends. Empty when absent.
Result<std::optional<std::string>> existing_text(const std::string& path) {
  auto text = fs::read_file(path);
  if (!text) {
    if (text.error().is_not_found()) return std::optional<std::string>();
    return write_error(path, text.error().message);
  }
  std::string_view t = *text;
  if (t.substr(0, 3) == "\xEF\xBB\xBF") t.remove_prefix(3);
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i)
    if (!(t[i] == '\r' && i + 1 < t.size() && t[i + 1] == '\n')) out += t[i];
  return std::optional<std::string>(std::move(out));
}

}  // namespace

Result<void> save_lockfile(const Lockfile& lf, const std::string& path) {
  std::string out = write_lockfile(lf);
  auto existing = existing_text(path);
  if (!existing) return existing.error();
  if (!lf.env && *existing && existing->value().compare(0, kDocumentStart.size(), kDocumentStart) == 0) {
    // pnpm keeps the env document of the file it replaces.
    size_t sep = existing->value().find(kDocumentSeparator, kDocumentStart.size());
    if (sep != std::string::npos)
      out = with_env(std::string_view(existing->value()).substr(kDocumentStart.size(), sep - kDocumentStart.size()), out);
  }
  if (*existing && **existing == out) return {};
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    return write_error(path, "refusing to write a symlinked lockfile");
  if (auto r = fs::write_file_synced(path, out); !r) return Error::failed(Code::LockfileWrite, r.error().message);
  return {};
}

}  // namespace tarn
