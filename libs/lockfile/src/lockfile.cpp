#include "tarn/lockfile/lockfile.hpp"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <optional>
#include <atomic>
#include <cctype>
#include <sstream>

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
  return Error::failed(Code::BrokenLockfile, "failed to read " + path + ": " + why);
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
      return Error::not_found(Code::NoLockfile,
                              "Cannot install with \"frozen-lockfile\" because " + path + " is absent");
    return text.error();
  }
  return parse(*text, path);
}

namespace {

// What one YAML document (or one chunk of it) contributes to the lockfile.
struct Partial {
  std::optional<std::string> lockfile_version;
  std::optional<bool> auto_install_peers;
  std::map<std::string, std::string> patched;
  std::map<std::string, std::string> overrides;
  std::vector<Importer> importers;
  std::vector<std::pair<std::string, PackageMeta>> packages;
  std::vector<Snapshot> snapshots;
};

Result<void> read_importers(const YAML::Node& imps, Partial& out, const std::string& path) {
  if (!imps.IsMap()) return {};
  for (auto it : imps) {
    Importer imp;
    imp.id = ImporterId(it.first.Scalar());
    if (!it.second.IsMap()) {
      out.importers.push_back(std::move(imp));
      continue;
    }
    for (auto grp : it.second) {
      const std::string& field = grp.first.Scalar();
      DepGroup g;
      if (field == "dependencies") g = DepGroup::Prod;
      else if (field == "devDependencies") g = DepGroup::Dev;
      else if (field == "optionalDependencies") g = DepGroup::Optional;
      else continue;
      const YAML::Node& deps = grp.second;
      if (!deps.IsMap()) return bad(path, "importer " + imp.id.str() + " " + field + " is not a map");
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
    if (rk == "integrity") {
      auto i = Integrity::parse(r.second.Scalar());
      if (!i) return bad(path, key + ": " + i.error().message);
      m.integrity = std::move(*i);
    } else if (rk == "tarball") {
      m.tarball = TarballUrl(r.second.Scalar());
      if (m.resolution == ResolutionKind::Registry) m.resolution = ResolutionKind::Tarball;
    } else if (rk == "type") {
      m.resolution = resolution_kind(r.second.Scalar());
    } else if (rk == "directory") {
      m.directory = r.second.Scalar();
    } else if (rk == "repo") {
      m.git_repo = r.second.Scalar();
    } else if (rk == "commit") {
      m.git_commit = r.second.Scalar();
    } else if (rk == "path") {
      m.git_path = r.second.Scalar();
    }
  }
  return {};
}

// One field of a packages: entry.
Result<void> read_package_field(const std::string& k, const YAML::Node& v, PackageMeta& m, const std::string& key,
                                const std::string& path) {
  if (k == "resolution") return read_resolution(v, m, key, path);
  if (k == "version") m.version = v.Scalar();
  else if (k == "hasBin") m.has_bin = v.as<bool>();
  else if (k == "requiresBuild") m.requires_build = v.as<bool>();
  else if (k == "bundledDependencies") m.bundled = !v.IsScalar() || v.as<bool>();
  else if (k == "os") m.os = string_list(v);
  else if (k == "cpu") m.cpu = string_list(v);
  else if (k == "libc") m.libc = string_list(v);
  else if (k == "peerDependencies" && v.IsMap())
    for (auto kv : v) m.peer_dependencies.push_back(kv.first.Scalar());
  else if (k == "engines" && v.IsMap())
    for (auto kv : v) m.engines.emplace_back(kv.first.Scalar(), kv.second.Scalar());
  return {};
}

// One pass over each entry's fields: yaml-cpp's node["key"] is a linear search that
// allocates, and it was half the lockfile time on alotta-modules.
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

Result<void> read_snapshots(const YAML::Node& snaps, Partial& out, const std::string& path) {
  if (!snaps.IsMap()) return {};
  out.snapshots.reserve(snaps.size());
  for (auto it : snaps) {
    Snapshot s;
    auto dp = DepPath::parse(it.first.Scalar());
    if (!dp) return bad(path, dp.error().message);
    s.key = std::move(*dp);
    if (it.second.IsMap()) {
      for (auto f : it.second) {
        const std::string& k = f.first.Scalar();
        if (k == "dependencies") {
          auto d = read_deps(f.second, path, s.key.str() + " dependencies");
          if (!d) return d.error();
          s.dependencies = std::move(*d);
        } else if (k == "optionalDependencies") {
          auto d = read_deps(f.second, path, s.key.str() + " optionalDependencies");
          if (!d) return d.error();
          s.optional_dependencies = std::move(*d);
        } else if (k == "optional") {
          s.optional = f.second.as<bool>();
        }
      }
    }
    out.snapshots.push_back(std::move(s));
  }
  return {};
}

Result<void> read_document(const YAML::Node& root, Partial& out, const std::string& path) {
  if (!root.IsMap()) return {};
  for (auto top : root) {
    const std::string& k = top.first.Scalar();
    Result<void> r;
    if (k == "lockfileVersion") {
      out.lockfile_version = top.second.as<std::string>();
    } else if (k == "settings") {
      if (top.second.IsMap())
        for (auto kv : top.second)
          if (kv.first.Scalar() == "autoInstallPeers") out.auto_install_peers = kv.second.as<bool>();
    } else if (k == "overrides") {
      if (top.second.IsMap())
        for (auto kv : top.second) out.overrides[kv.first.Scalar()] = kv.second.Scalar();
    } else if (k == "patchedDependencies") {
      if (top.second.IsMap())
        for (auto kv : top.second) {
          // pnpm 8 wrote {path, hash}; 9.0 lockfiles write the hash alone.
          const YAML::Node& v = kv.second;
          out.patched[kv.first.Scalar()] = v.IsMap() && v["hash"] ? v["hash"].Scalar() : v.Scalar();
        }
    } else if (k == "importers") {
      r = read_importers(top.second, out, path);
    } else if (k == "packages") {
      r = read_packages(top.second, out, path);
    } else if (k == "snapshots") {
      r = read_snapshots(top.second, out, path);
    }
    if (!r) return r.error();
  }
  return {};
}

bool is_doc_marker(std::string_view line, std::string_view m) {
  return line.substr(0, 3) == m && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

struct DocRange {
  size_t begin = SIZE_MAX, end = 0;
};

// The document to read: the last one with a graph section (as Lockfile::parse's full
// path). Documents are the line ranges between "---" markers. Empty when the text uses
// directives or "..." markers.
std::optional<DocRange> graph_document(const std::vector<std::string_view>& lines) {
  DocRange d;
  size_t cur = 0;
  for (size_t i = 0; i <= lines.size(); ++i) {
    bool boundary = i == lines.size() || is_doc_marker(lines[i], "---");
    if (i < lines.size() && (lines[i].starts_with("%") || is_doc_marker(lines[i], "..."))) return std::nullopt;
    if (!boundary) continue;
    for (size_t k = cur; k < i; ++k)
      if (lines[k].starts_with("importers:") || lines[k].starts_with("packages:") ||
          lines[k].starts_with("snapshots:")) {
        d = {cur, i};
        break;
      }
    cur = i + 1;
  }
  if (d.begin == SIZE_MAX) return std::nullopt;
  return d;
}

bool is_key_line(std::string_view l) {
  size_t i = 0;
  while (i < l.size() && (std::isalnum(static_cast<unsigned char>(l[i])) || l[i] == '_' || l[i] == '-')) ++i;
  return i > 0 && i < l.size() && l[i] == ':' && (i + 1 == l.size() || l[i + 1] == ' ' || l[i + 1] == '\r');
}

// The entries' indentation of a block section (lines (first, end)), and its size in
// bytes; 0 indentation when a line has a shape chunking cannot keep valid.
std::pair<size_t, size_t> section_shape(const std::vector<std::string_view>& lines, size_t first, size_t end) {
  size_t indent = 0, bytes = 0;
  for (size_t k = first + 1; k < end; ++k) {
    bytes += lines[k].size() + 1;
    std::string_view b = lines[k];
    size_t sp = b.find_first_not_of(' ');
    if (sp == std::string_view::npos || b[sp] == '#' || b[sp] == '\r') continue;
    if (!indent) indent = sp;
    if (b.find('\t') != std::string_view::npos || b[sp] == '&' || b[sp] == '*' || b[sp] == '!' ||
        (sp == indent && (b[sp] == '{' || b[sp] == '[' || b[sp] == '?' || b[sp] == '-')))
      return {0, bytes};
  }
  return {indent, bytes};
}

// Cuts one packages:/snapshots: section at entry boundaries into chunks of about
// `target` bytes, each repeating the section's key line.
void chunk_section(const std::vector<std::string_view>& lines, size_t first, size_t end, size_t indent,
                   size_t target, std::vector<std::string>& chunks) {
  std::string_view l = lines[first];
  std::string chunk = std::string(l) + "\n";
  size_t header = chunk.size();
  for (size_t k = first + 1; k < end; ++k) {
    std::string_view b = lines[k];
    bool entry_start = b.size() > indent && b.find_first_not_of(' ') == indent && b[indent] != '#';
    if (entry_start && chunk.size() - header >= target) {
      chunks.push_back(std::move(chunk));
      chunk = std::string(l) + "\n";
    }
    chunk.append(b).push_back('\n');
  }
  chunks.push_back(std::move(chunk));
}

// yaml-cpp scans the 390 KB alotta-modules lockfile in 110-130 ms on one core here, which
// is most of a hot install's CPU before linking. pnpm writes every packages:/snapshots:
// entry as a block at one indentation, so the text splits at entry boundaries into
// chunks that are each a valid document, parsed on all cores. Returns no chunks when the
// text is shaped otherwise (flow style, directives, anchors, tabs...), and the caller
// parses the whole text instead.
std::vector<std::string> split_for_parallel_parse(std::string_view text, size_t pieces) {
  std::vector<std::string_view> lines;
  for (size_t i = 0; i < text.size();) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    lines.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  auto doc = graph_document(lines);
  if (!doc) return {};
  std::string head;
  std::vector<std::string> chunks;
  for (size_t i = doc->begin; i < doc->end;) {
    std::string_view l = lines[i];
    if (l.empty() || l[0] == '#' || l[0] == ' ' || l == "\r") {
      if (!l.empty() && l[0] == ' ') return {};  // indented text outside any top-level key
      ++i;
      continue;
    }
    if (l.find('\t') != std::string_view::npos || !is_key_line(l)) return {};
    size_t end = i + 1;
    while (end < doc->end && (lines[end].empty() || lines[end][0] == ' ' || lines[end][0] == '#' || lines[end] == "\r"))
      ++end;
    std::string_view key = l.substr(0, l.find(':'));
    bool block = l.substr(key.size() + 1).find_first_not_of(" \r") == std::string_view::npos;
    if (!block || (key != "packages" && key != "snapshots")) {
      for (size_t k = i; k < end; ++k) head.append(lines[k]).push_back('\n');
      i = end;
      continue;
    }
    auto [indent, bytes] = section_shape(lines, i, end);
    if (!indent && end > i + 1) return {};
    chunk_section(lines, i, end, indent, std::max<size_t>(bytes / std::max<size_t>(pieces, 1), 16 * 1024), chunks);
    i = end;
  }
  chunks.insert(chunks.begin(), std::move(head));
  return chunks;
}

// Counts documents and ignores everything else.
struct DocumentCounter : YAML::EventHandler {
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp 0.7's LoadAll never returns on some malformed texts (test/fuzz/regressions/
// lockfile): it reads empty documents without consuming a token and grows its vector until
// memory runs out. A document starts at most once per line, so a first pass that only counts
// documents and stops past that bound tells whether LoadAll ends. Throws as LoadAll would.
// It costs ~40 ms on alotta-modules' 390 KB (LoadAll: ~45 ms), on this fallback path only.
bool load_all_ends(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  size_t bound = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 2;
  for (size_t n = 0; n <= bound; ++n)
    if (!parser.HandleNextDocument(counter)) return true;
  return false;
}

// The whole-text path: any YAML shape, and error messages with the real line numbers.
Result<Partial> read_whole(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    if (!load_all_ends(text)) return bad(path, "not valid YAML: a document that never ends");
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
  Partial p;
  try {
    if (auto r = read_document(root, p, path); !r) return r.error();
  } catch (const YAML::Exception& e) {
    return bad(path, std::string("unexpected shape: ") + e.what());
  }
  return p;
}

// Chunks in parallel; nullopt when any chunk is not valid YAML on its own (the whole-text
// path then reports the error with its real position).
std::optional<Result<Partial>> read_chunks(const std::vector<std::string>& chunks, const std::string& path) {
  std::vector<std::optional<Result<Partial>>> parts(chunks.size());
  std::atomic<bool> invalid{false};
  tbb::parallel_for(size_t(0), chunks.size(), [&](size_t i) {
    YAML::Node root;
    try {
      root = YAML::Load(chunks[i]);
    } catch (const YAML::Exception&) {
      invalid = true;
      return;
    }
    Partial p;
    try {
      if (auto r = read_document(root, p, path); !r) return void(parts[i] = r.error());
    } catch (const YAML::Exception& e) {
      return void(parts[i] = bad(path, std::string("unexpected shape: ") + e.what()));
    }
    parts[i] = std::move(p);
  });
  if (invalid) return std::nullopt;
  Partial all;
  for (auto& part : parts) {
    if (!*part) return Result<Partial>(part->error());
    Partial& p = **part;
    if (p.lockfile_version) all.lockfile_version = std::move(p.lockfile_version);
    if (p.auto_install_peers) all.auto_install_peers = p.auto_install_peers;
    all.patched.merge(p.patched);
    all.overrides.merge(p.overrides);
    for (auto& x : p.importers) all.importers.push_back(std::move(x));
    for (auto& x : p.packages) all.packages.push_back(std::move(x));
    for (auto& x : p.snapshots) all.snapshots.push_back(std::move(x));
  }
  return Result<Partial>(std::move(all));
}

}  // namespace

Result<Lockfile> Lockfile::parse(std::string_view text_in, const std::string& path) {
  std::string text(text_in);
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  size_t pieces = 2 * static_cast<size_t>(tbb::this_task_arena::max_concurrency());
  auto chunks = split_for_parallel_parse(text, pieces);
  std::optional<Result<Partial>> read;
  if (!chunks.empty()) read = read_chunks(chunks, path);
  if (!read) read = read_whole(text, path);
  if (!*read) return read->error();
  Partial& p = **read;

  Lockfile lf;
  if (!p.lockfile_version) return bad(path, "no lockfileVersion");
  lf.lockfile_version = *p.lockfile_version;
  if (lf.lockfile_version != "9.0" && lf.lockfile_version != "9")
    return Error::failed(Code::LockfileBreakingChange,
                         "failed to read " + path + ": lockfileVersion " + lf.lockfile_version +
                             " is not supported (tarn reads lockfileVersion 9.0)");
  if (p.auto_install_peers) lf.auto_install_peers = *p.auto_install_peers;
  lf.importers = std::move(p.importers);
  lf.patched_dependencies = std::move(p.patched);
  lf.overrides = std::move(p.overrides);
  lf.packages.reserve(p.packages.size());
  for (auto& [k, m] : p.packages) lf.packages.insert_or_assign(std::move(k), std::move(m));
  lf.snapshots = std::move(p.snapshots);
  lf.snapshot_index.reserve(lf.snapshots.size());
  for (size_t i = 0; i < lf.snapshots.size(); ++i) lf.snapshot_index.emplace(lf.snapshots[i].key.str(), i);

  // Every snapshot needs its metadata, and every reference must land on a snapshot.
  for (auto& s : lf.snapshots) {
    if (!lf.packages.count(std::string(s.key.without_peers())))
      return Error::failed(Code::LockfileMissingDependency,
                           "failed to read " + path + ": snapshot " + s.key.str() + " is missing from packages:");
    for (auto* list : {&s.dependencies, &s.optional_dependencies})
      for (auto& d : *list)
        if (!d.ref.is_link() && !lf.snapshot_index.count(d.ref.target.str()))
          return Error::failed(Code::LockfileMissingDependency,
                               "failed to read " + path + ": " + s.key.str() + " depends on " +
                                   d.ref.target.str() + ", which is missing from snapshots:");
  }
  for (auto& imp : lf.importers)
    for (auto& d : imp.deps)
      if (!d.ref.is_link() && !lf.snapshot_index.count(d.ref.target.str()))
        return Error::failed(Code::LockfileMissingDependency,
                             "failed to read " + path + ": importer " + imp.id.str() + " depends on " +
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

std::string_view resolution_kind_name(ResolutionKind k) {
  switch (k) {
    case ResolutionKind::Registry: return "registry";
    case ResolutionKind::Tarball: return "tarball";
    case ResolutionKind::Directory: return "directory";
    case ResolutionKind::Git: return "git";
    case ResolutionKind::Other: break;
  }
  return "unknown";
}

const Importer* Lockfile::importer(std::string_view id) const {
  for (auto& i : importers)
    if (i.id.str() == id) return &i;
  return nullptr;
}

}  // namespace tarn
