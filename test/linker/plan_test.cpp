#include <catch2/catch.hpp>

#include "testing.hpp"

#include <algorithm>

#include "tarn/linker/plan.hpp"

using namespace tarn;

static const char* kLock = R"(lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      app-a:
        specifier: ^1.0.0
        version: 1.0.0(peer-p@2.0.0)
      '@s/b':
        specifier: ^1.0.0
        version: 1.0.0
    devDependencies:
      dev-tool:
        specifier: ^1.0.0
        version: 1.0.0
packages:
  app-a@1.0.0:
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
    peerDependencies:
      peer-p: '*'
  '@s/b@1.0.0':
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
  peer-p@2.0.0:
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
    hasBin: true
  shared@1.0.0:
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
  shared@2.0.0:
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
  dev-tool@1.0.0:
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
    hasBin: true
  darwin-only@1.0.0:
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
    os: [darwin]
  only-via-darwin@1.0.0:
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
  '@esbuild/win32-x64@0.1.0':
    resolution: {integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==}
snapshots:
  app-a@1.0.0(peer-p@2.0.0):
    dependencies:
      peer-p: 2.0.0
      shared: 1.0.0
      app-a: 1.0.0(peer-p@2.0.0)
    optionalDependencies:
      darwin-only: 1.0.0
      '@esbuild/win32-x64': 0.1.0
  '@s/b@1.0.0':
    dependencies:
      shared: 2.0.0
      renamed: shared@1.0.0
  peer-p@2.0.0: {}
  shared@1.0.0: {}
  shared@2.0.0: {}
  dev-tool@1.0.0: {}
  darwin-only@1.0.0:
    optional: true
    dependencies:
      only-via-darwin: 1.0.0
  only-via-darwin@1.0.0:
    optional: true
  '@esbuild/win32-x64@0.1.0':
    optional: true
)";

static const LinkSpec* find_link(const std::vector<LinkSpec>& v, const std::string& path) {
  for (auto& l : v)
    if (l.path == path) return &l;
  return nullptr;
}

TEST_CASE("plan: slots, dependency links, root links and skipped optionals") {
  auto lf = Lockfile::parse(kLock, "pnpm-lock.yaml");
  REQUIRE(lf);
  Settings s;
  PlanOptions o;
  o.platform = Platform{"linux", "x64", "glibc"};
  o.project_dir = "/p";
  auto plan = make_plan(*lf, s, o);
  REQUIRE(plan);
  // darwin-only is skipped; so is what only it needs; the name-inferred win32 package too.
  CHECK(plan->skipped == std::vector<std::string>{"@esbuild/win32-x64@0.1.0", "darwin-only@1.0.0", "only-via-darwin@1.0.0"});
  CHECK(plan->packages.size() == 6);
  auto& a = plan->packages[plan->by_dep_path.at("app-a@1.0.0(peer-p@2.0.0)")];
  CHECK(a.slot.str() == "app-a@1.0.0_peer-p@2.0.0");
  CHECK(a.pkg_dir == "node_modules/.pnpm/app-a@1.0.0_peer-p@2.0.0/node_modules/app-a");
  auto* l = find_link(a.links, "node_modules/.pnpm/app-a@1.0.0_peer-p@2.0.0/node_modules/shared");
  REQUIRE(l);
  CHECK(l->target == "../../shared@1.0.0/node_modules/shared");
  CHECK_FALSE(find_link(a.links, "node_modules/.pnpm/app-a@1.0.0_peer-p@2.0.0/node_modules/app-a"));  // no self link
  CHECK_FALSE(find_link(a.links, "node_modules/.pnpm/app-a@1.0.0_peer-p@2.0.0/node_modules/darwin-only"));
  auto& b = plan->packages[plan->by_dep_path.at("@s/b@1.0.0")];
  auto* alias = find_link(b.links, "node_modules/.pnpm/@s+b@1.0.0/node_modules/renamed");
  REQUIRE(alias);
  CHECK(alias->target == "../../shared@1.0.0/node_modules/shared");
  auto* root = find_link(plan->top_links, "node_modules/@s/b");
  REQUIRE(root);
  CHECK(root->target == "../.pnpm/@s+b@1.0.0/node_modules/@s/b");
  // Hoisting walks depth by depth, each depth in slot-name order: "@s+b@1.0.0" sorts
  // before "app-a@...", so @s/b's child shared@2.0.0 takes the alias.
  auto* hoisted = find_link(plan->top_links, "node_modules/.pnpm/node_modules/shared");
  REQUIRE(hoisted);
  CHECK(hoisted->target == "../shared@2.0.0/node_modules/shared");
  CHECK(find_link(plan->top_links, "node_modules/.pnpm/node_modules/peer-p"));
  CHECK_FALSE(find_link(plan->top_links, "node_modules/.pnpm/node_modules/app-a"));  // direct deps are not hoisted
  // Root .bin: the direct dev-tool, plus the bin of app-a's undeclared peer.
  auto rb = std::find_if(plan->bins.begin(), plan->bins.end(), [](auto& t) { return t.bin_dir == "node_modules/.bin"; });
  REQUIRE(rb != plan->bins.end());
  std::vector<std::string> locs;
  for (auto& src : rb->sources) locs.push_back(src.location);
  std::sort(locs.begin(), locs.end());
  CHECK(locs == std::vector<std::string>{"node_modules/.pnpm/peer-p@2.0.0/node_modules/peer-p", "node_modules/dev-tool"});
}

TEST_CASE("plan: --prod leaves devDependencies out, supportedArchitectures brings platforms in") {
  auto lf = Lockfile::parse(kLock, "pnpm-lock.yaml");
  REQUIRE(lf);
  Settings s;
  PlanOptions o;
  o.platform = Platform{"linux", "x64", "glibc"};
  o.include.dev = false;
  auto prod = make_plan(*lf, s, o);
  REQUIRE(prod);
  CHECK_FALSE(prod->by_dep_path.count("dev-tool@1.0.0"));
  CHECK_FALSE(find_link(prod->top_links, "node_modules/dev-tool"));
  s.supported_architectures = SupportedArchitectures{{"darwin", "linux", "win32"}, {}, {}};
  o.include.dev = true;
  auto all = make_plan(*lf, s, o);
  REQUIRE(all);
  CHECK(all->skipped.empty());
  CHECK(all->by_dep_path.count("only-via-darwin@1.0.0"));
}

TEST_CASE("platform and engines checks") {
  std::vector<std::string> supported{"darwin", "current"};
  CHECK(platform_supported({"darwin"}, nullptr, "darwin"));
  CHECK_FALSE(platform_supported({"darwin"}, nullptr, "linux"));
  CHECK(platform_supported({"!win32"}, nullptr, "linux"));
  CHECK_FALSE(platform_supported({"!linux"}, nullptr, "linux"));
  CHECK(platform_supported({"any"}, nullptr, "linux"));
  CHECK(platform_supported({"darwin"}, &supported, "linux"));
  CHECK(platform_supported({"linux"}, &supported, "linux"));
  struct Row {
    const char* v;
    const char* range;
    bool ok;
  };
  for (auto r : {Row{"20.20.2", ">=14", true}, Row{"20.20.2", "^12.20.0 || ^14.13.1 || >=16.0.0", true},
                 Row{"20.20.2", "^18", false}, Row{"20.20.2", ">= 0.8", true}, Row{"20.20.2", "0.10.x", false},
                 Row{"20.20.2", ">=4 <5", false}, Row{"20.20.2", "*", true}, Row{"20.20.2", "^8.16.0 || ^10.6.0 || >=11.0.0", true},
                 Row{"20.20.2", "~20.20.0", true}, Row{"20.20.2", "~20.19", false}, Row{"20.20.2", "16 - 20", true},
                 Row{"20.20.2", "<=20", true}, Row{"20.20.2", ">20", false}, Row{"20.20.2", "^4.5 || 6.* || >= 7.*", true}}) {
    CAPTURE(r.v, r.range);
    CHECK(semver_satisfies(r.v, r.range) == r.ok);
  }
}
