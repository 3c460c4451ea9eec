#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "packument_cache.hpp"
#include "packument_json.hpp"
#include "tarn/config/config.hpp"
#include "tarn/fs/fs.hpp"
#include "tarn/net/fetcher.hpp"
#include "tarn/resolve/packument.hpp"
#include "testing.hpp"

using namespace tarn;
using namespace tarn::resolve;
using namespace std::chrono_literals;

namespace {

PkgName name_of(std::string_view s) { return *PkgName::parse(s); }

// A packument with one version whose manifest is `manifest` (a JSON object's members).
std::string one_version(const std::string& manifest, const std::string& version = "1.0.0") {
  return R"({"name":"p","dist-tags":{"latest":")" + version + R"("},"versions":{")" + version +
         R"(":{"name":"p","version":")" + version + R"(",)" + manifest + "}}}";
}
// sha512 of the empty string.
const std::string kSha512 = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";
const std::string kDist = R"("dist":{"tarball":"https://r/p/-/p-1.0.0.tgz","integrity":")" + kSha512 + R"("})";

std::vector<std::string> versions_of(const Packument& p) {
  std::vector<std::string> out;
  for (auto& v : p.versions) out.push_back(v.version.str());
  return out;
}

}  // namespace

TEST_CASE("parse_packument: each manifest field as pnpm reads it") {
  struct Row {
    std::string what, manifest;
    std::function<bool(const PackageVersion&)> check;
  };
  std::vector<Row> rows = {
      {"integrity from dist.integrity", kDist, [](auto& v) { return v.integrity && v.integrity->str() == kSha512; }},
      // sha1("test"): a94a8fe5... is qUqP5cyxm6YcTAhz05Hph5gvu9M= in base64.
      {"sha1 from dist.shasum", R"("dist":{"tarball":"t","shasum":"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"})",
       [](auto& v) { return v.integrity && v.integrity->str() == "sha1-qUqP5cyxm6YcTAhz05Hph5gvu9M="; }},
      {"integrity wins over shasum",
       R"("dist":{"tarball":"t","integrity":")" + kSha512 + R"(","shasum":"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"})",
       [](auto& v) { return v.integrity->algo() == Integrity::Algo::Sha512; }},
      {"a shasum that is not hex leaves none", R"("dist":{"tarball":"t","shasum":"zz"})",
       [](auto& v) { return !v.integrity && v.tarball.str() == "t"; }},
      {"bin as a path", R"("bin":"./cli.js",)" + kDist, [](auto& v) { return v.has_bin; }},
      {"bin as a map", R"("bin":{"x":"./x.js"},)" + kDist, [](auto& v) { return v.has_bin; }},
      {"empty bin map", R"("bin":{},)" + kDist, [](auto& v) { return !v.has_bin; }},
      {"empty bin path", R"("bin":"",)" + kDist, [](auto& v) { return !v.has_bin; }},
      {"directories.bin", R"("directories":{"bin":"./bin"},)" + kDist, [](auto& v) { return v.has_bin; }},
      {"hasBin from a registry is not a bin", R"("hasBin":true,)" + kDist, [](auto& v) { return !v.has_bin; }},
      {"deprecated reason", R"("deprecated":"use q",)" + kDist, [](auto& v) { return v.deprecated == "use q"; }},
      {"deprecated: true", R"("deprecated":true,)" + kDist, [](auto& v) { return v.deprecated == ""; }},
      {"deprecated: false", R"("deprecated":false,)" + kDist, [](auto& v) { return !v.deprecated; }},
      {"optional peers",
       R"("peerDependencies":{"a":"1","b":"2"},"peerDependenciesMeta":{"a":{"optional":true},"b":{"optional":false}},)" + kDist,
       [](auto& v) { return v.optional_peers == std::vector<std::string>{"a"} && v.peer_dependencies.size() == 2; }},
      {"dependencies in manifest order, non-strings dropped", R"("dependencies":{"z":"^1","a":"~2","x":{"no":1}},)" + kDist,
       [](auto& v) {
         return v.dependencies == std::vector<std::pair<std::string, std::string>>{{"z", "^1"}, {"a", "~2"}};
       }},
      {"engines, os, cpu, libc as a string", R"("engines":{"node":">=8"},"os":["linux"],"cpu":["x64","arm64"],"libc":"glibc",)" + kDist,
       [](auto& v) {
         return v.engines.size() == 1 && v.engines[0].second == ">=8" && v.os.size() == 1 && v.cpu.size() == 2 &&
                v.libc == std::vector<std::string>{"glibc"};
       }},
      {"bundleDependencies: true", R"("bundleDependencies":true,)" + kDist, [](auto& v) { return v.bundle_all; }},
      {"bundledDependencies list", R"("bundledDependencies":["a","b"],)" + kDist,
       [](auto& v) { return !v.bundle_all && v.bundled_dependencies.size() == 2; }},
      {"install script", R"("scripts":{"test":"x","postinstall":"node i.js"},)" + kDist,
       [](auto& v) { return v.has_install_script; }},
      {"hasInstallScript", R"("hasInstallScript":true,)" + kDist, [](auto& v) { return v.has_install_script; }},
      {"no install script", R"("scripts":{"test":"x"},)" + kDist, [](auto& v) { return !v.has_install_script; }},
  };
  for (auto& r : rows) {
    CAPTURE(r.what);
    auto p = parse_packument(one_version(r.manifest), name_of("p"));
    REQUIRE(p);
    REQUIRE(p->versions.size() == 1);
    CHECK(r.check(p->versions[0]));
  }
}

TEST_CASE("parse_packument: versions pnpm cannot decode are skipped, the rest sorted ascending") {
  struct Row {
    std::string what, manifest;
  };
  // Each would fail pnpm's typed decode of that version, which then counts as absent.
  for (auto& r : {Row{"no dist", R"("x":1)"}, Row{"no tarball", R"("dist":{"integrity":")" + kSha512 + R"("})"},
                  Row{"integrity that does not parse", R"("dist":{"tarball":"t","integrity":"md5-xx"})"},
                  Row{"dependencies as an array", R"("dependencies":["a"],)" + kDist},
                  Row{"devDependencies as a string", R"("devDependencies":"a",)" + kDist},
                  Row{"deprecated as a number", R"("deprecated":1,)" + kDist},
                  Row{"peerDependenciesMeta entry not an object", R"("peerDependenciesMeta":{"a":true},)" + kDist}}) {
    CAPTURE(r.what);
    auto p = parse_packument(one_version(r.manifest), name_of("p"));
    REQUIRE(p);
    CHECK(p->versions.empty());
  }
  std::string doc = R"({"versions":{
    "10.0.0":{"version":"10.0.0",)" + kDist + R"(},
    "latest":{"version":"latest",)" + kDist + R"(},
    "01.0.0":{"version":"01.0.0",)" + kDist + R"(},
    "1.0":{"version":"1.0",)" + kDist + R"(},
    "2.0.0":{"version":"2.0.0",)" + kDist + R"(},
    "1.0.0-rc.1":{"version":"1.0.0-rc.1",)" + kDist + R"(},
    "1.0.0":{"version":"1.0.0",)" + kDist + R"(},
    "3.0.0":{"version":"nope",)" + kDist + R"(}}})";
  auto p = parse_packument(doc, name_of("p"));
  REQUIRE(p);
  CHECK(versions_of(*p) == std::vector<std::string>{"1.0.0-rc.1", "1.0.0", "2.0.0", "10.0.0"});
  REQUIRE(p->find(*Version::parse("2.0.0")));
  CHECK_FALSE(p->find(*Version::parse("3.0.0")));
}

TEST_CASE("parse_packument: scoped names, dist-tags, time kept only when it covers every version") {
  std::string complete = R"({"name":"@s/p","dist-tags":{"latest":"1.1.0","next":"2.0.0-0"},
    "time":{"created":"2020-01-01T00:00:00.000Z","modified":"2024-12-02T18:34:18.449Z",
            "1.0.0":"2020-01-01T00:00:00.000Z","1.1.0":"2021-01-01T00:00:00.000Z"},
    "versions":{"1.0.0":{"version":"1.0.0",)" + kDist + R"(},"1.1.0":{"version":"1.1.0",)" + kDist + "}}}";
  auto p = parse_packument(complete, name_of("@s/p"));
  REQUIRE(p);
  CHECK(p->name.str() == "@s/p");
  CHECK(p->dist_tags.at("next") == "2.0.0-0");
  CHECK(p->time.size() == 2);
  CHECK(p->time.at("1.1.0") == "2021-01-01T00:00:00.000Z");
  CHECK(p->modified == "2024-12-02T18:34:18.449Z");
  std::string incomplete = complete;
  incomplete.replace(incomplete.find(R"("1.1.0":"2021)"), 7, R"("9.9.9")");
  auto q = parse_packument(incomplete, name_of("@s/p"));
  REQUIRE(q);
  CHECK(q->time.empty());  // pnpm's drop_incomplete_publish_times
  CHECK(q->modified == "2024-12-02T18:34:18.449Z");
  CHECK(PackumentClient::url_for("https://r.test/", name_of("@s/p")) == "https://r.test/@s%2Fp");
  CHECK(PackumentClient::url_for("https://r.test/npm", name_of("a.b-c_d")) == "https://r.test/npm/a.b-c_d");
}

TEST_CASE("parse_packument: hostile or broken bodies fail with the package named") {
  struct Row {
    std::string what, body;
  };
  for (auto& r : {Row{"deep nesting", std::string(100000, '[') + std::string(100000, ']')},
                  Row{"nesting under a version", R"({"versions":{"1.0.0":)" + std::string(200, '[')},
                  Row{"not an object", "[1,2]"}, Row{"truncated", R"({"versions":{"1.0.0":{)"}, Row{"empty", ""}}) {
    CAPTURE(r.what);
    auto p = parse_packument(r.body, name_of("@s/hostile"));
    REQUIRE_FALSE(p);
    CHECK(p.error().code == Code::MetadataDecode);
    CHECK(p.error().code_name() == "ERR_PNPM_RESOLVING_NPM_RESOLVER_DECODE_ERROR");
    CHECK(p.error().message.find("@s/hostile") != std::string::npos);
  }
}

TEST_CASE("cache body: the trimmed model survives serialize and parse, bins included") {
  std::string doc = R"({"modified":"2024-01-02T03:04:05Z","dist-tags":{"latest":"1.0.0+b"},"versions":{"1.0.0+b":{"version":"1.0.0+b",
    "bin":"x.js","dependencies":{"z":"1","a":"2"},"peerDependencies":{"r":"*"},"peerDependenciesMeta":{"r":{"optional":true}},
    "engines":{"node":">=1"},"libc":["musl"],"bundleDependencies":["z"],"deprecated":"","hasInstallScript":true,
    "dist":{"tarball":"t","shasum":"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"}}},"time":{"1.0.0+b":"2020-01-01T00:00:00Z"}})";
  auto a = parse_packument(doc, name_of("p"));
  REQUIRE(a);
  auto b = detail::parse(detail::serialize(*a), name_of("p"), detail::Source::Cache);
  REQUIRE(b);
  REQUIRE(b->versions.size() == 1);
  const PackageVersion &x = a->versions[0], &y = b->versions[0];
  CHECK(y.version.build() == "b");
  CHECK(y.has_bin == x.has_bin);
  CHECK(y.has_bin);
  CHECK(y.dependencies == x.dependencies);
  CHECK(y.optional_peers == x.optional_peers);
  CHECK(y.engines == x.engines);
  CHECK(y.libc == x.libc);
  CHECK(y.bundled_dependencies == x.bundled_dependencies);
  CHECK(y.deprecated == x.deprecated);
  CHECK(y.has_install_script);
  CHECK(y.integrity->str() == x.integrity->str());
  CHECK(b->time == a->time);
  CHECK(b->modified == a->modified);
  CHECK(b->dist_tags == a->dist_tags);
  CHECK(detail::http_date_from_iso("2024-12-02T18:34:18.449Z") == "Mon, 02 Dec 2024 18:34:18 GMT");
  CHECK(detail::http_date_from_iso("2024-12-02T20:34:18+02:00") == "Mon, 02 Dec 2024 18:34:18 GMT");
  CHECK(detail::http_date_from_iso("yesterday").empty());
}

namespace {

// Collects a client's answers and waits for them.
struct Answers {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<std::shared_ptr<const Packument>>> got;
  PackumentClient::Callback add() {
    return [this](Result<std::shared_ptr<const Packument>> r) {
      std::lock_guard lk(mu);
      got.push_back(std::move(r));
      cv.notify_all();
    };
  }
  void wait(size_t n) {
    std::unique_lock lk(mu);
    REQUIRE(cv.wait_for(lk, 20s, [&] { return got.size() >= n; }));
  }
};

net::Fetcher::Options fast() {
  net::Fetcher::Options o;
  o.connections = 4;
  o.fetch_retries = 0;
  o.fetch_timeout = 5000ms;
  return o;
}

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

std::string two_versions(const std::string& modified = "2024-12-02T18:34:18.449Z") {
  return R"({"name":"@s/p","modified":")" + modified + R"(","dist-tags":{"latest":"1.1.0"},"versions":{
    "1.0.0":{"version":"1.0.0",)" + kDist + R"(},"1.1.0":{"version":"1.1.0","bin":"b.js",)" + kDist + "}}}";
}

// One get through a fresh client on `cache_dir`; returns the answer and the client's counters.
struct Run {
  Result<std::shared_ptr<const Packument>> result;
  uint64_t bytes, requests, not_modified, cache_hits;
};
Run get_once(test::RegistryServer& server, const std::string& cache_dir, CacheMode mode, const std::string& name,
             bool full = false) {
  net::Fetcher fetcher(fast());
  Answers a;
  Run run{Error(), 0, 0, 0, 0};
  {
    PackumentClient client(fetcher, {server.url(), cache_dir, mode, full, nullptr});
    client.get(name_of(name), full, a.add());
    a.wait(1);
    run = Run{a.got[0], client.metadata_bytes(), client.requests(), client.not_modified(), client.cache_hits()};
  }
  return run;
}

}  // namespace

TEST_CASE("packument client: concurrent gets of one name share one request") {
  test::RegistryServer server;
  server.put("/@s%2Fp", bytes(two_versions()));
  server.set_response_delay_ms(100);
  net::Fetcher fetcher(fast());
  Answers a;
  {
    PackumentClient client(fetcher, {server.url(), "", CacheMode::Revalidate, false, nullptr});
    for (int i = 0; i < 20; ++i) client.get(name_of("@s/p"), false, a.add());
    a.wait(20);
    client.get(name_of("@s/p"), false, a.add());  // after the answer: kept, no second request
    a.wait(21);
    CHECK(client.requests() == 1);
  }
  CHECK(server.requests("/@s%2Fp") == 1);
  for (auto& r : a.got) {
    REQUIRE(r);
    CHECK(r->get() == a.got[0]->get());
  }
  CHECK(versions_of(**a.got[0]) == std::vector<std::string>{"1.0.0", "1.1.0"});
  CHECK(a.got[0].value()->versions[1].has_bin);
}

TEST_CASE("packument client: pnpm's Accept headers, and a 304 revalidation that reuses the cache with no body") {
  test::RegistryServer server;
  test::TempDir cache;
  server.put("/@s%2Fp", bytes(two_versions()));
  server.set_etag("/@s%2Fp", "\"rev-1\"");
  Run cold = get_once(server, cache.path(), CacheMode::Revalidate, "@s/p");
  REQUIRE(cold.result);
  CHECK(cold.bytes == two_versions().size());
  std::string file = detail::cache_path(cache.path(), false, server.url(), name_of("@s/p"));
  CHECK(file.find("/metadata-v1/127.0.0.1+") != std::string::npos);
  CHECK(fs::exists(file));
  CHECK(detail::read_validators(file)->etag == "\"rev-1\"");

  Run warm = get_once(server, cache.path(), CacheMode::Revalidate, "@s/p");
  REQUIRE(warm.result);
  CHECK(warm.requests == 1);
  CHECK(warm.not_modified == 1);
  CHECK(warm.bytes == 0);
  CHECK(versions_of(**warm.result) == versions_of(**cold.result));
  CHECK(warm.result.value()->versions[1].has_bin);

  Run full = get_once(server, cache.path(), CacheMode::Revalidate, "@s/p", true);  // cached apart
  REQUIRE(full.result);
  CHECK(full.not_modified == 0);
  auto log = server.received();
  REQUIRE(log.size() == 3);
  CHECK(log[0].headers["accept"] == "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*");
  CHECK(log[0].headers.count("if-none-match") == 0);
  CHECK(log[1].headers["if-none-match"] == "\"rev-1\"");
  // No Last-Modified was sent: pnpm's If-Modified-Since from the packument's `modified`.
  CHECK(log[1].headers["if-modified-since"] == "Mon, 02 Dec 2024 18:34:18 GMT");
  CHECK(log[2].headers["accept"] == "application/json; q=1.0, */*");
}

TEST_CASE("packument client: a 304 with no usable cached copy is asked again without validators") {
  test::RegistryServer server;
  test::TempDir cache;
  server.put("/p", bytes(two_versions()));
  server.set_etag("/p", "\"e\"");
  REQUIRE(get_once(server, cache.path(), CacheMode::Revalidate, "p").result);
  std::string file = detail::cache_path(cache.path(), false, server.url(), name_of("p"));
  auto v = detail::read_validators(file);
  REQUIRE(v);
  REQUIRE(detail::write_cached(file, *v, "{broken"));  // validators intact, body not
  Run r = get_once(server, cache.path(), CacheMode::Revalidate, "p");
  REQUIRE(r.result);
  CHECK(r.requests == 2);
  CHECK(r.not_modified == 1);
  auto log = server.received();
  REQUIRE(log.size() == 3);
  CHECK(log[2].headers.count("if-none-match") == 0);
  CHECK(log[2].headers["cache-control"] == "no-cache");
  CHECK(detail::read_cached(file)->body.find("1.1.0") != std::string::npos);  // rewritten
}

TEST_CASE("packument client: prefer-offline and offline use the cache without a request") {
  test::RegistryServer server;
  test::TempDir cache;
  server.put("/p", bytes(two_versions()));
  REQUIRE(get_once(server, cache.path(), CacheMode::Revalidate, "p").result);
  REQUIRE(server.requests() == 1);
  for (CacheMode mode : {CacheMode::PreferOffline, CacheMode::Offline}) {
    Run r = get_once(server, cache.path(), mode, "p");
    REQUIRE(r.result);
    CHECK(r.cache_hits == 1);
    CHECK(r.requests == 0);
    CHECK(versions_of(**r.result) == std::vector<std::string>{"1.0.0", "1.1.0"});
  }
  CHECK(server.requests() == 1);
  Run missing = get_once(server, cache.path(), CacheMode::PreferOffline, "q");  // not cached: asked
  CHECK(missing.requests == 1);
  CHECK(server.requests() == 2);
}

TEST_CASE("packument client: offline without a cached copy fails with ERR_PNPM_NO_OFFLINE_META") {
  test::RegistryServer server;
  test::TempDir cache;
  Run r = get_once(server, cache.path(), CacheMode::Offline, "@s/absent");
  REQUIRE_FALSE(r.result);
  CHECK(r.result.error().code_name() == "ERR_PNPM_NO_OFFLINE_META");
  CHECK(r.result.error().message.find("@s/absent") != std::string::npos);
  CHECK(r.result.error().message.find(cache.path()) != std::string::npos);
  CHECK(server.requests() == 0);
}

TEST_CASE("packument client: 404 is ERR_PNPM_FETCH_404 naming the package; other failures fall back to the cache") {
  test::RegistryServer server;
  test::TempDir cache;
  Run r = get_once(server, cache.path(), CacheMode::Revalidate, "@s/nope");
  REQUIRE_FALSE(r.result);
  CHECK(r.result.error().code_name() == "ERR_PNPM_FETCH_404");
  CHECK(r.result.error().message.find("@s/nope is not in the npm registry") != std::string::npos);
  CHECK(r.result.error().message.find("/@s%2Fnope") != std::string::npos);
  CHECK(r.result.error().message.find("No authorization header") != std::string::npos);

  server.put("/p", bytes(two_versions()));
  REQUIRE(get_once(server, cache.path(), CacheMode::Revalidate, "p").result);
  test::RegistryServer::Fault down;
  down.status = 503;
  server.fault("/p", down);
  Run fallback = get_once(server, cache.path(), CacheMode::Revalidate, "p");
  REQUIRE(fallback.result);  // pnpm: a failed fetch of public metadata uses the mirror
  CHECK(fallback.requests == 1);
  CHECK(versions_of(**fallback.result) == std::vector<std::string>{"1.0.0", "1.1.0"});
}

namespace {

// One get of `name` through a client configured by `npmrc` as tarn's install configures it:
// each name's registry (a scope's own, else the default) and each URL's credential.
Run get_configured(const std::string& npmrc, const std::string& name) {
  Settings s;
  apply_npmrc(s, npmrc, "/p");
  net::Fetcher fetcher(fast());
  Answers a;
  Run run{Error(), 0, 0, 0, 0};
  {
    PackumentClientOptions o;
    o.registry = s.registry;
    o.authorization = [&s](const std::string& url) { return s.authorization_for(url); };
    o.registry_for = [&s](const PkgName& n) { return s.registry_for(n); };
    PackumentClient client(fetcher, o);
    client.get(name_of(name), false, a.add());
    a.wait(1);
    run = Run{a.got[0], client.metadata_bytes(), client.requests(), client.not_modified(), client.cache_hits()};
  }
  return run;
}

}  // namespace

TEST_CASE("packument client: a scope's private registry, with its token and no other registry's") {
  test::RegistryServer public_registry, scoped;
  const std::string good = "0123456789abcdefghijklmnopqrstuv";  // long enough for pnpm to show 4 characters
  scoped.require_authorization("Bearer " + good);
  scoped.put("/@s%2Fp", bytes(two_versions()));
  // "http://127.0.0.1:PORT/" as .npmrc's nerf dart "//127.0.0.1:PORT/".
  auto nerf = [](const std::string& url) { return url.substr(5); };
  const std::string scope_line = "registry=" + public_registry.url() + "\n@s:registry=" + scoped.url() + "\n";

  Run ok = get_configured(scope_line + nerf(scoped.url()) + ":_authToken=" + good + "\n" +
                              nerf(public_registry.url()) + ":_authToken=public-token\n",
                          "@s/p");
  REQUIRE(ok.result);
  CHECK(versions_of(**ok.result) == std::vector<std::string>{"1.0.0", "1.1.0"});
  CHECK(public_registry.requests() == 0);  // the scope's registry alone is asked
  REQUIRE(scoped.received().size() == 1);
  CHECK(scoped.received()[0].headers["authorization"] == "Bearer " + good);

  struct Row {
    std::string token_lines, shown;
  };
  const std::string wrong = "WRONGtokenABCDEFGHIJKLMNOPQRSTUV0123456789";
  for (const Row& row : {Row{nerf(scoped.url()) + ":_authToken=" + wrong + "\n",
                             ". An authorization header was used: Bearer WRON[hidden]."},
                         Row{nerf(scoped.url()) + ":_authToken=short\n",
                             ". An authorization header was used: Bearer [hidden]."},
                         // Only the public registry's token: it is not sent to the scope's.
                         Row{nerf(public_registry.url()) + ":_authToken=" + wrong + "\n",
                             ". No authorization header was set for the request."}}) {
    CAPTURE(row.token_lines);
    size_t before = scoped.received().size();
    Run r = get_configured(scope_line + row.token_lines, "@s/p");
    REQUIRE_FALSE(r.result);
    const Error& e = r.result.error();
    CHECK(e.code_name() == "ERR_PNPM_FETCH_401");
    // pnpm 12.21: "GET <url>: Unauthorized - 401" and the hint, the token masked.
    CHECK(e.message.find("@s/p: GET " + scoped.url() + "@s%2Fp: Unauthorized - 401" + row.shown) !=
          std::string::npos);
    CHECK(e.message.find(wrong) == std::string::npos);
    CHECK(e.render().find('\n') == std::string::npos);
    REQUIRE(scoped.received().size() == before + 1);
    auto sent = scoped.received().back().headers;
    bool no_header = row.shown.find("No authorization") != std::string::npos;
    CHECK(sent.count("authorization") == (no_header ? 0u : 1u));
  }
  CHECK(public_registry.requests() == 0);
}
