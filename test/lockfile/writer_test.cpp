// write_lockfile against real pnpm 12.21 lockfiles (byte for byte), a Lockfile built in
// code, and save_lockfile's file handling.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "testing.hpp"

#include "tarn/lockfile/lockfile.hpp"
#include "tarn/lockfile/manifest.hpp"

using namespace tarn;
namespace stdfs = std::filesystem;

namespace {

// Every pnpm-lock.yaml under `dir` (node_modules excluded), sorted.
std::vector<std::string> lockfiles_under(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory() && it->path().filename() == "node_modules") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().filename() == "pnpm-lock.yaml" || it->path().extension() == ".yaml") out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The first line where two texts differ, for a readable failure.
std::string first_difference(const std::string& a, const std::string& b) {
  size_t i = 0, line = 1;
  while (i < a.size() && i < b.size() && a[i] == b[i]) line += a[i++] == '\n';
  auto line_at = [](const std::string& s, size_t at) {
    size_t begin = s.rfind('\n', at == 0 ? 0 : at - 1);
    begin = begin == std::string::npos ? 0 : begin + 1;
    return s.substr(begin, s.find('\n', at) - begin);
  };
  if (i == a.size() && i == b.size()) return "";
  return "line " + std::to_string(line) + ":\n  expected: " + line_at(a, i) + "\n  written:  " + line_at(b, i);
}

void check_round_trip(const std::string& path) {
  CAPTURE(path);
  std::string text = test::read_file(path);
  auto lf = Lockfile::parse(text, path);
  REQUIRE(lf);
  std::string written = write_lockfile(*lf);
  INFO(first_difference(text, written));
  CHECK(written == text);
}

}  // namespace

TEST_CASE("writer: every committed fixture lockfile round-trips byte for byte") {
  std::vector<std::string> files;
  for (auto& f : lockfiles_under(std::string(TARN_SOURCE_DIR) + "/fixtures"))
    if (stdfs::path(f).filename() == "pnpm-lock.yaml") files.push_back(f);
  REQUIRE(files.size() >= 9);
  for (auto& f : files) check_round_trip(f);
}

TEST_CASE("writer: lockfiles pnpm 12.21 wrote with settings, catalogs, env documents... round-trip") {
  auto files = lockfiles_under(std::string(TARN_SOURCE_DIR) + "/test/lockfile/data");
  REQUIRE(files.size() == 5);
  for (auto& f : files) check_round_trip(f);
}

// The benchmark fixtures shared between worktrees; skipped where they are not mounted.
TEST_CASE("writer: the shared fixture lockfiles round-trip byte for byte") {
  const char* env = std::getenv("TARN_SHARED_FIXTURES");
  std::string dir = env ? env : "/work/shared/fixtures";
  if (!stdfs::is_directory(dir)) {
    WARN("skipped: " << dir << " is not a directory");
    return;
  }
  std::vector<std::string> files;
  for (auto& f : lockfiles_under(dir))
    if (stdfs::path(f).filename() == "pnpm-lock.yaml") files.push_back(f);
  CHECK(!files.empty());
  for (auto& f : files) check_round_trip(f);
}

namespace {

DepPath dp(std::string_view s) {
  auto p = DepPath::parse(s);
  REQUIRE(p);
  return *p;
}

Dependency dep(std::string_view alias, std::string_view value) {
  auto name = PkgName::parse(alias);
  REQUIRE(name);
  auto ref = DepRef::parse(*name, value);
  REQUIRE(ref);
  return {*name, *ref};
}

ImporterDep importer_dep(std::string_view alias, std::string spec, std::string_view version, DepGroup g) {
  Dependency d = dep(alias, version);
  return ImporterDep{d.alias, std::move(spec), "", d.ref, g};  // version text left to the writer
}

PackageMeta registry_meta(std::string_view integrity) {
  PackageMeta m;
  auto i = Integrity::parse(integrity);
  REQUIRE(i);
  m.integrity = *i;
  return m;
}

const char* kSha = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";

// What a resolver fills in, in an order pnpm would not write.
Lockfile built_in_code() {
  Lockfile lf;
  lf.overrides = {{"z-pkg", "1.0.0"}, {"a-pkg@<2", "^2.0.0"}};
  lf.time = {{"react-dom@18.2.0", "2024-02-23T22:24:16.065Z"}, {"scheduler@0.23.2", "2024-01-01T00:00:00.000Z"}};
  Importer root;
  root.id = ImporterId(".");
  root.deps = {importer_dep("react-dom", "^18.2.0", "18.2.0(react@18.2.0)", DepGroup::Prod),
               importer_dep("local", "link:../local", "link:../local", DepGroup::Optional),
               importer_dep("@types/node", "*", "20.0.0", DepGroup::Dev),
               importer_dep("react", "catalog:", "18.2.0", DepGroup::Prod)};
  lf.importers.push_back(root);
  lf.catalogs["default"]["react"] = {"^18.2.0", "18.2.0"};

  PackageMeta react_dom = registry_meta(kSha);
  react_dom.peer_dependencies = {{"react", "^18.2.0"}};
  react_dom.peer_dependencies_meta = {{"react", false}};
  lf.packages["react-dom@18.2.0"] = react_dom;
  PackageMeta react = registry_meta(kSha);
  react.engines = {{"node", ">=0.10.0"}};
  lf.packages["react@18.2.0"] = react;
  PackageMeta node = registry_meta(kSha);
  node.deprecated = "Use x: now";
  node.has_bin = true;
  node.os = {"darwin", "linux"};
  lf.packages["@types/node@20.0.0"] = node;
  PackageMeta sched = registry_meta(kSha);
  sched.tarball = TarballUrl("https://example.test/scheduler-0.23.2.tgz");
  sched.resolution = ResolutionKind::Tarball;
  sched.version = "0.23.2";
  sched.bundled_dependencies = {"b", "a"};
  lf.packages["scheduler@0.23.2"] = sched;

  Snapshot rd;
  rd.key = dp("react-dom@18.2.0(react@18.2.0)");
  rd.dependencies = {dep("scheduler", "0.23.2"), dep("react", "18.2.0")};
  rd.transitive_peer_dependencies = {"supports-color", "debug"};
  Snapshot r;
  r.key = dp("react@18.2.0");
  Snapshot s;
  s.key = dp("scheduler@0.23.2");
  s.optional = true;
  Snapshot n;
  n.key = dp("@types/node@20.0.0");
  lf.snapshots = {rd, s, r, n};
  lf.reindex();
  return lf;
}

}  // namespace

// pnpm's text for built_in_code(): keys, groups and sections sorted, overrides and lists
// in their order, empty lists omitted, time pruned to direct dependencies.
const std::string kBuiltExpected = std::string(R"(lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

catalogs:
  default:
    react:
      specifier: ^18.2.0
      version: 18.2.0

overrides:
  z-pkg: 1.0.0
  a-pkg@<2: ^2.0.0

importers:

  .:
    dependencies:
      react:
        specifier: 'catalog:'
        version: 18.2.0
      react-dom:
        specifier: ^18.2.0
        version: 18.2.0(react@18.2.0)
    devDependencies:
      '@types/node':
        specifier: '*'
        version: 20.0.0
    optionalDependencies:
      local:
        specifier: link:../local
        version: link:../local

packages:

  '@types/node@20.0.0':
    resolution: {integrity: )") + kSha + R"(}
    os: [darwin, linux]
    deprecated: 'Use x: now'
    hasBin: true

  react-dom@18.2.0:
    resolution: {integrity: )" + kSha + R"(}
    peerDependencies:
      react: ^18.2.0
    peerDependenciesMeta:
      react:
        optional: false

  react@18.2.0:
    resolution: {integrity: )" + kSha + R"(}
    engines: {node: '>=0.10.0'}

  scheduler@0.23.2:
    resolution: {integrity: )" + kSha + R"(, tarball: https://example.test/scheduler-0.23.2.tgz}
    version: 0.23.2
    bundledDependencies:
      - b
      - a

snapshots:

  '@types/node@20.0.0': {}

  react-dom@18.2.0(react@18.2.0):
    dependencies:
      react: 18.2.0
      scheduler: 0.23.2
    transitivePeerDependencies:
      - supports-color
      - debug

  react@18.2.0: {}

  scheduler@0.23.2:
    optional: true

time:
  react-dom@18.2.0: '2024-02-23T22:24:16.065Z'
)";

TEST_CASE("writer: a lockfile built in code is written exactly as pnpm writes it") {
  const std::string& expected = kBuiltExpected;
  Lockfile lf = built_in_code();
  std::string written = write_lockfile(lf);
  INFO(first_difference(expected, written));
  CHECK(written == expected);
  // And it reads back to the same text.
  auto again = Lockfile::parse(written, "pnpm-lock.yaml");
  REQUIRE(again);
  CHECK(write_lockfile(*again) == expected);
}

TEST_CASE("writer: the order a lockfile is built in does not change what is written") {
  std::string text = test::read_file(std::string(TARN_SOURCE_DIR) + "/fixtures/workspace/pnpm-lock.yaml");
  auto lf = Lockfile::parse(text, "pnpm-lock.yaml");
  REQUIRE(lf);
  REQUIRE(lf->snapshots.size() > 5);
  std::reverse(lf->snapshots.begin(), lf->snapshots.end());
  std::reverse(lf->importers.begin(), lf->importers.end());
  for (auto& s : lf->snapshots) std::reverse(s.dependencies.begin(), s.dependencies.end());
  for (auto& i : lf->importers) std::reverse(i.deps.begin(), i.deps.end());
  std::unordered_map<std::string, PackageMeta> rehashed(lf->packages.begin(), lf->packages.end(), 3);
  lf->packages = std::move(rehashed);
  CHECK(write_lockfile(*lf) == text);
}

TEST_CASE("writer: the fields pnpm 12.21 wrote are read into the model") {
  std::string dir = std::string(TARN_SOURCE_DIR) + "/test/lockfile/data/";
  auto ws = Lockfile::parse(test::read_file(dir + "pnpm12-workspace-settings.yaml"), "ws");
  REQUIRE(ws);
  CHECK(ws->dedupe_peers == true);
  CHECK(ws->inject_workspace_packages);
  CHECK(ws->peers_suffix_max_length == 500u);
  CHECK(ws->catalogs.at("legacy").at("is-odd").specifier == "^2.0.0");
  CHECK(ws->overrides == std::vector<std::pair<std::string, std::string>>{{"is-number", "7.0.0"}, {"ansi-regex@<5", "^5.0.1"}});
  CHECK(ws->package_extensions_checksum->rfind("sha256-", 0) == 0);
  CHECK(ws->pnpmfile_checksum->rfind("sha256-", 0) == 0);
  CHECK(ws->patched_dependencies.at("is-even@1.0.0").size() == 64);
  CHECK(ws->ignored_optional_dependencies == std::vector<std::string>{"fsevents"});
  CHECK(ws->time.size() == 7);
  auto* root = ws->importer(".");
  REQUIRE(root);
  REQUIRE(root->dependencies_meta);
  CHECK(root->dependencies_meta->get("p1")->get("injected")->flag);
  CHECK(ws->importer("packages/p1")->publish_directory == "dist");
  auto* p1 = ws->meta(dp("p1@file:packages/p1/dist(react@18.2.0)"));
  REQUIRE(p1);
  CHECK(p1->resolution == ResolutionKind::Directory);
  CHECK(p1->directory == "packages/p1/dist");

  auto peers = Lockfile::parse(test::read_file(dir + "pnpm12-peers-tarballs.yaml"), "peers");
  REQUIRE(peers);
  auto* fr = peers->meta(dp("follow-redirects@1.16.3"));
  REQUIRE(fr);
  CHECK(fr->peer_dependencies_meta == std::vector<std::pair<std::string, bool>>{{"debug", true}});
  auto* agent = peers->find(dp("agent-base@6.0.2(supports-color@5.5.0)"));
  REQUIRE(agent);
  CHECK(agent->transitive_peer_dependencies == std::vector<std::string>{"supports-color"});
  auto* tgz = peers->meta(dp("is-number@file:is-number-7.0.0.tgz"));
  REQUIRE(tgz);
  CHECK(tgz->version == "7.0.0");
  CHECK(tgz->tarball.str() == "file:is-number-7.0.0.tgz");

  auto env = Lockfile::parse(test::read_file(dir + "pnpm12-env-document.yaml"), "env");
  REQUIRE(env);
  REQUIRE(env->env);
  CHECK(env->env->importers.at(0).config_dependencies.at("is-number").version == "7.0.0");
  CHECK(env->env->packages.count("is-number@7.0.0"));
  CHECK(env->importer(".")->deps.at(0).alias.str() == "is-odd");
}

// Shapes no fixture has, and what pnpm 12 writes for them after reading them: git and
// variations resolutions, gitHosted back-filled on a codeload tarball, libc as a string,
// bundledDependencies: true, prepare, a snapshot id and patched flag, pnpm 10's
// {hash, path} patch entries, requiresBuild (dropped), and a git integrity (dropped).
static std::string rare_shapes(const std::string& sha) {
  return std::string("\xEF\xBB\xBFlockfileVersion: '9.0'\r\n") + R"(
patchedDependencies:
  b@1.0.0:
    hash: abc
    path: patches/b@1.0.0.patch

importers:

  .:
    dependencies:
      b:
        specifier: 1.0.0
        version: 1.0.0(patch_hash=abc)
      g:
        specifier: github:o/g
        version: git+https://github.com/o/g.git#)" + sha + R"(
      node:
        specifier: runtime:22.0.0
        version: runtime:22.0.0
      t:
        specifier: https://codeload.github.com/o/t/tar.gz/)" + sha + R"(
        version: https://codeload.github.com/o/t/tar.gz/)" + sha + R"(

packages:

  b@1.0.0:
    resolution: {integrity: )" + kSha + R"(}
    libc: glibc
    bundledDependencies: true
    requiresBuild: true
    prepare: true

  g@git+https://github.com/o/g.git#)" + sha + R"(:
    resolution: {commit: )" + sha + R"(, integrity: )" + kSha + R"(, repo: https://github.com/o/g.git, type: git}
    version: 1.0.0

  node@runtime:22.0.0:
    resolution:
      type: variations
      variants:
        - resolution:
            archive: tarball
            bin: bin/node
            integrity: )" + kSha + R"(
            type: binary
            url: https://nodejs.org/download/release/v22.0.0/node-v22.0.0-linux-x64.tar.gz
          targets:
            - cpu: x64
              os: linux
    hasBin: true

  t@https://codeload.github.com/o/t/tar.gz/)" + sha + R"(:
    resolution: {tarball: https://codeload.github.com/o/t/tar.gz/)" + sha + R"(}
    version: 2.0.0

snapshots:

  b@1.0.0(patch_hash=abc):
    id: b-id
    patched: true

  g@git+https://github.com/o/g.git#)" + sha + R"(: {}

  node@runtime:22.0.0: {}

  t@https://codeload.github.com/o/t/tar.gz/)" + sha + R"(: {}
)";
}

TEST_CASE("writer: rarer shapes are written as pnpm 12 normalises them") {
  std::string sha(40, 'a');
  std::string in = rare_shapes(sha);
  auto lf = Lockfile::parse(in, "rare.yaml");
  REQUIRE(lf);
  std::string out = write_lockfile(*lf);
  std::string expected = in.substr(3);
  expected.replace(expected.find("\r\n"), 2, "\n");
  auto replace = [&](const std::string& from, const std::string& to) {
    auto at = expected.find(from);
    REQUIRE(at != std::string::npos);
    expected.replace(at, from.size(), to);
  };
  replace("  b@1.0.0:\n    hash: abc\n    path: patches/b@1.0.0.patch\n", "  b@1.0.0: abc\n");
  replace("    bundledDependencies: true\n    requiresBuild: true\n    prepare: true\n",
          "    prepare: true\n    bundledDependencies: true\n");
  replace(", integrity: " + std::string(kSha), "");
  replace("{tarball: https://codeload", "{gitHosted: true, tarball: https://codeload");
  INFO(first_difference(expected, out));
  CHECK(out == expected);
  auto* node = lf->meta(dp("node@runtime:22.0.0"));
  REQUIRE(node);
  CHECK(node->resolution == ResolutionKind::Other);
  CHECK(lf->meta(dp("b@1.0.0"))->libc_scalar);
  CHECK(lf->meta(dp("t@https://codeload.github.com/o/t/tar.gz/" + sha))->git_hosted == true);
}

TEST_CASE("save_lockfile: atomic write, unchanged files untouched, mode kept, symlinks refused, env kept") {
  test::TempDir dir;
  std::string path = dir.path() + "/pnpm-lock.yaml";
  Lockfile lf = built_in_code();
  std::string text = write_lockfile(lf);

  REQUIRE(save_lockfile(lf, path));
  CHECK(test::read_file(path) == text);
  struct stat before, after;
  REQUIRE(::stat(path.c_str(), &before) == 0);
  mode_t mask = ::umask(0);
  ::umask(mask);
  CHECK((before.st_mode & 0777) == (0666 & ~mask));

  // The same text again: pnpm does not rewrite the file (same inode, no temporary left).
  REQUIRE(save_lockfile(lf, path));
  REQUIRE(::stat(path.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);

  // A change is written through a new file that keeps the old file's mode.
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  lf.overrides.clear();
  REQUIRE(save_lockfile(lf, path));
  REQUIRE(::stat(path.c_str(), &after) == 0);
  CHECK(after.st_ino != before.st_ino);
  CHECK((after.st_mode & 0777) == 0600);
  CHECK(test::read_file(path) == write_lockfile(lf));
  size_t entries = 0;
  for ([[maybe_unused]] auto& e : stdfs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);

  // The env document of the file being replaced is kept when the model has none.
  std::string env = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    configDependencies: {}\n\npackages: {}\n\nsnapshots: {}\n";
  test::write_file(path, "---\n" + env + "\n---\n" + text);
  REQUIRE(save_lockfile(lf, path));
  CHECK(test::read_file(path) == "---\n" + env + "\n---\n" + write_lockfile(lf));
  auto reread = Lockfile::load(path);
  REQUIRE(reread);
  REQUIRE(reread->env);
  CHECK(write_lockfile(*reread) == test::read_file(path));

  // A symlinked lockfile is refused and its target left alone.
  std::string target = dir.path() + "/elsewhere.yaml";
  test::write_file(target, "x");
  std::string link = dir.path() + "/linked.yaml";
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  auto r = save_lockfile(lf, link);
  REQUIRE_FALSE(r);
  CHECK(r.error().code_name() == "ERR_PNPM_LOCKFILE_WRITE_FILE");
  CHECK(test::read_file(target) == "x");

  // A missing directory is an error, not created.
  auto missing = save_lockfile(lf, dir.path() + "/no/such/dir/pnpm-lock.yaml");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("no/such/dir") != std::string::npos);
}

TEST_CASE("writer: an env document built in code comes first, with its empty maps") {
  Lockfile lf;
  lf.env.emplace();
  EnvImporter imp;
  imp.id = ImporterId(".");
  imp.config_dependencies["@pnpm/plugin"] = {"1.0.0", "1.0.0"};
  lf.env->importers.push_back(imp);
  CHECK(write_lockfile(lf) ==
        "---\nlockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    configDependencies:\n      '@pnpm/plugin':\n"
        "        specifier: 1.0.0\n        version: 1.0.0\n\npackages: {}\n\nsnapshots: {}\n\n---\n"
        "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n");
}

TEST_CASE("writer: a project without dependencies") {
  Lockfile lf;
  Importer root;
  root.id = ImporterId(".");
  lf.importers.push_back(root);
  CHECK(write_lockfile(lf) ==
        "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\n"
        "importers:\n\n  .: {}\n");
}

// Whatever a string holds, the scalar written for it reads back as the same string: the
// quoting rules and a YAML reader agree. Strings from a fixed-seed generator over the
// characters the rules treat specially, in keys, block values and flow values.
TEST_CASE("writer: every string reads back as written (quoting against a YAML reader)") {
  static const std::vector<std::string> alphabet = {
      " ", ":", "#", "-", "?", "[", "]", "{", "}", ",", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`", "\t",
      "\n", "\r", "\\", "~", "=", "a", "Z", "0", "9", ".", "_", "+", "e", "\xc3\xa9", "\x7f", "\xe2\x80\xa8",
      "\xf0\x9f\x99\x8c", "\xc2\xa0", "true", "null", "1.0", "0x1", "2021-01-01", "<<"};
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  auto next = [&seed] {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    return seed;
  };
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    for (size_t n = next() % 6 + 1; n > 0; --n) s += alphabet[next() % alphabet.size()];
    // Two shapes js-yaml (so pnpm) writes in a way no YAML reader reads back: only line
    // breaks (an empty literal block), and ':' before a flow indicator in a flow map
    // (`{node: a:]}`, its ':[^ ]' rule). The writer copies pnpm there; nothing to check.
    if (s.find_first_not_of('\n') == std::string::npos) continue;
    bool colon_indicator = false;
    for (size_t i = 0; i + 1 < s.size(); ++i)
      colon_indicator |= s[i] == ':' && std::string_view(",[]{}").find(s[i + 1]) != std::string_view::npos;
    if (colon_indicator) continue;
    CAPTURE(round, s);
    Lockfile lf = built_in_code();
    lf.packages["react@18.2.0"].deprecated = s;                 // a block value, level 3
    lf.packages["react@18.2.0"].engines = {{"node", s}, {s, "1"}};  // flow values and keys
    lf.overrides = {{s, s}};                                     // a block key
    lf.importers[0].deps[0].specifier = s;
    std::string text = write_lockfile(lf);
    INFO(text);
    auto back = Lockfile::parse(text, "pnpm-lock.yaml");
    REQUIRE(back);
    auto* react = back->meta(dp("react@18.2.0"));
    REQUIRE(react);
    CHECK(react->deprecated == s);
    auto engines = react->engines;
    std::sort(engines.begin(), engines.end());
    auto want = std::vector<std::pair<std::string, std::string>>{{"node", s}, {s, "1"}};
    std::sort(want.begin(), want.end());
    CHECK(engines == want);
    CHECK(back->overrides == lf.overrides);
    bool found = false;
    for (auto& d : back->importer(".")->deps) found |= d.alias.str() == "react-dom" && d.specifier == s;
    CHECK(found);
  }
}

// yaml-cpp misreads '?' inside a flow scalar and the \_ and \N escapes; the reader mends
// the text first, so these lockfiles (GitLab archives are git-hosted tarballs with ?ref=)
// read as pnpm reads them.
TEST_CASE("writer: a '?' in a flow map and NBSP/NEL escapes are read as pnpm reads them") {
  std::string sha(40, 'b');
  std::string url = "https://gitlab.com/api/v4/projects/o%2Fr/repository/archive.tar.gz?ref=" + sha;
  std::string text = "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\n"
                     "packages:\n\n  r@" + url + ":\n    resolution: {gitHosted: true, tarball: " + url + "}\n"
                     "    version: 1.0.0\n    engines: {node: '>=1', x: a?b}\n"
                     "    deprecated: \"no\\_break, next\\Nline, \\\\_ stays\"\n\nsnapshots:\n\n  r@" + url + ": {}\n";
  auto lf = Lockfile::parse(text, "gitlab.yaml");
  REQUIRE(lf);
  auto* r = lf->meta(dp("r@" + url));
  REQUIRE(r);
  CHECK(r->tarball.str() == url);
  CHECK(r->git_hosted == true);
  CHECK(r->engines.back() == std::pair<std::string, std::string>{"x", "a?b"});
  CHECK(r->deprecated == "no\xc2\xa0" "break, next\xc2\x85" "line, \\_ stays");
  CHECK(write_lockfile(*lf) == text);

  // Inside a literal block the same characters are text, and are left alone.
  std::string message = "two lines:\n  keep \\_ and \\N, {x: a?b}\n    - c?d: \"\\_\"";
  lf->packages.begin()->second.deprecated = message;
  std::string literal = write_lockfile(*lf);
  CHECK(literal.find("    deprecated: |-\n      two lines:\n        keep \\_ and") != std::string::npos);
  auto back = Lockfile::parse(literal, "literal.yaml");
  REQUIRE(back);
  CHECK(back->packages.begin()->second.deprecated == message);
}

TEST_CASE("writer: an env document tarn cannot model is left out of the model, and kept on save") {
  test::TempDir dir;
  std::string path = dir.path() + "/pnpm-lock.yaml";
  std::string env = "lockfileVersion: [odd]\npackages:\n  not a key: {}\n";
  std::string main = "lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n";
  test::write_file(path, "---\n" + env + "\n---\n" + main);
  auto lf = Lockfile::load(path);
  REQUIRE(lf);
  CHECK_FALSE(lf->env);
  CHECK(write_lockfile(*lf) == main);
  lf->has_settings = true;
  REQUIRE(save_lockfile(*lf, path));
  CHECK(test::read_file(path) == "---\n" + env + "\n---\n" + write_lockfile(*lf));
}

// dependenciesMeta goes from package.json to the lockfile as serde's JSON value: the
// importer built from the manifest is written as pnpm 12.21 wrote it (strings of every
// quoting style, numbers, nulls, nested priority order, literal blocks).
TEST_CASE("writer: dependenciesMeta from package.json is written as pnpm 12.21 wrote it") {
  std::string dir = std::string(TARN_SOURCE_DIR) + "/test/lockfile/data/";
  auto m = Manifest::load(dir + "pnpm12-quoting.package.json");
  REQUIRE(m);
  REQUIRE(m->dependencies_meta);
  std::string text = test::read_file(dir + "pnpm12-quoting.yaml");
  auto lf = Lockfile::parse(text, "pnpm12-quoting.yaml");
  REQUIRE(lf);
  REQUIRE(lf->importers.size() == 1);
  CHECK_FALSE(*lf->importers[0].dependencies_meta == *m->dependencies_meta);  // file order vs sorted
  lf->importers[0].dependencies_meta = m->dependencies_meta;
  std::string written = write_lockfile(*lf);
  INFO(first_difference(text, written));
  CHECK(written == text);
}
