#include "packument_json.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>

namespace tarn::resolve::detail {

namespace json = boost::json;

namespace {

// Packuments nest about six levels (versions > v > peerDependenciesMeta > x > optional);
// Boost.JSON's default of 32 would do, but a hostile body must not recurse unbounded.
constexpr size_t kMaxDepth = 64;

const json::value* field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}

const json::string* string_field(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v ? v->if_string() : nullptr;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

// pnpm's deserialize_dependency_map: absent, null, or an object whose non-string values
// are dropped. Any other shape fails the version's decode, and pnpm then treats the
// version as absent (false here).
bool read_dep_map(const json::object& o, std::string_view key, Pairs* out) {
  const json::value* v = field(o, key);
  if (!v || v->is_null()) return true;
  const json::object* m = v->if_object();
  if (!m) return false;
  if (out)
    for (auto& kv : *m)
      if (auto* s = kv.value().if_string()) out->emplace_back(std::string(kv.key()), std::string(*s));
  return true;
}

// peerDependenciesMeta: {name: {optional: bool}}; another shape fails the decode in pnpm.
bool read_peer_meta(const json::object& o, std::vector<std::string>& optional_peers) {
  const json::value* v = field(o, "peerDependenciesMeta");
  if (!v || v->is_null()) return true;
  const json::object* m = v->if_object();
  if (!m) return false;
  for (auto& kv : *m) {
    const json::object* meta = kv.value().if_object();
    if (!meta) return false;
    const json::value* opt = field(*meta, "optional");
    if (opt && !opt->is_null() && !opt->is_bool()) return false;
    if (opt && opt->is_bool() && opt->get_bool()) optional_peers.emplace_back(kv.key());
  }
  return true;
}

// pnpm's deserialize_deprecated_field: a string is the reason, true is "", false and null
// are absent; any other shape fails the decode.
bool read_deprecated(const json::object& o, std::optional<std::string>& out) {
  const json::value* v = field(o, "deprecated");
  if (!v || v->is_null()) return true;
  if (auto* s = v->if_string()) out = std::string(*s);
  else if (v->is_bool()) out = v->get_bool() ? std::optional<std::string>("") : std::nullopt;
  else return false;
  return true;
}

// Arrays of strings (os, cpu, libc); libc may also be one string. Other shapes are
// ignored, as pnpm's lockfile writer reads them.
std::vector<std::string> string_list(const json::value* v, bool allow_string) {
  std::vector<std::string> out;
  if (!v) return out;
  if (auto* s = v->if_string(); s && allow_string && !s->empty()) out.emplace_back(*s);
  if (auto* a = v->if_array())
    for (auto& x : *a)
      if (auto* s = x.if_string()) out.emplace_back(*s);
  return out;
}

// engines: an object, or the legacy array form keyed by index (pnpm's lockfile writer).
Pairs read_engines(const json::object& o) {
  Pairs out;
  const json::value* v = field(o, "engines");
  if (!v) return out;
  if (auto* m = v->if_object())
    for (auto& kv : *m)
      if (auto* s = kv.value().if_string()) out.emplace_back(std::string(kv.key()), std::string(*s));
  if (auto* a = v->if_array())
    for (size_t i = 0; i < a->size(); ++i)
      if (auto* s = (*a)[i].if_string()) out.emplace_back(std::to_string(i), std::string(*s));
  return out;
}

void read_bundled(const json::object& o, PackageVersion& pv) {
  const json::value* v = field(o, "bundleDependencies");
  if (!v || v->is_null()) v = field(o, "bundledDependencies");
  if (!v) return;
  if (v->is_bool()) pv.bundle_all = v->get_bool();
  pv.bundled_dependencies = string_list(v, false);
}

// pnpm's manifest_has_bin: a non-empty `bin` string or object, or a `directories.bin` path.
bool has_bin(const json::object& o, Source source) {
  if (const json::value* b = field(o, "bin")) {
    if (auto* s = b->if_string(); s && !s->empty()) return true;
    if (auto* m = b->if_object(); m && !m->empty()) return true;
  }
  if (const json::value* d = field(o, "directories"))
    if (auto* m = d->if_object())
      if (auto* s = string_field(*m, "bin"); s && !s->empty()) return true;
  const json::value* flag = source == Source::Cache ? field(o, "hasBin") : nullptr;
  return flag && flag->is_bool() && flag->get_bool();
}

// The abbreviated document's hasInstallScript, or (full document) the scripts npm runs
// at install; npm's publish already turned a binding.gyp into scripts.install.
bool has_install_script(const json::object& o) {
  if (const json::value* f = field(o, "hasInstallScript"); f && f->is_bool() && f->get_bool()) return true;
  const json::value* scripts = field(o, "scripts");
  const json::object* m = scripts ? scripts->if_object() : nullptr;
  if (!m) return false;
  for (std::string_view k : {"preinstall", "install", "postinstall"})
    if (auto* s = string_field(*m, k); s && !s->empty()) return true;
  return false;
}

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<Integrity> sha1_from_shasum(std::string_view hex) {
  if (hex.size() != 40) return std::nullopt;
  uint8_t bytes[20];
  for (size_t i = 0; i < 20; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  auto i = Integrity::parse("sha1-" + Integrity::to_base64(bytes, 20));
  return i ? std::optional<Integrity>(*i) : std::nullopt;
}

// dist: tarball required; integrity from dist.integrity, else sha1 from dist.shasum. An
// integrity that does not parse fails the decode (pnpm's typed ssri field); a shasum that
// is not hex leaves none (pnpm fails only if that version is picked).
bool read_dist(const json::object& o, PackageVersion& pv) {
  const json::value* d = field(o, "dist");
  const json::object* dist = d ? d->if_object() : nullptr;
  const json::string* tarball = dist ? string_field(*dist, "tarball") : nullptr;
  if (!tarball) return false;
  pv.tarball = TarballUrl(std::string(*tarball));
  if (const json::value* i = field(*dist, "integrity"); i && !i->is_null()) {
    auto parsed = i->is_string() ? Integrity::parse(i->get_string()) : Result<Integrity>(Error());
    if (!parsed) return false;
    pv.integrity = *parsed;
  } else if (auto* sha = string_field(*dist, "shasum")) {
    pv.integrity = sha1_from_shasum(*sha);
  }
  return true;
}

// One entry of `versions`, or nothing where pnpm's decode of it fails: the key or the
// `version` field is not semver, or a field has a shape pnpm's typed manifest refuses.
std::optional<PackageVersion> read_version(std::string_view key, const json::value& v, Source source,
                                          bool need_dist = true) {
  const json::object* o = v.if_object();
  auto version = Version::parse(key);
  const json::string* field_version = o ? string_field(*o, "version") : nullptr;
  if (!o || !version || !field_version || !Version::parse(*field_version)) return std::nullopt;
  PackageVersion pv;
  pv.version = *version;
  if (!read_dep_map(*o, "dependencies", &pv.dependencies) ||
      !read_dep_map(*o, "optionalDependencies", &pv.optional_dependencies) ||
      !read_dep_map(*o, "peerDependencies", &pv.peer_dependencies) || !read_dep_map(*o, "devDependencies", nullptr) ||
      !read_peer_meta(*o, pv.optional_peers) || !read_deprecated(*o, pv.deprecated) || (need_dist && !read_dist(*o, pv)))
    return std::nullopt;
  pv.engines = read_engines(*o);
  pv.os = string_list(field(*o, "os"), false);
  pv.cpu = string_list(field(*o, "cpu"), false);
  pv.libc = string_list(field(*o, "libc"), true);
  read_bundled(*o, pv);
  pv.has_bin = has_bin(*o, source);
  pv.has_install_script = has_install_script(*o);
  return pv;
}

std::string version_key(const Version& v) { return v.build().empty() ? v.str() : v.str() + "+" + v.build(); }

// `time`, kept for the versions kept. pnpm's drop_incomplete_publish_times: a map that
// misses any published version cannot decide maturity, so none is kept.
void read_time(const json::object& root, const json::object* versions, Packument& p) {
  const json::value* t = field(root, "time");
  const json::object* time = t ? t->if_object() : nullptr;
  if (auto* m = string_field(root, "modified")) p.modified = std::string(*m);
  else if (auto* m2 = time ? string_field(*time, "modified") : nullptr) p.modified = std::string(*m2);
  if (!time || !versions) return;
  for (auto& kv : *versions) {
    auto* at = string_field(*time, kv.key());
    if (!at || at->empty()) return;
  }
  for (auto& pv : p.versions) {
    std::string k = version_key(pv.version);
    if (auto* at = string_field(*time, k)) p.time.emplace(k, std::string(*at));
  }
  // A kept version under another spelling ("v1.0.0" is 1.0.0) has no time by its own key.
  if (p.time.size() != p.versions.size()) p.time.clear();
}

Result<json::value> parse_dom(std::string_view text, const PkgName& what, json::storage_ptr sp) {
  json::parse_options opt;
  opt.max_depth = kMaxDepth;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, std::move(sp), opt);
  if (ec)
    return Error::failed(Code::MetadataDecode, "failed to parse the metadata of " + what.str() + ": " + ec.message());
  if (!v.is_object())
    return Error::failed(Code::MetadataDecode, "failed to parse the metadata of " + what.str() + ": not a JSON object");
  return v;
}

}  // namespace

Result<Packument> parse(std::string_view text, const PkgName& what, Source source) {
  // One arena for the whole DOM, released at once when the trimmed model is built.
  json::monotonic_resource arena;
  auto dom = parse_dom(text, what, &arena);
  if (!dom) return dom.error();
  const json::object& root = dom->get_object();
  Packument p;
  p.name = what;
  if (const json::value* tags = field(root, "dist-tags"))
    if (auto* m = tags->if_object())
      for (auto& kv : *m)
        if (auto* s = kv.value().if_string()) p.dist_tags.emplace(std::string(kv.key()), std::string(*s));
  const json::value* vs = field(root, "versions");
  const json::object* versions = vs ? vs->if_object() : nullptr;
  if (versions) {
    p.versions.reserve(versions->size());
    std::set<std::string> seen;  // "v1.0.0" and "1.0.0" are one version: the first is kept
    for (auto& kv : *versions)
      if (auto pv = read_version(kv.key(), kv.value(), source); pv && seen.insert(version_key(pv->version)).second)
        p.versions.push_back(std::move(*pv));
  }
  std::stable_sort(p.versions.begin(), p.versions.end(),
                   [](const PackageVersion& a, const PackageVersion& b) { return a.version < b.version; });
  read_time(root, versions, p);
  return p;
}

// A package's own package.json (a directory, a tarball's, a git commit's): the manifest
// fields a registry version has, without `dist`.
Result<std::pair<std::string, PackageVersion>> parse_manifest(std::string_view text, const std::string& what) {
  json::monotonic_resource arena;
  auto dom = parse_dom(text, PkgName(), &arena);
  auto bad = [&](const std::string& why) {
    return Error::failed(Code::BadPackageJson, "failed to read the package.json of " + what + ": " + why);
  };
  if (!dom) return bad("not a JSON object");
  const json::object& o = dom->get_object();
  const json::string* name = string_field(o, "name");
  const json::string* version = string_field(o, "version");
  if (!name || !version) return bad("it has no name or no version");
  auto pv = read_version(*version, *dom, Source::Registry, false);
  if (!pv) return bad("its version or dependencies do not parse");
  return std::pair<std::string, PackageVersion>(std::string(*name), std::move(*pv));
}

namespace {

json::object pairs_object(const Pairs& pairs) {
  json::object o;
  for (auto& [k, v] : pairs) o[k] = v;
  return o;
}

json::array string_array(const std::vector<std::string>& v) { return json::array(v.begin(), v.end()); }

// Only what read_version() reads back; empty fields are left out.
json::object version_object(const PackageVersion& pv) {
  json::object o;
  o["version"] = version_key(pv.version);
  if (!pv.dependencies.empty()) o["dependencies"] = pairs_object(pv.dependencies);
  if (!pv.optional_dependencies.empty()) o["optionalDependencies"] = pairs_object(pv.optional_dependencies);
  if (!pv.peer_dependencies.empty()) o["peerDependencies"] = pairs_object(pv.peer_dependencies);
  if (!pv.optional_peers.empty()) {
    json::object meta;
    for (auto& name : pv.optional_peers) meta[name] = json::object{{"optional", true}};
    o["peerDependenciesMeta"] = std::move(meta);
  }
  if (!pv.engines.empty()) o["engines"] = pairs_object(pv.engines);
  if (!pv.os.empty()) o["os"] = string_array(pv.os);
  if (!pv.cpu.empty()) o["cpu"] = string_array(pv.cpu);
  if (!pv.libc.empty()) o["libc"] = string_array(pv.libc);
  if (pv.bundle_all) o["bundleDependencies"] = true;
  else if (!pv.bundled_dependencies.empty()) o["bundleDependencies"] = string_array(pv.bundled_dependencies);
  if (pv.has_bin) o["hasBin"] = true;
  if (pv.has_install_script) o["hasInstallScript"] = true;
  if (pv.deprecated) o["deprecated"] = *pv.deprecated;
  json::object dist{{"tarball", pv.tarball.str()}};
  if (pv.integrity) dist["integrity"] = pv.integrity->str();
  o["dist"] = std::move(dist);
  return o;
}

}  // namespace

std::string serialize(const Packument& p) {
  json::object root;
  root["name"] = p.name.str();
  json::object tags;
  for (auto& [k, v] : p.dist_tags) tags[k] = v;
  root["dist-tags"] = std::move(tags);
  if (!p.modified.empty()) root["modified"] = p.modified;
  json::object versions;
  versions.reserve(p.versions.size());
  for (auto& pv : p.versions) versions[version_key(pv.version)] = version_object(pv);
  root["versions"] = std::move(versions);
  if (!p.time.empty()) {
    json::object time;
    for (auto& [k, v] : p.time) time[k] = v;
    root["time"] = std::move(time);
  }
  return json::serialize(root);
}

std::string http_date_from_iso(std::string_view iso) {
  std::tm tm{};
  int consumed = 0;
  std::string s(iso.substr(0, 64));
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return "";
  size_t i = static_cast<size_t>(consumed);
  if (i < s.size() && s[i] == '.')
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9';) ++i;
  long offset = 0;
  int oh = 0, om = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-') && std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2)
    offset = (s[i] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
  else if (i >= s.size() || s[i] != 'Z')
    return "";
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t t = timegm(&tm) - offset;
  std::tm out{};
  char buf[64];
  if (!gmtime_r(&t, &out) || !std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &out)) return "";
  return buf;
}

}  // namespace tarn::resolve::detail
