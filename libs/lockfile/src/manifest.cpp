#include "tarn/lockfile/manifest.hpp"

#include <boost/json.hpp>

#include <map>

#include "tarn/fs/fs.hpp"

namespace tarn {

namespace json = boost::json;

Result<Manifest> Manifest::load(const std::string& path) {
  auto text = fs::read_file(path);
  if (!text) {
    if (text.error().is_not_found())
      return Error::not_found(Code::NoImporterManifestFound, "No package.json was found in " + fs::dirname(path));
    return text.error();
  }
  return parse(*text, path);
}

Result<Manifest> Manifest::parse(std::string_view text, const std::string& path) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Error::failed(Code::JsonParse, "failed to read " + path + ": not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) return Error::failed(Code::JsonParse, "failed to read " + path + ": not a JSON object");
  auto& o = v.as_object();
  Manifest m;
  if (auto* n = o.if_contains("name"); n && n->is_string()) m.name = n->as_string().c_str();
  if (auto* n = o.if_contains("version"); n && n->is_string()) m.version = n->as_string().c_str();
  auto read = [&](const char* field, std::vector<std::pair<std::string, std::string>>& out) -> Result<void> {
    auto* n = o.if_contains(field);
    if (!n || n->is_null()) return {};
    if (!n->is_object())
      return Error::failed(Code::JsonParse, "failed to read " + path + ": " + field + " is not an object");
    for (auto& kv : n->as_object()) {
      if (!kv.value().is_string())
        return Error::failed(Code::JsonParse, "failed to read " + path + ": " + field + "." +
                                                        std::string(kv.key()) + " is not a string");
      out.emplace_back(std::string(kv.key()), std::string(kv.value().as_string().c_str()));
    }
    return {};
  };
  for (auto [f, dst] : {std::pair{"dependencies", &m.dependencies}, std::pair{"devDependencies", &m.dev_dependencies},
                        std::pair{"optionalDependencies", &m.optional_dependencies},
                        std::pair{"peerDependencies", &m.peer_dependencies}, std::pair{"scripts", &m.scripts}}) {
    auto r = read(f, *dst);
    if (!r) return r.error();
  }
  return m;
}

std::vector<std::string> diff_importer(const Manifest& m, const Importer& imp) {
  // pnpm drops a dependencies entry that optionalDependencies repeats; dev loses to prod.
  std::map<std::string, std::pair<DepGroup, std::string>> want;
  for (auto& [n, s] : m.dev_dependencies) want[n] = {DepGroup::Dev, s};
  for (auto& [n, s] : m.dependencies) want[n] = {DepGroup::Prod, s};
  for (auto& [n, s] : m.optional_dependencies) want[n] = {DepGroup::Optional, s};
  std::map<std::string, std::pair<DepGroup, std::string>> have;
  for (auto& d : imp.deps) have[d.alias.str()] = {d.group, d.specifier};
  std::map<std::string, std::string> peers(m.peer_dependencies.begin(), m.peer_dependencies.end());

  std::vector<std::string> out;
  for (auto& [name, w] : want) {
    auto it = have.find(name);
    if (it == have.end()) {
      out.push_back("+ " + std::string(group_field(w.first)) + "." + name + " \"" + w.second + "\" is not in the lockfile");
    } else if (it->second.second != w.second) {
      out.push_back("~ " + name + ": lockfile has \"" + it->second.second + "\", package.json has \"" + w.second + "\"");
    } else if (it->second.first != w.first) {
      out.push_back("~ " + name + ": lockfile lists it in " + std::string(group_field(it->second.first)) +
                    ", package.json in " + std::string(group_field(w.first)));
    }
  }
  for (auto& [name, h] : have) {
    if (want.count(name)) continue;
    // autoInstallPeers puts the project's own peers into the importer.
    if (auto p = peers.find(name); p != peers.end() && p->second == h.second) continue;
    out.push_back("- " + std::string(group_field(h.first)) + "." + name + " is in the lockfile but not in package.json");
  }
  return out;
}

}  // namespace tarn
