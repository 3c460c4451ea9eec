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

#include "read.hpp"
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

std::string DepRef::text(const PkgName& alias) const {
  switch (kind) {
    case Kind::Link: return "link:" + link;
    case Kind::Alias: return target.str();
    case Kind::Version: break;
  }
  // A version under its own name: the snapshot key without "<alias>@".
  std::string_view t = target.str();
  return std::string(t.substr(std::min(t.size(), alias.str().size() + 1)));
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

using detail::bad;
using detail::Partial;

bool is_doc_marker(std::string_view line, std::string_view m) {
  return line.substr(0, 3) == m && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

struct DocRange {
  size_t begin = SIZE_MAX, end = 0;
};

bool is_key_line(std::string_view l) {
  size_t i = 0;
  while (i < l.size() && (std::isalnum(static_cast<unsigned char>(l[i])) || l[i] == '_' || l[i] == '-')) ++i;
  return i > 0 && i < l.size() && l[i] == ':' && (i + 1 == l.size() || l[i + 1] == ' ' || l[i + 1] == '\r');
}

// The document to read, as Lockfile::parse's full path picks it: the last one with content
// (an env document comes first and has importers, packages and snapshots too; the project's
// own may have none of them). Documents are the line ranges between "---" markers. Empty
// when the text uses directives or "..." markers, or when that document does not start its
// top level with a plain key (the full path then reads it).
std::optional<DocRange> graph_document(const std::vector<std::string_view>& lines) {
  DocRange d;
  bool keyed = false;
  size_t cur = 0;
  for (size_t i = 0; i <= lines.size(); ++i) {
    bool boundary = i == lines.size() || is_doc_marker(lines[i], "---");
    if (i < lines.size() && (lines[i].starts_with("%") || is_doc_marker(lines[i], "..."))) return std::nullopt;
    if (!boundary) continue;
    for (size_t k = cur; k < i; ++k) {
      std::string_view l = lines[k];
      if (l.empty() || l == "\r" || l[0] == '#') continue;
      d = {cur, i};
      keyed = is_key_line(l);
      break;
    }
    cur = i + 1;
  }
  if (d.begin == SIZE_MAX || !keyed) return std::nullopt;
  return d;
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
      if (docs[i].IsMap()) pick = i;  // the last map (see graph_document)
    if (pick == docs.size() && !docs.empty()) pick = docs.size() - 1;
    if (pick < docs.size()) root = docs[pick];
  } catch (const YAML::Exception& e) {
    return bad(path, std::string("not valid YAML: ") + e.what());
  }
  if (!root || !root.IsMap()) return bad(path, "not a YAML map");
  Partial p;
  try {
    if (auto r = detail::read_document(root, p, path); !r) return r.error();
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
      if (auto r = detail::read_document(root, p, path); !r) return void(parts[i] = r.error());
    } catch (const YAML::Exception& e) {
      return void(parts[i] = bad(path, std::string("unexpected shape: ") + e.what()));
    }
    parts[i] = std::move(p);
  });
  if (invalid) return std::nullopt;
  Partial all;
  for (auto& part : parts) {
    if (!*part) return Result<Partial>(part->error());
    detail::merge(all, std::move(**part));
  }
  return Result<Partial>(std::move(all));
}

}  // namespace

namespace {

// pnpm's normalize_lockfile_content: no BOM, LF line ends.
std::string normalized(std::string_view in) {
  if (in.substr(0, 3) == "\xEF\xBB\xBF") in.remove_prefix(3);
  std::string text(in);
  if (text.find("\r\n") == std::string::npos) return text;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i)
    if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) out += text[i];
  return out;
}

// pnpm's env_document_of: a file starting with "---\n" carries an env document up to the
// next "\n---\n".
std::optional<std::string> env_document_text(const std::string& text) {
  if (text.compare(0, 4, "---\n") != 0) return std::nullopt;
  size_t sep = text.find("\n---\n", 4);
  if (sep == std::string::npos) return std::nullopt;
  return text.substr(4, sep - 4);
}

Result<void> fill(Lockfile& lf, Partial& p, const std::string& path) {
  if (!p.lockfile_version) return bad(path, "no lockfileVersion");
  lf.lockfile_version = *p.lockfile_version;
  if (lf.lockfile_version != "9.0" && lf.lockfile_version != "9")
    return Error::failed(Code::LockfileBreakingChange,
                         "failed to read " + path + ": lockfileVersion " + lf.lockfile_version +
                             " is not supported (tarn reads lockfileVersion 9.0)");
  lf.has_settings = p.settings.has_value();
  if (p.settings) {
    lf.auto_install_peers = p.settings->auto_install_peers;
    lf.dedupe_peers = p.settings->dedupe_peers;
    lf.exclude_links_from_lockfile = p.settings->exclude_links_from_lockfile;
    lf.inject_workspace_packages = p.settings->inject_workspace_packages;
    lf.peers_suffix_max_length = p.settings->peers_suffix_max_length;
  }
  lf.catalogs = std::move(p.catalogs);
  lf.overrides = std::move(p.overrides);
  lf.package_extensions_checksum = std::move(p.package_extensions_checksum);
  lf.pnpmfile_checksum = std::move(p.pnpmfile_checksum);
  lf.patched_dependencies = std::move(p.patched);
  lf.ignored_optional_dependencies = std::move(p.ignored_optional);
  lf.time = std::move(p.time);
  lf.importers = std::move(p.importers);
  lf.packages.reserve(p.packages.size());
  for (auto& [k, m] : p.packages) lf.packages.insert_or_assign(std::move(k), std::move(m));
  lf.snapshots = std::move(p.snapshots);
  lf.reindex();
  return {};
}

// Every snapshot needs its metadata, and every reference must land on a snapshot.
Result<void> validate(const Lockfile& lf, const std::string& path) {
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
  return {};
}

}  // namespace

Result<Lockfile> Lockfile::parse(std::string_view text_in, const std::string& path) {
  std::string text = normalized(text_in);
  if (auto mended = detail::mend_for_yaml_cpp(text)) text = std::move(*mended);
  size_t pieces = 2 * static_cast<size_t>(tbb::this_task_arena::max_concurrency());
  auto chunks = split_for_parallel_parse(text, pieces);
  std::optional<Result<Partial>> read;
  if (!chunks.empty()) read = read_chunks(chunks, path);
  if (!read) read = read_whole(text, path);
  if (!*read) return read->error();

  Lockfile lf;
  if (auto r = fill(lf, **read, path); !r) return r.error();
  // pnpm reads the env document only to install config dependencies, never to install the
  // project; one tarn cannot model is left out (save_lockfile then keeps its text).
  if (auto env = env_document_text(text))
    if (auto e = detail::read_env_document(*env, path)) lf.env = std::move(*e);
  if (auto r = validate(lf, path); !r) return r.error();
  return lf;
}

void Lockfile::reindex() {
  snapshot_index.clear();
  snapshot_index.reserve(snapshots.size());
  for (size_t i = 0; i < snapshots.size(); ++i) snapshot_index.emplace(snapshots[i].key.str(), i);
}

bool PackageMeta::has_peer(std::string_view name) const {
  for (auto& [n, range] : peer_dependencies)
    if (n == name) return true;
  return false;
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
