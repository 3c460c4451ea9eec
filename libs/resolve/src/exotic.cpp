// Specifiers the registry does not serve, resolved as pnpm 12.21's local, tarball and git
// resolvers do (resolving-local-resolver, resolving-tarball-resolver,
// resolving-git-resolver): the depPath each gets, the packages: entry it records, and the
// manifest its dependencies come from. The I/O (download, unpack, git) is the install's
// (ResolveInput::exotic).
#include <filesystem>

#include "packument_json.hpp"
#include "tarn/fs/fs.hpp"
#include "walk_internal.hpp"

namespace tarn::resolve {

namespace {

namespace stdfs = std::filesystem;

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// "a/b" relative to "a/c" -> "../b" (POSIX, as pnpm writes paths).
std::string relative_path(const std::string& from, const std::string& to) {
  std::string rel = stdfs::path(to).lexically_relative(from).generic_string();
  return rel.empty() ? "." : rel;
}

// pnpm's normalize_specifier: "file:///x" and "file:/x" are "/x", "file:/./x" is "./x".
std::string local_spec(std::string_view text) {
  if (text.empty() || text[0] != '/') return std::string(text);
  size_t k = text.find_first_not_of('/');
  std::string_view rest = k == std::string_view::npos ? "" : text.substr(k);
  if (!rest.empty() && (rest[0] == '~' || rest[0] == '.')) return std::string(rest);
  return "/" + std::string(rest);
}


// file:<dir> (pnpm's directory resolution: id and resolution relative to the lockfile's
// directory, no `version:`) and file:<x.tgz> (integrity of the file, `tarball: file:...`).
Result<ExoticPick> resolve_file(const ResolveInput& in, const WantedSpec& ws, const std::string& base_dir,
                                const std::string& lockfile_dir) {
  std::string spec = local_spec(ws.text);
  if (!spec.empty() && spec[0] == '~')
    return Error::failed(Code::Unsupported, "failed to resolve " + ws.name.str() + "@file:" + ws.text +
                                                ": tarn does not resolve file: paths under the home directory");
  bool absolute = !spec.empty() && spec[0] == '/';
  std::string path = absolute ? spec : (stdfs::path(base_dir) / spec).lexically_normal().generic_string();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::string rel = absolute ? spec : relative_path(lockfile_dir, path);
  std::string what = ws.name.str() + "@file:" + ws.text;
  auto meta = std::make_shared<PackageMeta>();
  if (is_tarball_filename(spec)) {
    if (!in.exotic.tarball)
      return Error::failed(Code::Unsupported, "failed to resolve " + what + ": no tarball fetcher");
    auto t = in.exotic.tarball(path);
    if (!t) return t.error();
    auto p = pick_from_manifest(t->manifest, what);
    if (!p) return p;
    meta->resolution = ResolutionKind::Tarball;
    meta->integrity = t->integrity;
    meta->tarball = TarballUrl("file:" + rel);
    meta->version = p->doc->versions.front().version.str();
    p->ref = "file:" + rel;
    p->meta = meta;
    return p;
  }
  auto text = fs::read_file(path + "/package.json");
  if (!text)
    return Error::failed(Code::BadPackageJson, "failed to resolve " + what + ": " + path + " has no package.json");
  auto p = pick_from_manifest(*text, what);
  if (!p) return p;
  meta->resolution = ResolutionKind::Directory;
  meta->directory = rel;
  p->ref = "file:" + rel;
  p->meta = meta;
  p->dir = path;
  return p;
}

// A tarball URL (pnpm's tarball resolver): id = the URL, resolution {integrity, tarball},
// and the manifest read from the tarball.
Result<ExoticPick> resolve_url(const ResolveInput& in, const WantedSpec& ws) {
  std::string what = ws.name.str() + "@" + ws.text;
  if (!in.exotic.tarball) return Error::failed(Code::Unsupported, "failed to resolve " + what + ": no tarball fetcher");
  auto t = in.exotic.tarball(ws.text);
  if (!t) return t.error();
  auto p = pick_from_manifest(t->manifest, what);
  if (!p) return p;
  auto meta = std::make_shared<PackageMeta>();
  meta->resolution = ResolutionKind::Tarball;
  meta->integrity = t->integrity;
  meta->tarball = TarballUrl(ws.text);
  meta->version = p->doc->versions.front().version.str();
  p->ref = ws.text;
  p->meta = meta;
  return p;
}

}  // namespace

// The package's name and manifest, as a one-version document the walk can hold.
Result<ExoticPick> pick_from_manifest(const std::string& text, const std::string& what) {
  auto m = detail::parse_manifest(text, what);
  if (!m) return m.error();
  auto name = PkgName::parse(m->first);
  if (!name) return Error::failed(Code::BadPackageJson, "failed to read the package.json of " + what + ": " + name.error().message);
  auto doc = std::make_shared<Packument>();
  doc->name = *name;
  doc->versions.push_back(std::move(m->second));
  ExoticPick p;
  p.doc = std::move(doc);
  return p;
}

// pnpm's is_tarball_filename: a file: path (or a bare path) naming an archive.
bool is_tarball_filename(std::string_view s) { return ends_with(s, ".tgz") || ends_with(s, ".tar.gz") || ends_with(s, ".tar"); }

// pnpm's parse_npm_tarball_url for a URL on the package's registry: <registry><name>/-/
// <bare name>-<version>.tgz resolves from the registry as that exact version.
std::optional<WantedSpec> registry_tarball(const ResolveInput& in, const WantedSpec& ws) {
  if (ws.kind != WantedSpec::Kind::Tarball || !in.registry_for) return std::nullopt;
  std::string reg = in.registry_for(ws.name);
  if (ws.text.compare(0, reg.size(), reg) != 0) return std::nullopt;
  size_t scheme = ws.text.find("://");
  size_t path_at = scheme == std::string::npos ? std::string::npos : ws.text.find('/', scheme + 3);
  if (path_at == std::string::npos) return std::nullopt;
  std::string path = ws.text.substr(path_at + 1);
  size_t sep = path.find("/-/");
  if (sep == std::string::npos || sep == 0 || path.find("/-/", sep + 1) != std::string::npos) return std::nullopt;
  std::string raw = path.substr(0, sep), file = path.substr(sep + 3);
  for (size_t at; (at = raw.find("%2f")) != std::string::npos || (at = raw.find("%2F")) != std::string::npos;)
    raw.replace(at, 3, "/");
  auto name = PkgName::parse(raw);
  if (!name) return std::nullopt;
  if (ends_with(file, ".tgz")) file.resize(file.size() - 4);
  std::string bare(name->bare());
  if (file.compare(0, bare.size() + 1, bare + "-") != 0) return std::nullopt;
  auto parsed = WantedSpec::parse(ws.name, "npm:" + name->str() + "@" + file.substr(bare.size() + 1));
  if (!parsed || parsed->kind != WantedSpec::Kind::Version) return std::nullopt;
  parsed->aliased = !(*name == ws.name);
  return *parsed;
}

Result<ExoticPick> resolve_exotic(const ResolveInput& in, const WantedSpec& ws, const std::string& base_dir,
                                  const std::string& lockfile_dir) {
  switch (ws.kind) {
    case WantedSpec::Kind::File: return resolve_file(in, ws, base_dir, lockfile_dir);
    case WantedSpec::Kind::Tarball: return resolve_url(in, ws);
    case WantedSpec::Kind::Git: return resolve_git(in, ws);
    default: break;
  }
  return Error::failed(Code::Unsupported, "failed to resolve " + ws.name.str() + "@" + ws.text + ": not a file:, tarball or git specifier");
}

}  // namespace tarn::resolve
