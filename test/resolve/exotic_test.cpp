// Specifiers the registry does not serve (exotic.cpp, exotic_git.cpp): pnpm 12.21's rules
// for git refs, hosted refusals, registry tarball URLs and file: paths, with the install's
// I/O replaced by fakes. The corpus cases (test/resolve/cases: git, tarball-url, file-deps,
// file-nested) check the same against pnpm's own lockfiles.
#include <filesystem>

#include "testing.hpp"
#include "walk_internal.hpp"

using namespace tarn;
using namespace tarn::resolve;

namespace {

const std::string kHead(40, 'a'), kMain(40, 'b'), kTag(40, 'c'), kPeeled(40, 'd');

struct FakeGit {
  int ls_remote_calls = 0;
  ResolveInput in;
  FakeGit() {
    in.exotic.git_ls_remote = [this](const std::string&) -> Result<std::string> {
      ++ls_remote_calls;
      return kHead + "\tHEAD\n" + kMain + "\trefs/heads/main\n" + kTag + "\trefs/tags/v1\n" + kPeeled +
             "\trefs/tags/v1^{}\n";
    };
    in.exotic.git_manifest = [](const std::string&, const std::string&, const std::string&) -> Result<std::string> {
      return std::string(R"({"name":"g","version":"1.2.3","dependencies":{"y":"^1.0.0"}})");
    };
  }
  Result<ExoticPick> resolve(const std::string& spec) {
    auto ws = WantedSpec::parse(*PkgName::parse("g"), spec);
    REQUIRE(ws);
    return resolve_git(in, *ws);
  }
};

WantedSpec tarball_spec(const std::string& alias, const std::string& url) {
  auto ws = WantedSpec::parse(*PkgName::parse(alias), url);
  REQUIRE(ws);
  REQUIRE(ws->kind == WantedSpec::Kind::Tarball);
  return *ws;
}

}  // namespace

TEST_CASE("git: a ref is pinned in pnpm's order (as written, refs/, peeled tag, tag, branch), HEAD without one") {
  struct Row {
    std::string fragment, commit;
  };
  for (auto& r : std::vector<Row>{{"#v1", kPeeled}, {"#main", kMain}, {"", kHead}, {"#bbbbbbb", kMain}}) {
    FakeGit g;
    INFO(r.fragment);
    auto p = g.resolve("git+file:///srv/r.git" + r.fragment);
    REQUIRE(p);
    CHECK(p->ref == "git+file:///srv/r.git#" + r.commit);
    CHECK(p->meta->resolution == ResolutionKind::Git);
    CHECK(p->meta->git_repo == "file:///srv/r.git");
    CHECK(p->meta->git_commit == r.commit);
    CHECK(p->meta->version == "1.2.3");
    CHECK(p->doc->name.str() == "g");
  }
}

TEST_CASE("git: a full commit needs no ls-remote; path: is kept in the id and the resolution") {
  FakeGit g;
  auto p = g.resolve("git+http://127.0.0.1:1/r.git#" + kTag + "&path:packages/sub");
  REQUIRE(p);
  CHECK(g.ls_remote_calls == 0);
  CHECK(p->ref == "git+http://127.0.0.1:1/r.git#" + kTag + "&path:packages/sub");
  CHECK(p->meta->git_path == "packages/sub");
}

TEST_CASE("git: an unknown ref, hosted repositories and semver ranges fail loudly") {
  FakeGit g;
  auto unknown = g.resolve("git+file:///srv/r.git#nope");
  REQUIRE(!unknown);
  CHECK(unknown.error().code == Code::GitUnknownRef);
  CHECK(unknown.error().message == "Could not resolve nope to a commit of file:///srv/r.git.");
  for (std::string spec : {"github:u/r", "u/r#main", "git+https://github.com/u/r.git", "git+ssh://git@gitlab.com/u/r.git",
                           "git+file:///srv/r.git#semver:^1.0.0"}) {
    INFO(spec);
    auto r = g.resolve(spec);
    REQUIRE(!r);
    CHECK(r.error().code == Code::Unsupported);
  }
}

TEST_CASE("a tarball URL at the npm layout of the package's registry is that registry version") {
  ResolveInput in;
  in.registry_for = [](const PkgName&) { return std::string("http://reg:1/"); };
  auto x = registry_tarball(in, tarball_spec("x", "http://reg:1/x/-/x-1.2.3.tgz"));
  REQUIRE(x);
  CHECK(x->kind == WantedSpec::Kind::Version);
  CHECK(x->name.str() == "x");
  CHECK(x->text == "1.2.3");
  CHECK_FALSE(x->aliased);
  auto scoped = registry_tarball(in, tarball_spec("@s/x", "http://reg:1/@s%2fx/-/x-1.0.0.tgz"));
  REQUIRE(scoped);
  CHECK(scoped->name.str() == "@s/x");
  auto aliased = registry_tarball(in, tarball_spec("other", "http://reg:1/x/-/x-1.0.0.tgz"));
  REQUIRE(aliased);
  CHECK(aliased->aliased);
  // Another host, a file name that is not the package's, no version: a plain tarball URL.
  for (std::string url : {"http://localhost:1/x/-/x-1.2.3.tgz", "http://reg:1/x/-/y-1.0.0.tgz", "http://reg:1/x/-/x-latest.tgz",
                          "http://reg:1/x-1.0.0.tgz"}) {
    INFO(url);
    CHECK_FALSE(registry_tarball(in, tarball_spec("x", url)));
  }
}

TEST_CASE("file: ids are relative to the lockfile's directory; a bare directory path is link:") {
  test::TempDir tmp;
  std::filesystem::create_directories(tmp.path() + "/libs/d");
  test::write_file(tmp.path() + "/libs/d/package.json", R"({"name":"d","version":"1.0.0"})");
  std::filesystem::create_directories(tmp.path() + "/packages/app");
  ResolveInput in;
  auto ws = WantedSpec::parse(*PkgName::parse("d"), "file:../../libs/d/");
  REQUIRE(ws);
  auto p = resolve_exotic(in, *ws, tmp.path() + "/packages/app", tmp.path());
  REQUIRE(p);
  CHECK(p->ref == "file:libs/d");
  CHECK(p->meta->resolution == ResolutionKind::Directory);
  CHECK(p->meta->directory == "libs/d");
  CHECK(p->meta->version.empty());
  CHECK(p->dir == tmp.path() + "/libs/d");
  // No package.json there: an error, not a package.
  auto missing = WantedSpec::parse(*PkgName::parse("e"), "file:./nowhere");
  REQUIRE(missing);
  CHECK_FALSE(resolve_exotic(in, *missing, tmp.path(), tmp.path()));
  // A file: tarball without the install's fetcher refuses.
  auto tgz = WantedSpec::parse(*PkgName::parse("t"), "file:./t.tgz");
  REQUIRE(tgz);
  auto refused = resolve_exotic(in, *tgz, tmp.path(), tmp.path());
  REQUIRE(!refused);
  CHECK(refused.error().code == Code::Unsupported);
  CHECK(WantedSpec::parse(*PkgName::parse("d"), "../d")->kind == WantedSpec::Kind::Link);
  CHECK(WantedSpec::parse(*PkgName::parse("d"), "./d.tgz")->kind == WantedSpec::Kind::File);
}
