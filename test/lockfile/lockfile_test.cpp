#include <catch2/catch.hpp>

#include "testing.hpp"

#include "tarn/lockfile/lockfile.hpp"
#include "tarn/lockfile/manifest.hpp"

using namespace tarn;

static const char* kLock = R"(lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      react-dom:
        specifier: ^16.2.0
        version: 16.14.0(react@16.14.0)
      string-width-cjs:
        specifier: npm:string-width@^4.2.0
        version: string-width@4.2.3
    devDependencies:
      react:
        specifier: ^16.2.0
        version: 16.14.0
    optionalDependencies:
      local:
        specifier: link:../local
        version: link:../local

packages:

  react-dom@16.14.0:
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
    peerDependencies:
      react: ^16.14.0

  react@16.14.0:
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
    engines: {node: '>=0.10.0'}

  string-width@4.2.3:
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}

  fsevents@2.3.3:
    resolution: {tarball: https://example.test/fsevents-2.3.3.tgz}
    engines: {node: ^8.16.0 || ^10.6.0 || >=11.0.0}
    os: [darwin]
    hasBin: true

snapshots:

  react-dom@16.14.0(react@16.14.0):
    dependencies:
      react: 16.14.0
    optionalDependencies:
      fsevents: 2.3.3

  react@16.14.0: {}

  string-width@4.2.3: {}

  fsevents@2.3.3:
    optional: true
)";

TEST_CASE("lockfile v9: importers, aliases, peers, links and metadata") {
  auto lf = Lockfile::parse(kLock, "pnpm-lock.yaml");
  REQUIRE(lf);
  auto* root = lf->importer(".");
  REQUIRE(root);
  REQUIRE(root->deps.size() == 4);
  CHECK(root->deps[0].ref.target.str() == "react-dom@16.14.0(react@16.14.0)");
  CHECK(root->deps[1].ref.kind == DepRef::Kind::Alias);
  CHECK(root->deps[1].ref.target.str() == "string-width@4.2.3");
  CHECK(root->deps[2].group == DepGroup::Dev);
  CHECK(root->deps[3].ref.is_link());
  CHECK(root->deps[3].ref.link == "../local");
  auto* s = lf->find(*DepPath::parse("react-dom@16.14.0(react@16.14.0)"));
  REQUIRE(s);
  CHECK(s->dependencies.size() == 1);
  CHECK(s->optional_dependencies.size() == 1);
  auto* fe = lf->meta(*DepPath::parse("fsevents@2.3.3"));
  REQUIRE(fe);
  CHECK(fe->os == std::vector<std::string>{"darwin"});
  CHECK(fe->has_bin);
  CHECK(fe->tarball.str() == "https://example.test/fsevents-2.3.3.tgz");
  CHECK_FALSE(fe->integrity);
  CHECK(lf->find(*DepPath::parse("fsevents@2.3.3"))->optional);
  auto* rd = lf->meta(*DepPath::parse("react-dom@16.14.0"));
  REQUIRE(rd);
  CHECK(rd->peer_dependencies == std::vector<std::pair<std::string, std::string>>{{"react", "^16.14.0"}});
  CHECK(rd->has_peer("react"));
  CHECK_FALSE(rd->has_peer("react-dom"));
}

TEST_CASE("lockfile: the env document before the project document is skipped") {
  std::string two = std::string("---\nlockfileVersion: '9.0'\nimporters:\n  .:\n    configDependencies: {}\n---\n") + kLock;
  // The first document has importers too; the last one with the graph wins.
  auto lf = Lockfile::parse(two, "pnpm-lock.yaml");
  REQUIRE(lf);
  CHECK(lf->snapshots.size() == 4);
}

TEST_CASE("lockfile: bad input fails with a code and the file name") {
  struct Row {
    std::string text;
    const char* code;
  };
  std::string missing_pkg = kLock;
  {
    auto at = missing_pkg.find("  string-width@4.2.3:\n    resolution");
    missing_pkg.erase(at, missing_pkg.find("\n\n", at) - at);  // drop its packages: entry
  }
  for (auto& r : {Row{"lockfileVersion: '6.0'\n", "ERR_PNPM_LOCKFILE_BREAKING_CHANGE"},
                  Row{"{{{ not yaml", "ERR_PNPM_BROKEN_LOCKFILE"},
                  Row{"- a\n- b\n", "ERR_PNPM_BROKEN_LOCKFILE"},
                  Row{missing_pkg, "ERR_PNPM_LOCKFILE_MISSING_DEPENDENCY"},
                  Row{"lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: '1'\n        version: 1.0.0\n",
                      "ERR_PNPM_LOCKFILE_MISSING_DEPENDENCY"}}) {
    CAPTURE(r.text.substr(0, 40));
    auto lf = Lockfile::parse(r.text, "/p/pnpm-lock.yaml");
    REQUIRE_FALSE(lf);
    CHECK(lf.error().code_name() == r.code);
    CHECK(lf.error().message.find("/p/pnpm-lock.yaml") != std::string::npos);
  }
}

TEST_CASE("frozen check lists every difference between package.json and the lockfile") {
  auto lf = Lockfile::parse(kLock, "pnpm-lock.yaml");
  REQUIRE(lf);
  auto same = Manifest::parse(R"({"dependencies":{"react-dom":"^16.2.0","string-width-cjs":"npm:string-width@^4.2.0"},
    "devDependencies":{"react":"^16.2.0"},"optionalDependencies":{"local":"link:../local"}})", "package.json");
  REQUIRE(same);
  CHECK(diff_importer(*same, *lf->importer(".")).empty());
  auto changed = Manifest::parse(R"({"dependencies":{"react-dom":"^17.0.0","lodash":"^4"},
    "devDependencies":{"react":"^16.2.0"},"optionalDependencies":{"local":"link:../local"}})", "package.json");
  REQUIRE(changed);
  auto diff = diff_importer(*changed, *lf->importer("."));
  REQUIRE(diff.size() == 3);  // react-dom changed, lodash added, string-width-cjs removed
  std::string all;
  for (auto& d : diff) all += d + "\n";
  CHECK(all.find("react-dom") != std::string::npos);
  CHECK(all.find("lodash") != std::string::npos);
  CHECK(all.find("string-width-cjs") != std::string::npos);
}

TEST_CASE("package.json: garbled input is an error naming the file") {
  for (auto bad : {"{", "[]", R"({"dependencies": []})", R"({"dependencies": {"a": 1}})"}) {
    CAPTURE(bad);
    auto m = Manifest::parse(bad, "/p/package.json");
    REQUIRE_FALSE(m);
    CHECK(m.error().message.find("/p/package.json") != std::string::npos);
  }
}

// The chunked parallel reader and the whole-text reader must agree. A %YAML directive
// sends the same text down the whole-text path.
static std::string describe(const Lockfile& lf) {
  std::string out = lf.lockfile_version + (lf.auto_install_peers ? " peers\n" : "\n");
  for (auto& i : lf.importers) {
    out += "importer " + i.id.str() + "\n";
    for (auto& d : i.deps)
      out += "  " + std::string(group_field(d.group)) + " " + d.alias.str() + " " + d.specifier + " " + d.version + "\n";
  }
  std::vector<std::string> pk;
  for (auto& [k, m] : lf.packages) {
    std::string l = k + " " + (m.integrity ? m.integrity->str() : "-") + " " + m.tarball.str() + " " + std::string(m.resolution == ResolutionKind::Registry || m.resolution == ResolutionKind::Tarball ? "" : resolution_kind_name(m.resolution)) +
                    (m.has_bin ? " bin" : "") + (m.bundled ? " bundled" : "");
    for (auto* v : {&m.os, &m.cpu, &m.libc})
      for (auto& x : *v) l += " " + x;
    for (auto* v : {&m.engines, &m.peer_dependencies})
      for (auto& [e, r] : *v) l += " " + e + "=" + r;
    pk.push_back(l);
  }
  std::sort(pk.begin(), pk.end());
  for (auto& l : pk) out += l + "\n";
  for (auto& s : lf.snapshots) {
    out += "snapshot " + s.key.str() + (s.optional ? " optional\n" : "\n");
    for (auto* v : {&s.dependencies, &s.optional_dependencies})
      for (auto& d : *v) out += "  " + d.alias.str() + " " + (d.ref.is_link() ? d.ref.link : d.ref.target.str()) + "\n";
  }
  return out;
}

TEST_CASE("lockfile: the parallel chunked reader agrees with the whole-text reader") {
  for (const char* fx : {"alotta-modules", "angular-quickstart", "ember-quickstart", "medium-size-app", "react-app"}) {
    CAPTURE(fx);
    std::string text = test::read_file(std::string(TARN_SOURCE_DIR) + "/fixtures/" + fx + "/pnpm-lock.yaml");
    REQUIRE(text.size() > 1000);
    auto chunked = Lockfile::parse(text, "pnpm-lock.yaml");
    auto whole = Lockfile::parse("%YAML 1.2\n---\n" + text, "pnpm-lock.yaml");
    REQUIRE(chunked);
    REQUIRE(whole);
    CHECK(chunked->snapshots.size() > 10);
    CHECK(describe(*chunked) == describe(*whole));
  }
  auto a = Lockfile::parse(kLock, "a.yaml");
  auto b = Lockfile::parse(std::string("%YAML 1.2\n---\n") + kLock, "a.yaml");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(describe(*a) == describe(*b));
}

TEST_CASE("lockfile: the copy a filtered install keeps is pnpm's, byte for byte") {
  // pnpm 12.21's node_modules/.pnpm/lock.yaml after `pnpm install --filter @ws/b` (root and
  // packages/b), and after a further `--filter @ws/c`, in fixtures/workspace.
  std::string dir = std::string(TARN_SOURCE_DIR) + "/fixtures/workspace/";
  std::string text = test::read_file(dir + "pnpm-lock.yaml");
  auto lf = Lockfile::parse(text, "pnpm-lock.yaml");
  REQUIRE(lf);
  struct Row {
    std::vector<ImporterId> keep;
    std::string want_file;
  };
  for (auto& r : {Row{{ImporterId("."), ImporterId("packages/b")}, "pnpm-filter-b.lock.yaml"},
                  Row{{ImporterId("."), ImporterId("packages/b"), ImporterId("packages/c")}, "pnpm-filter-bc.lock.yaml"}}) {
    CAPTURE(r.want_file);
    std::string got = lockfile_text_for_importers(text, *lf, r.keep);
    CHECK(got == test::read_file(dir + r.want_file));
    std::vector<std::string> ids;
    for (auto& k : r.keep) ids.push_back(k.str());
    CHECK(lockfile_importer_ids(got) == ids);
  }
  std::vector<ImporterId> all;
  for (auto& imp : lf->importers) all.push_back(imp.id);
  CHECK(lockfile_text_for_importers(text, *lf, all) == text);
  CHECK(lockfile_importer_ids(text) == std::vector<std::string>{".", "packages/a", "packages/b", "packages/c"});
}
