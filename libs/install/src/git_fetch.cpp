#include "git_fetch.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <optional>
#include <set>

#include "builds.hpp"
#include "context.hpp"
#include "tarn/store/packlist.hpp"

extern char** environ;

namespace tarn {

namespace {

struct GitRun {
  int status = -1;  // exit status; -1: git could not be started
  std::string out, err;
};

// Runs `git <args>` with its output in temporary files (no pipe to drain), without a
// terminal prompt for credentials: an install must never wait on one.
GitRun run_git(const std::vector<std::string>& args, const std::string& tmp) {
  GitRun r;
  std::string out = tmp + "/.git-out", err = tmp + "/.git-err";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).substr(0, 20) != "GIT_TERMINAL_PROMPT=") env.emplace_back(*e);
  env.emplace_back("GIT_TERMINAL_PROMPT=0");
  std::vector<char*> argv{const_cast<char*>("git")}, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, "git", &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return r;
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (auto o = fs::read_file(out)) r.out = std::move(*o);
  if (auto e = fs::read_file(err)) r.err = std::move(*e);
  ::unlink(out.c_str());
  ::unlink(err.c_str());
  return r;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

bool is_commit(std::string_view c) {
  return c.size() == 40 && c.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

// Hooks and fsmonitor of the cloned repository never run: its config is not ours.
const std::vector<std::string> kSafe = {"-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"};

Result<void> checkout(const PackageMeta& m, const std::string& name, const std::string& tmp, const std::string& dest) {
  if (!is_commit(m.git_commit))
    return Error::failed(Code::InvalidGitCommit, "Invalid git commit hash \"" + m.git_commit + "\" for repository \"" +
                                                     m.git_repo + "\". Expected a 40-character hexadecimal SHA.");
  if (m.git_repo.empty() || m.git_repo[0] == '-' || m.git_repo.find('\0') != std::string::npos)
    return Error::failed(Code::InvalidGitRepository,
                         "Invalid git repository \"" + m.git_repo + "\". A repository must not begin with '-'.");
  std::vector<std::string> clone = kSafe;
  for (const char* a : {"clone", "--quiet", "--no-checkout", "--"}) clone.emplace_back(a);
  clone.push_back(m.git_repo);
  clone.push_back(dest);
  GitRun r = run_git(clone, tmp);
  if (r.status < 0)
    return Error::failed(Code::GitNotFound, "`git` executable not found on PATH. Install git to fetch git-hosted packages.");
  if (r.status != 0)
    return Error::failed(Code::GitFetchFailed, "Failed to fetch \"" + name + "\" from the git repository \"" +
                                                   m.git_repo + "\": " + trimmed(r.err));
  std::vector<std::string> co = kSafe;
  for (const char* a : {"-C", dest.c_str(), "checkout", "--quiet", m.git_commit.c_str()}) co.emplace_back(a);
  if (r = run_git(co, tmp); r.status != 0)
    return Error::failed(Code::GitCheckoutFailed, "failed to check out " + m.git_commit + " of " + m.git_repo + ": " +
                                                      trimmed(r.err));
  r = run_git({"-C", dest, "rev-parse", "HEAD"}, tmp);
  if (std::string head = trimmed(r.out); r.status != 0 || head != m.git_commit)
    return Error::failed(Code::GitCheckoutFailed,
                         "received commit " + head + " does not match expected value " + m.git_commit);
  return {};
}

// pnpm's packageShouldBeBuilt: a prepare script, or a prepublish-kind script whose output
// (`main`, default index.js) is missing.
bool needs_prepare(const std::string& pkg_dir, std::string& name, std::string& version) {
  auto text = fs::read_file(fs::join(pkg_dir, "package.json"));
  boost::system::error_code ec;
  boost::json::value v = text ? boost::json::parse(*text, ec) : boost::json::value();
  if (!text || ec || !v.is_object()) return false;
  auto& o = v.as_object();
  if (auto* n = o.if_contains("name"); n && n->is_string()) name = n->as_string();
  if (auto* n = o.if_contains("version"); n && n->is_string()) version = n->as_string();
  auto* scripts = o.if_contains("scripts");
  if (!scripts || !scripts->is_object()) return false;
  auto has = [&](const char* s) {
    auto* x = scripts->as_object().if_contains(s);
    return x && x->is_string() && !x->as_string().empty();
  };
  if (has("prepare")) return true;
  if (!has("prepublish") && !has("prepack") && !has("publish")) return false;
  auto* main = o.if_contains("main");
  std::string m = main && main->is_string() ? std::string(main->as_string()) : "index.js";
  return !fs::exists(fs::join(pkg_dir, m));
}

Result<void> check_prepare(const InstallContext& cx, const PlannedPackage& p, const std::string& pkg_dir) {
  std::string name, version;
  if (!needs_prepare(pkg_dir, name, version)) return {};
  const PackageMeta& m = *p.meta;
  if (cx.opts.ignore_scripts || cx.settings.ignore_scripts) {
    cx.rep.warn("the git-hosted package fetched from " + m.git_repo +
                " has to be built but the build scripts were ignored");
    return {};
  }
  const DepPath& key = p.snapshot->key;
  // pnpm's hint names the rule "name@<git id>"; a bare name approves it too.
  auto rule = [&](const std::string& k) {
    auto it = cx.settings.allow_builds.find(k);
    return it == cx.settings.allow_builds.end() ? std::optional<bool>() : std::optional<bool>(it->second);
  };
  auto exact = rule(std::string(key.without_peers()));
  bool allowed = exact ? *exact : rule(key.name().str()).value_or(false);
  if (!allowed)
    return Error::failed(Code::GitDepPrepareNotAllowed,
                         "The git-hosted package \"" + name + "@" + version +
                             "\" needs to execute build scripts but is not in the \"allowBuilds\" allowlist.");
  return Error::failed(Code::Unsupported, "failed to install " + key.str() +
                                              ": running a git-hosted package's prepare script is not supported by "
                                              "tarn yet; install with pnpm");
}

// The package directory inside the checkout; `path` must stay inside it.
Result<std::string> package_dir(const std::string& checkout, const std::string& path) {
  std::string sub = path;
  while (!sub.empty() && sub.front() == '/') sub.erase(0, 1);
  std::string n = fs::normalize(sub.empty() ? "." : sub);
  std::string dir = n == "." ? checkout : fs::join(checkout, n);
  if (n == ".." || n.rfind("../", 0) == 0 || !fs::is_dir(dir))
    return Error::failed(Code::InvalidPath, "Path \"" + path + "\" is not a valid sub-directory of the git checkout");
  return dir;
}

// Copies the packed files into the staging directory as blobs, directories first.
Result<PackageIndex> stage(const std::string& pkg_dir, const std::vector<PackedFile>& files, int staging_fd) {
  PackageIndex index;
  std::set<std::string> dirs;
  size_t ordinal = 0;
  auto src = fs::Dir::open(pkg_dir);
  if (!src) return src.error();
  for (auto& f : files) {
    for (size_t k = f.path.find('/'); k != std::string::npos; k = f.path.find('/', k + 1))
      if (dirs.insert(f.path.substr(0, k)).second) index.entries.push_back({f.path.substr(0, k), true, false, 0});
    struct stat st;
    if (::fstatat(src->fd(), f.source.c_str(), &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
    auto text = fs::read_file_at(src->fd(), f.source.c_str(), fs::join(pkg_dir, f.source));
    if (!text) return text.error();
    std::string blob = PackageIndex::blob_name(ordinal++);
    if (int e = fs::write_file_at(staging_fd, blob.c_str(), text->data(), text->size(), 0644); e)
      return Error::failed(Code::StoreWrite, "failed to stage " + f.path + ": " + fs::errno_text(e));
    index.entries.push_back({f.path, false, (st.st_mode & 0111) != 0, 0});
  }
  return index;
}

}  // namespace

StoreKey git_store_key(const PlannedPackage& p) {
  const PackageMeta& m = *p.meta;
  return StoreKey::from_git(m.git_repo, m.git_commit, m.git_path);
}

Result<PackageIndex> fetch_git(const InstallContext& cx, const PlannedPackage& p, int staging_fd) {
  const char* t = std::getenv("TMPDIR");
  std::string tmpl = std::string(t && *t ? t : "/tmp") + "/tarn-git-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return Error::failed(Code::Io, "failed to create " + tmpl + ": " + fs::errno_text(errno));
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)fs::remove_all(dir); }
  } cleanup{tmpl};
  std::string checkout_dir = tmpl + "/checkout";
  if (auto r = checkout(*p.meta, p.snapshot->key.name().str(), tmpl, checkout_dir); !r) return r.error();
  auto dir = package_dir(checkout_dir, p.meta->git_path);
  if (!dir) return dir.error();
  if (auto r = check_prepare(cx, p, *dir); !r) return r.error();
  if (auto r = fs::remove_all(fs::join(checkout_dir, ".git")); !r) return r.error();
  auto files = packlist(*dir);
  if (!files) return files.error();
  return stage(*dir, *files, staging_fd);
}

// Resolution (libs/resolve exotic_git.cpp pins the ref from this; pnpm's get_repo_refs).
Result<std::string> git_ls_remote(const std::string& repo, const std::string& tmp) {
  if (repo.empty() || repo[0] == '-')
    return Error::failed(Code::InvalidGitRepository, "Invalid git repository \"" + repo + "\". A repository must not begin with '-'.");
  std::vector<std::string> args = kSafe;
  for (const char* a : {"ls-remote", "--"}) args.emplace_back(a);
  args.push_back(repo);
  GitRun r = run_git(args, tmp);
  if (r.status < 0)
    return Error::failed(Code::GitNotFound, "`git` executable not found on PATH. Install git to fetch git-hosted packages.");
  if (r.status != 0) return Error::failed(Code::GitLsRemoteFailed, "git ls-remote failed: " + trimmed(r.err));
  return r.out;
}

// The resolver reads the pinned commit's package.json from a checkout made as the fetcher
// makes it (pnpm's read_git_manifest clones too).
Result<std::string> git_read_manifest(const std::string& repo, const std::string& commit, const std::string& path,
                                      const std::string& tmp) {
  PackageMeta m;
  m.git_repo = repo;
  m.git_commit = commit;
  std::string dest = tmp + "/checkout";
  if (auto r = checkout(m, repo, tmp, dest); !r) return r.error();
  auto dir = package_dir(dest, path);
  if (!dir) return dir.error();
  return fs::read_file(fs::join(*dir, "package.json"));
}

}  // namespace tarn
