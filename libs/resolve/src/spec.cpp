#include "tarn/resolve/spec.hpp"

#include <algorithm>

namespace tarn::resolve {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// pnpm treats git hosts' shorthands and git URLs as git specifiers (hosted-git-info).
bool looks_like_git(std::string_view s) {
  for (auto p : {"git+", "git://", "github:", "gitlab:", "bitbucket:", "gist:"})
    if (starts_with(s, p)) return true;
  if (ends_with(s, ".git")) return true;
  // "user/repo" or "user/repo#ref": a GitHub shorthand (npm's rule: no '@' first, one '/').
  if (s.empty() || s[0] == '@' || s[0] == '.' || s[0] == '/') return false;
  auto slash = s.find('/');
  return slash != std::string_view::npos && s.find(':') == std::string_view::npos &&
         s.find('/', slash + 1) == std::string_view::npos && slash > 0;
}

// npm's dist-tag rule: a tag must survive encodeURIComponent unchanged and not be a range.
bool valid_tag(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' ||
           c == '\'' || c == '(' || c == ')';
  });
}

Result<WantedSpec> registry_spec(WantedSpec w, std::string_view spec) {
  std::string_view t = spec;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  w.text = std::string(t);
  if (auto v = Version::parse(t)) {
    w.kind = WantedSpec::Kind::Version;
    w.range = Range::parse(v->str());
    return w;
  }
  if (auto r = Range::parse(t)) {
    w.kind = WantedSpec::Kind::Range;
    w.range = std::move(r);
    return w;
  }
  if (valid_tag(t)) {
    w.kind = WantedSpec::Kind::Tag;
    return w;
  }
  return Error::failed(Code::BadPackageJson, "failed to parse the specifier of " + w.name.str() + ": \"" +
                                                 std::string(spec) + "\" is not a version, range or dist-tag");
}

}  // namespace

Result<WantedSpec> WantedSpec::parse(const PkgName& alias, std::string_view spec) {
  WantedSpec w;
  w.name = alias;
  using K = Kind;
  auto with = [&](K k, std::string_view rest) {
    w.kind = k;
    w.text = std::string(rest);
    return Result<WantedSpec>(w);
  };
  if (starts_with(spec, "workspace:")) return with(K::Workspace, spec.substr(10));
  if (starts_with(spec, "link:")) return with(K::Link, spec.substr(5));
  if (starts_with(spec, "file:")) return with(K::File, spec.substr(5));
  if (starts_with(spec, "http://") || starts_with(spec, "https://")) {
    if (ends_with(spec, ".git") || spec.find(".git#") != std::string_view::npos) return with(K::Git, spec);
    return with(K::Tarball, spec);
  }
  if (starts_with(spec, "npm:")) {
    std::string_view rest = spec.substr(4);
    size_t at = rest.find('@', rest.empty() || rest[0] != '@' ? 0 : 1);
    auto name = PkgName::parse(rest.substr(0, at));
    if (!name)
      return Error::failed(Code::BadPackageJson, "failed to parse the specifier of " + alias.str() + ": \"" +
                                                     std::string(spec) + "\" names no valid package");
    w.name = *name;
    w.aliased = true;
    return registry_spec(std::move(w), at == std::string_view::npos ? "latest" : rest.substr(at + 1));
  }
  if (looks_like_git(spec)) return with(K::Git, spec);
  // pnpm's parse_local_path: a bare path is a file: tarball when it names an archive, else
  // a link: to the directory (not injected).
  if (starts_with(spec, "./") || starts_with(spec, "../") || starts_with(spec, "/") || starts_with(spec, "~/")) {
    bool archive = ends_with(spec, ".tgz") || ends_with(spec, ".tar.gz") || ends_with(spec, ".tar");
    return with(archive ? K::File : K::Link, spec);
  }
  // An empty specifier means any version, as "*" does.
  return registry_spec(std::move(w), spec.empty() ? "*" : spec);
}

bool WantedSpec::satisfied_by(const Version& v) const {
  if (!range || !range->satisfies(v)) return false;
  for (auto& r : also)
    if (!r.satisfies(v)) return false;
  return true;
}

}  // namespace tarn::resolve
