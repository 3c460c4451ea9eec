#include "registry_case.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>

#include "tarn/core/semver.hpp"

namespace tarn::test {

namespace json = boost::json;

namespace {

// A version published long before any minimumReleaseAge cutoff pnpm computes from today.
constexpr const char* kDefaultTime = "2020-01-01T00:00:00.000Z";

// Manifest fields a registry.json version may set, copied into package.json and the
// packument as written; anything else is a typo that would silently test nothing.
const std::set<std::string, std::less<>> kManifestKeys = {
    "dependencies", "devDependencies", "optionalDependencies", "peerDependencies",
    "peerDependenciesMeta", "os", "cpu", "libc", "bin", "directories", "deprecated", "engines",
    "bundleDependencies", "bundledDependencies", "scripts", "license", "main", "type",
    "funding", "hasInstallScript"};
// registry.json keys that shape the registry but are not manifest fields.
constexpr const char* kTimeKey = "time";            // publish time (ISO-8601)
constexpr const char* kFilesKey = "tarballFiles";  // extra files: path under package/ -> content
constexpr const char* kFillerKey = "tarballFillerBytes";  // package/filler.bin of that many bytes

// Filler of `n` bytes that no compressor shrinks (a 64-bit LCG's high bytes): with stored
// deflate blocks the tarball is as big as its files, so a case can serve a tarball over
// pnpm's 5 MB big-download threshold without committing one.
std::string filler(uint64_t n) {
  std::string out(n, '\0');
  uint64_t x = 0x2545f4914f6cdd1dull;
  for (auto& c : out) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(x >> 56);
  }
  return out;
}

[[noreturn]] void fail(const std::string& case_dir, const std::string& what) {
  throw std::runtime_error("failed to load registry case " + case_dir + ": " + what);
}

const json::object& as_object(const json::value& v, const std::string& case_dir, const std::string& what) {
  if (!v.is_object()) fail(case_dir, what + " is not an object");
  return v.get_object();
}

bool is_comment(std::string_view key) { return key.starts_with("//"); }

std::string unscoped(const std::string& name) {
  auto slash = name.find('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

// "./bin/cli.js" and "bin/cli.js" name the same file in the tarball.
std::string tarball_relative(std::string p) {
  while (p.starts_with("./")) p.erase(0, 2);
  return p;
}

std::vector<TarEntry> tarball_entries(const json::object& manifest, const json::object* extra, uint64_t filler_bytes) {
  std::string name(manifest.at("name").as_string()), version(manifest.at("version").as_string());
  std::vector<TarEntry> files{
      {"package/package.json", json::serialize(manifest) + "\n"},
      {"package/index.js", "module.exports = '" + name + "@" + version + "';\n"}};
  std::vector<std::string> bins;
  if (auto* bin = manifest.if_contains("bin")) {
    if (bin->is_string()) bins.emplace_back(bin->get_string());
    if (bin->is_object())
      for (auto& [k, v] : bin->get_object())
        if (v.is_string()) bins.emplace_back(v.get_string());
  }
  for (auto& b : bins)
    files.push_back({"package/" + tarball_relative(b), "#!/usr/bin/env node\nrequire('../index.js');\n", 0755});
  if (extra)
    for (auto& [path, content] : *extra)
      files.push_back({"package/" + std::string(path), std::string(content.as_string())});
  if (filler_bytes) files.push_back({"package/filler.bin", filler(filler_bytes)});
  // One entry per path: a later one (tarballFiles) replaces an earlier one.
  std::vector<TarEntry> out;
  for (auto it = files.rbegin(); it != files.rend(); ++it)
    if (std::none_of(out.begin(), out.end(), [&](const TarEntry& e) { return e.path == it->path; }))
      out.push_back(*it);
  std::reverse(out.begin(), out.end());
  return out;
}

// latest: the highest release, else the highest prerelease (what `npm publish` leaves after
// publishing the versions in order with the default tag, for release versions).
json::object default_dist_tags(const json::object& versions) {
  std::optional<Version> best;
  for (auto& [v, entry] : versions) {
    auto parsed = Version::parse(v);
    if (!parsed) continue;
    bool better = !best || (best->is_prerelease() && !parsed->is_prerelease()) ||
                  (best->is_prerelease() == parsed->is_prerelease() && *parsed > *best);
    if (better) best = parsed;
  }
  json::object tags;
  if (best) tags["latest"] = best->str();
  return tags;
}

struct Built {
  json::object packument_version;
  CaseTarball tarball;
  std::string time;
};

Built build_version(const std::string& case_dir, const std::string& name, const std::string& version,
                    const json::object& entry, const std::string& base_url) {
  std::string where = name + "@" + version;
  json::object manifest{{"name", name}, {"version", version}};
  const json::object* extra = nullptr;
  uint64_t filler_bytes = 0;
  Built b;
  b.time = kDefaultTime;
  for (auto& [key, value] : entry) {
    if (is_comment(key)) continue;
    if (key == kTimeKey) {
      if (!value.is_string()) fail(case_dir, where + ": time is not a string");
      b.time = value.get_string();
    } else if (key == kFilesKey) {
      extra = &as_object(value, case_dir, where + ": " + kFilesKey);
    } else if (key == kFillerKey) {
      if (!value.is_int64() || value.get_int64() < 0 || value.get_int64() > (int64_t{64} << 20))
        fail(case_dir, where + ": " + kFillerKey + " is not a byte count up to 64 MiB");
      filler_bytes = static_cast<uint64_t>(value.get_int64());
    } else if (kManifestKeys.contains(key)) {
      manifest[key] = value;
    } else {
      fail(case_dir, where + ": unknown key \"" + std::string(key) + "\"");
    }
  }
  b.tarball.name = name;
  b.tarball.version = version;
  b.tarball.path = tarball_path(name, version);
  b.tarball.bytes = make_reproducible_tgz(tarball_entries(manifest, extra, filler_bytes));
  b.tarball.integrity = sri_sha512(b.tarball.bytes);
  b.tarball.shasum = sha1_hex(b.tarball.bytes);
  b.packument_version = manifest;
  b.packument_version["_id"] = where;
  b.packument_version["dist"] = json::object{{"integrity", b.tarball.integrity},
                                             {"shasum", b.tarball.shasum},
                                             {"tarball", base_url + b.tarball.path.substr(1)}};
  return b;
}

json::object build_packument(const std::string& case_dir, const std::string& name, const json::object& pkg,
                             const std::string& base_url, std::vector<CaseTarball>& tarballs) {
  for (auto& [key, value] : pkg)
    if (!is_comment(key) && key != "versions" && key != "dist-tags")
      fail(case_dir, name + ": unknown key \"" + std::string(key) + "\"");
  auto* versions_v = pkg.if_contains("versions");
  if (!versions_v) fail(case_dir, name + " has no versions");
  const json::object& versions = as_object(*versions_v, case_dir, name + ".versions");
  json::object out_versions, time;
  std::string created, modified;
  for (auto& [v, entry] : versions) {
    if (!Version::parse(v)) fail(case_dir, name + ": invalid version \"" + std::string(v) + "\"");
    Built b = build_version(case_dir, name, std::string(v),
                            as_object(entry, case_dir, name + "@" + std::string(v)), base_url);
    out_versions[v] = std::move(b.packument_version);
    time[v] = b.time;
    // ISO-8601 in UTC with the same precision compares as text.
    if (created.empty() || b.time < created) created = b.time;
    if (b.time > modified) modified = b.time;
    tarballs.push_back(std::move(b.tarball));
  }
  json::object tags = pkg.contains("dist-tags") ? as_object(pkg.at("dist-tags"), case_dir, name + ".dist-tags")
                                                : default_dist_tags(versions);
  json::object times{{"created", created}, {"modified", modified}};
  for (auto& [v, t] : time) times[v] = t;
  return json::object{{"_id", name}, {"name", name}, {"dist-tags", tags}, {"versions", out_versions},
                      {"time", times}};
}

}  // namespace

std::string packument_path(const std::string& name) {
  auto slash = name.find('/');
  if (slash == std::string::npos) return "/" + name;
  return "/" + name.substr(0, slash) + "%2f" + name.substr(slash + 1);
}

std::string tarball_path(const std::string& name, const std::string& version) {
  return "/" + name + "/-/" + unscoped(name) + "-" + version + ".tgz";
}

RegistryCase load_registry_case(RegistryServer& server, const std::string& case_dir) {
  std::string text = read_file(case_dir + "/registry.json");
  if (text.empty()) fail(case_dir, "registry.json is missing or empty");
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) fail(case_dir, "registry.json: " + ec.message());
  std::vector<std::string> names;
  for (auto& [name, pkg] : as_object(root, case_dir, "registry.json")) {
    if (!is_comment(name)) names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  RegistryCase out;
  for (auto& name : names) {
    json::object packument =
        build_packument(case_dir, name, as_object(root.at(name), case_dir, name), server.url(), out.tarballs);
    CasePackument p{name, packument_path(name), json::serialize(packument)};
    std::vector<std::string> paths{p.path};
    if (name.starts_with("@")) {  // clients differ in how they escape the scope's slash
      auto slash = name.find('/');
      paths.push_back("/" + name.substr(0, slash) + "%2F" + name.substr(slash + 1));
      paths.push_back("/" + name);
    }
    for (auto& path : paths) {
      server.put(path, std::vector<uint8_t>(p.json.begin(), p.json.end()));
      out.served.insert(path);
    }
    out.packuments.push_back(std::move(p));
  }
  for (auto& t : out.tarballs) {
    server.put(t.path, t.bytes);
    out.served.insert(t.path);
  }
  return out;
}

}  // namespace tarn::test
