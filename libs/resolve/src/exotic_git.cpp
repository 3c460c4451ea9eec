// git specifiers, as pnpm 12.21's git resolver pins them (resolving-git-resolver
// resolve_ref.rs): the ref becomes a commit through `git ls-remote`, the package is
// `name@git+<repo>#<commit>[&path:<dir>]` with resolution {commit, [path,] repo, type: git}.
// Hosted shorthands (github:, user/repo) and hosted URLs resolve through the host's archive
// (codeload) in pnpm: tarn refuses those rather than record something else.
#include <map>
#include <set>

#include "packument_json.hpp"
#include "walk_internal.hpp"

namespace tarn::resolve {

namespace {

struct GitSpec {
  std::string repo, committish, path;
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

Error refuse(const WantedSpec& ws, const std::string& why) {
  return Error::failed(Code::Unsupported, "failed to resolve " + ws.name.str() + "@" + ws.text + ": " + why);
}

// git+<url>, git://, or an http(s) URL ending in .git; then #<committish>&path:<dir>.
Result<GitSpec> parse_git(const WantedSpec& ws) {
  std::string url = ws.text;
  if (starts_with(url, "git+")) url = url.substr(4);
  else if (!starts_with(url, "git://") && !starts_with(url, "http://") && !starts_with(url, "https://"))
    return refuse(ws, "tarn resolves git dependencies by URL only (git+file:, git+http(s):, git+ssh:, git://), "
                      "not hosted shorthands, which pnpm resolves through the host's archive API");
  for (auto host : {"github.com", "gitlab.com", "bitbucket.org", "gist.github.com"})
    if (url.find(std::string("://") + host + "/") != std::string::npos ||
        url.find(std::string("@") + host + ":") != std::string::npos || url.find(std::string("@") + host + "/") != std::string::npos)
      return refuse(ws, std::string("pnpm resolves ") + host + " repositories through the host's archive API, which tarn does not");
  GitSpec g;
  size_t hash = url.find('#');
  g.repo = url.substr(0, hash);
  std::string frag = hash == std::string::npos ? "" : url.substr(hash + 1);
  for (size_t b = 0; b <= frag.size() && !frag.empty();) {
    size_t e = frag.find('&', b);
    std::string part = frag.substr(b, e == std::string::npos ? std::string::npos : e - b);
    if (starts_with(part, "path:")) g.path = part.substr(5);
    else if (starts_with(part, "semver:")) return refuse(ws, "tarn does not resolve git semver: ranges yet");
    else if (!part.empty()) g.committish = part;
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return g;
}

bool is_committish(std::string_view r) {
  return r.size() >= 7 && r.size() <= 40 &&
         std::all_of(r.begin(), r.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// pnpm's resolve_ref_from_refs without a range: the ref as written, refs/<ref>, the peeled
// tag, the tag, the branch; a partial commit naming one ref tip.
Result<std::string> commit_from_refs(const std::string& ls_remote, const std::string& ref, const std::string& repo) {
  std::map<std::string, std::string> refs;
  for (size_t b = 0; b < ls_remote.size();) {
    size_t e = ls_remote.find('\n', b);
    std::string line = ls_remote.substr(b, e == std::string::npos ? std::string::npos : e - b);
    if (size_t tab = line.find('\t'); tab != std::string::npos) refs[line.substr(tab + 1)] = line.substr(0, tab);
    if (e == std::string::npos) break;
    b = e + 1;
  }
  for (auto key : {ref, "refs/" + ref, "refs/tags/" + ref + "^{}", "refs/tags/" + ref, "refs/heads/" + ref})
    if (auto it = refs.find(key); it != refs.end()) return it->second;
  if (is_committish(ref)) {
    std::set<std::string> hits;
    for (auto& [k, c] : refs)
      if (starts_with(c, ref)) hits.insert(c);
    if (hits.size() == 1) return *hits.begin();
  }
  return Error::failed(Code::GitUnknownRef, "Could not resolve " + ref + " to a commit of " + repo + ".");
}

}  // namespace

Result<ExoticPick> resolve_git(const ResolveInput& in, const WantedSpec& ws) {
  auto g = parse_git(ws);
  if (!g) return g.error();
  if (!in.exotic.git_ls_remote || !in.exotic.git_manifest) return refuse(ws, "no git runner");
  std::string ref = g->committish.empty() ? "HEAD" : g->committish;
  std::string commit = ref;
  if (!(is_committish(ref) && ref.size() == 40)) {
    auto out = in.exotic.git_ls_remote(g->repo);
    if (!out) return out.error();
    auto c = commit_from_refs(*out, ref, g->repo);
    if (!c) return c.error();
    commit = *c;
  }
  auto text = in.exotic.git_manifest(g->repo, commit, g->path);
  if (!text) return text.error();
  std::string what = ws.name.str() + "@" + ws.text;
  auto p = pick_from_manifest(*text, what);
  if (!p) return p.error();
  auto meta = std::make_shared<PackageMeta>();
  meta->resolution = ResolutionKind::Git;
  meta->git_repo = g->repo;
  meta->git_commit = commit;
  meta->git_path = g->path;
  meta->version = p->doc->versions.front().version.str();
  p->ref = "git+" + g->repo + "#" + commit + (g->path.empty() ? "" : "&path:" + g->path);
  p->meta = std::move(meta);
  return p;
}

}  // namespace tarn::resolve
