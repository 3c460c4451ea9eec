#include "tarn/lockfile/manifest.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>
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

namespace {

// A JSON number as serde_json prints it (pnpm 12 writes dependenciesMeta through it):
// integers as they are, floats in ryu's shortest form with ".0" on whole numbers.
std::string json_number_text(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  double d = v.as_double();
  char buf[64];
  if (std::trunc(d) == d && std::fabs(d) < 1e16) {
    std::snprintf(buf, sizeof buf, "%.0f.0", d);
    return buf;
  }
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  std::string out(buf, r.ptr);
  if (auto e = out.find("e+"); e != std::string::npos) out.erase(e + 1, 1);
  return out;
}

YamlValue json_to_value(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: {
      YamlValue m = YamlValue::map();
      for (auto& kv : v.as_object()) m.add(std::string(kv.key()), json_to_value(kv.value()));
      return m;
    }
    case json::kind::array: {
      YamlValue s = YamlValue::seq();
      for (auto& item : v.as_array()) s.push(json_to_value(item));
      return s;
    }
    case json::kind::string: return YamlValue::string(std::string(v.as_string()));
    case json::kind::bool_: return YamlValue::boolean(v.as_bool());
    case json::kind::null: return YamlValue::null();
    default: return YamlValue::number(json_number_text(v));
  }
}

void read_lockfile_fields(const json::object& o, Manifest& m) {
  if (auto* n = o.if_contains("dependenciesMeta"); n && n->is_object() && !n->as_object().empty())
    m.dependencies_meta = json_to_value(*n);
  if (auto* pc = o.if_contains("publishConfig"); pc && pc->is_object())
    if (auto* d = pc->as_object().if_contains("directory"); d && d->is_string())
      m.publish_directory = std::string(d->as_string());
}

}  // namespace

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
  read_lockfile_fields(o, m);
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
