#include "workspace_extras.hpp"

#include <openssl/evp.h>

namespace tarn {

namespace {

std::map<std::string, std::string> string_map(const YAML::Node& n) {
  std::map<std::string, std::string> out;
  if (n && n.IsMap())
    for (auto kv : n)
      if (kv.second.IsScalar()) out[kv.first.Scalar()] = kv.second.Scalar();
  return out;
}

PackageExtension::Deps deps(const YAML::Node& n) {
  if (!n || !n.IsMap()) return std::nullopt;
  return string_map(n);
}

// object-hash's string framing: "string:<UTF-16 length>:<text>" (JS `.length`).
void hash_str(std::string& out, const std::string& s) {
  size_t units = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++units;  // a code point starts
    if ((c & 0xF8) == 0xF0) ++units;  // beyond the BMP: a surrogate pair
  }
  out += "string:" + std::to_string(units) + ":" + s;
}

void hash_map(std::string& out, const std::map<std::string, std::string>& m) {
  out += "object:" + std::to_string(m.size()) + ":";
  for (auto& [k, v] : m) hash_str(out, k), out += ":", hash_str(out, v), out += ",";
}

// One extension as serde writes it: only the fields present, camelCase keys, sorted (the
// hash sorts keys: dependencies, optionalDependencies, peerDependencies, peerDependenciesMeta).
void hash_extension(std::string& out, const PackageExtension& x) {
  size_t n = !!x.dependencies + !!x.optional_dependencies + !!x.peer_dependencies + !!x.peer_dependencies_meta;
  out += "object:" + std::to_string(n) + ":";
  auto field = [&](const char* key, const PackageExtension::Deps& d) {
    if (!d) return;
    hash_str(out, key), out += ":", hash_map(out, *d), out += ",";
  };
  field("dependencies", x.dependencies);
  field("optionalDependencies", x.optional_dependencies);
  field("peerDependencies", x.peer_dependencies);
  if (!x.peer_dependencies_meta) return;
  hash_str(out, "peerDependenciesMeta"), out += ":";
  out += "object:" + std::to_string(x.peer_dependencies_meta->size()) + ":";
  for (auto& [k, opt] : *x.peer_dependencies_meta) {
    hash_str(out, k), out += ":";
    out += opt ? std::string("object:1:") + "string:8:optional:bool:" + (*opt ? "true" : "false") + "," : "object:0:";
    out += ",";
  }
  out += ",";
}

}  // namespace

Result<void> read_catalogs(Settings& s, const YAML::Node& root, const std::string& path) {
  auto one = root["catalog"];
  auto named = root["catalogs"];
  // pnpm's check_default_catalog_is_defined_once.
  if (one && one.IsMap() && named && named.IsMap() && named["default"])
    return Error::failed(Code::InvalidCatalogsConfiguration,
                         "failed to read " + path +
                             ": The 'default' catalog was defined multiple times. Use the 'catalog' field or "
                             "'catalogs.default', but not both.");
  if (one && one.IsMap()) s.catalogs["default"] = string_map(one);
  if (named && named.IsMap())
    for (auto kv : named) s.catalogs[kv.first.Scalar()] = string_map(kv.second);
  return {};
}

void read_package_extensions(Settings& s, const YAML::Node& root) {
  auto n = root["packageExtensions"];
  if (!n || !n.IsMap()) return;
  for (auto kv : n) {
    PackageExtension x;
    x.selector = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (v.IsMap()) {
      x.dependencies = deps(v["dependencies"]);
      x.optional_dependencies = deps(v["optionalDependencies"]);
      x.peer_dependencies = deps(v["peerDependencies"]);
      if (auto m = v["peerDependenciesMeta"]; m && m.IsMap()) {
        x.peer_dependencies_meta.emplace();
        for (auto e : m) {
          std::optional<bool> opt;
          if (e.second.IsMap() && e.second["optional"]) opt = e.second["optional"].as<bool>();
          (*x.peer_dependencies_meta)[e.first.Scalar()] = opt;
        }
      }
    }
    s.package_extensions.push_back(std::move(x));
  }
  s.package_extensions_checksum = package_extensions_checksum(s.package_extensions);
}

std::optional<std::string> package_extensions_checksum(const std::vector<PackageExtension>& exts) {
  if (exts.empty()) return std::nullopt;
  std::map<std::string, const PackageExtension*> sorted;  // a later duplicate key wins, as in a map
  for (auto& x : exts) sorted[x.selector] = &x;
  std::string text = "object:" + std::to_string(sorted.size()) + ":";
  for (auto& [sel, x] : sorted) hash_str(text, sel), text += ":", hash_extension(text, *x), text += ",";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  std::string b64(4 * ((len + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), md, static_cast<int>(len));
  b64.resize(static_cast<size_t>(n));
  return "sha256-" + b64;
}

}  // namespace tarn
