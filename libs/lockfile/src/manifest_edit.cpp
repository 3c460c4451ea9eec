#include "tarn/lockfile/manifest_edit.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "tarn/fs/fs.hpp"

namespace tarn {

namespace json = boost::json;

namespace {

// pnpm's guess order when it looks for the field that already declares an alias.
constexpr const char* kDepFields[] = {"optionalDependencies", "dependencies", "devDependencies"};

// The leading whitespace of the first indented line; capped at 10 characters as
// JSON.stringify caps its `space` argument.
std::string detect_indent(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    size_t n = line.find_first_not_of(" \t");
    if (n != std::string_view::npos && n > 0) return std::string(line.substr(0, std::min<size_t>(n, 10)));
    pos = end + 1;
  }
  return "";
}

void render_value(const json::value& v, const std::string& indent, std::string& depth, std::string& out);

void render_container(const json::value& v, const std::string& indent, std::string& depth, std::string& out) {
  bool obj = v.is_object();
  size_t n = obj ? v.get_object().size() : v.get_array().size();
  out += obj ? '{' : '[';
  if (n == 0) {
    out += obj ? '}' : ']';
    return;
  }
  std::string nl = indent.empty() ? "" : "\n";
  std::string sep = indent.empty() ? ":" : ": ";
  depth += indent;
  size_t i = 0;
  auto item = [&](const json::value& x) {
    out += nl + depth;
    render_value(x, indent, depth, out);
    if (++i < n) out += ',';
  };
  if (obj) {
    for (auto& kv : v.get_object()) {
      out += nl + depth + json::serialize(json::string(kv.key())) + sep;
      render_value(kv.value(), indent, depth, out);
      if (++i < n) out += ',';
    }
  } else {
    for (auto& x : v.get_array()) item(x);
  }
  depth.resize(depth.size() - indent.size());
  out += nl + depth;
  out += obj ? '}' : ']';
}

void render_value(const json::value& v, const std::string& indent, std::string& depth, std::string& out) {
  if (v.is_object() || v.is_array()) return render_container(v, indent, depth, out);
  out += json::serialize(v);
}

json::object* field(json::value& doc, const char* name) {
  auto* f = doc.as_object().if_contains(name);
  return f && f->is_object() ? &f->as_object() : nullptr;
}

}  // namespace

Result<ManifestDoc> ManifestDoc::parse(std::string_view text, const std::string& path) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Error::failed(Code::JsonParse, "failed to read " + path + ": not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) return Error::failed(Code::JsonParse, "failed to read " + path + ": not a JSON object");
  for (const char* f : {"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"}) {
    auto* x = v.as_object().if_contains(f);
    if (x && !x->is_object() && !x->is_null())
      return Error::failed(Code::BadPackageJson, "failed to edit " + path + ": the " + f + " field must be an object");
  }
  ManifestDoc d;
  d.doc_ = std::move(v);
  d.indent_ = detect_indent(text);
  d.final_newline_ = !text.empty() && text.back() == '\n';
  return d;
}

Result<ManifestDoc> ManifestDoc::load(const std::string& path) {
  auto text = fs::read_file(path);
  if (!text) return text.error();
  return parse(*text, path);
}

std::optional<DepGroup> ManifestDoc::group_of(const std::string& alias) const {
  auto& self = const_cast<json::value&>(doc_);
  for (const char* f : kDepFields)
    if (auto* o = field(self, f); o && o->contains(alias) && o->at(alias).is_string()) {
      std::string_view s = f;
      return s == "dependencies" ? DepGroup::Prod : s == "devDependencies" ? DepGroup::Dev : DepGroup::Optional;
    }
  return std::nullopt;
}

std::optional<std::string> ManifestDoc::spec_of(const std::string& alias) const {
  auto g = group_of(alias);
  if (!g) return std::nullopt;
  auto* o = field(const_cast<json::value&>(doc_), std::string(group_field(*g)).c_str());
  return std::string(o->at(alias).as_string());
}

void ManifestDoc::set(DepGroup group, const std::string& alias, const std::string& spec) {
  std::string name(group_field(group));
  auto& root = doc_.as_object();
  if (!root.contains(name) || root.at(name).is_null()) root[name] = json::object();
  root[name].as_object()[alias] = spec;
  for (const char* f : kDepFields)
    if (f != name)
      if (auto* o = field(doc_, f)) o->erase(alias);
}

void ManifestDoc::set_peer(const std::string& alias, const std::string& spec) {
  auto& root = doc_.as_object();
  if (!root.contains("peerDependencies") || root.at("peerDependencies").is_null())
    root["peerDependencies"] = json::object();
  root["peerDependencies"].as_object()[alias] = spec;
}

bool ManifestDoc::remove(const std::string& alias) {
  bool found = false;
  for (const char* f : {"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"})
    if (auto* o = field(doc_, f)) found |= o->erase(alias) > 0;
  return found;
}

std::string ManifestDoc::render() const {
  // pnpm's on-write normalization: each dependency field sorted by name, and dropped
  // when it has no entries. (Boost.JSON 1.81's erase moves the last key into the gap, so
  // the root is rebuilt in order instead.)
  json::object root;
  for (auto& kv : doc_.as_object()) {
    std::string_view k = kv.key();
    bool dep_field = k == "dependencies" || k == "devDependencies" || k == "optionalDependencies" ||
                     k == "peerDependencies";
    if (!dep_field || !kv.value().is_object()) {
      root[k] = kv.value();
      continue;
    }
    if (kv.value().as_object().empty()) continue;
    std::vector<std::pair<std::string_view, const json::value*>> items;
    for (auto& d : kv.value().as_object()) items.emplace_back(d.key(), &d.value());
    std::sort(items.begin(), items.end(), [](auto& a, auto& b) { return a.first < b.first; });
    json::object sorted;
    for (auto& [name, val] : items) sorted[name] = *val;
    root[k] = std::move(sorted);
  }
  std::string out, depth;
  render_value(json::value(std::move(root)), indent_, depth, out);
  if (final_newline_) out += '\n';
  return out;
}

Result<void> ManifestDoc::save(const std::string& path) const { return fs::write_file_atomic(path, render()); }

}  // namespace tarn
