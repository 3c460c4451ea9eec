// The resolver corpus's infrastructure (test/resolve/cases, scripts/gen-resolve-cases.sh):
// every case loads, its registry serves packuments that parse and tarballs that match them,
// and the lockfile pnpm wrote names exactly the tarballs built here, which holds only if
// the tarballs are the same bytes in every process on every machine.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "registry_case.hpp"
#include "tarn/core/semver.hpp"
#include "tarn/lockfile/lockfile.hpp"
#include "tarn/net/fetcher.hpp"
#include "testing.hpp"

using namespace tarn;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

const std::string kCases = std::string(TARN_SOURCE_DIR) + "/test/resolve/cases";

std::vector<std::string> case_names() {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(kCases))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// GETs every URL over tarn's own fetcher; url -> body, or the error text.
std::map<std::string, Result<net::Body>> fetch_all(const std::vector<std::string>& urls) {
  std::map<std::string, Result<net::Body>> out;
  std::mutex mu;
  net::Fetcher f;
  for (auto& u : urls)
    f.get({u, std::nullopt, u}, [&, u](Result<net::Body>&& b) {
      std::lock_guard lk(mu);
      if (b) f.release(b->size());
      out.emplace(u, std::move(b));
    });
  REQUIRE(f.wait_idle_for(std::chrono::seconds(60)));
  return out;
}

std::string gunzip(const std::vector<uint8_t>& gz) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK);
  std::string out;
  char buf[65536];
  zs.next_in = const_cast<Bytef*>(gz.data());
  zs.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  REQUIRE(rc == Z_STREAM_END);
  CHECK(zs.avail_in == 0);
  return out;
}

// path -> content of the regular files of a ustar stream (what make_tgz writes for short names).
std::map<std::string, std::string> untar(const std::string& tar) {
  std::map<std::string, std::string> files;
  for (size_t pos = 0; pos + 512 <= tar.size();) {
    std::string name = tar.substr(pos, 100).c_str();
    if (name.empty()) break;  // the two zero blocks at the end
    size_t size = std::stoul(tar.substr(pos + 124, 12).c_str(), nullptr, 8);
    if (tar[pos + 156] == '0' || tar[pos + 156] == '\0') files[name] = tar.substr(pos + 512, size);
    pos += 512 + (size + 511) / 512 * 512;
  }
  return files;
}

}  // namespace

TEST_CASE("the corpus has the cases the resolver must reproduce") {
  auto names = case_names();
  CHECK(names.size() >= 20);
  for (auto& n : names) {
    INFO(n);
    std::string dir = kCases + "/" + n;
    CHECK(fs::is_regular_file(dir + "/registry.json"));
    CHECK(fs::is_regular_file(dir + "/project/package.json"));
    CHECK(fs::is_regular_file(dir + "/README.md"));
    CHECK(!test::read_file(dir + "/cmd").empty());
    bool failed = fs::exists(dir + "/expected/exit-code");
    CHECK(fs::is_regular_file(dir + "/expected/output.txt"));
    // A run that left the project's own lockfile as it was (a frozen install) wrote none.
    bool kept = fs::exists(dir + "/project/pnpm-lock.yaml");
    bool wrote = fs::exists(dir + "/expected/pnpm-lock.yaml");
    CHECK((failed ? !wrote : wrote || kept));
  }
}

TEST_CASE("every case serves packuments that parse and tarballs that match them") {
  auto name = GENERATE(from_range(case_names()));
  INFO(name);
  test::RegistryServer server;
  test::RegistryCase c = test::load_registry_case(server, kCases + "/" + name);
  REQUIRE(!c.packuments.empty());

  std::vector<std::string> urls;
  for (auto& p : c.packuments) urls.push_back(server.url() + p.path.substr(1));
  auto bodies = fetch_all(urls);
  std::vector<std::pair<std::string, std::string>> wanted;  // tarball URL, integrity
  std::map<std::string, std::string> shasums;
  std::map<std::string, json::object> manifests;  // tarball URL -> packument version
  for (auto& p : c.packuments) {
    INFO(p.name);
    auto& body = bodies.at(server.url() + p.path.substr(1));
    REQUIRE(body);
    boost::system::error_code ec;
    json::value doc = json::parse(std::string(body->begin(), body->end()), ec);
    REQUIRE(!ec);
    CHECK(doc.at("name").as_string() == p.name);
    auto& versions = doc.at("versions").as_object();
    CHECK(!versions.empty());
    for (auto& [tag, v] : doc.at("dist-tags").as_object()) CHECK(versions.contains(v.as_string()));
    for (auto& [v, entry] : versions) {
      CHECK(doc.at("time").as_object().contains(v));
      auto& dist = entry.at("dist").as_object();
      std::string url(dist.at("tarball").as_string());
      CHECK(url == server.url() + test::tarball_path(p.name, std::string(v)).substr(1));
      wanted.emplace_back(url, std::string(dist.at("integrity").as_string()));
      shasums[url] = dist.at("shasum").as_string();
      manifests[url] = entry.as_object();
    }
  }
  CHECK(wanted.size() == c.tarballs.size());

  std::vector<std::string> tarball_urls;
  for (auto& [u, i] : wanted) tarball_urls.push_back(u);
  auto tarballs = fetch_all(tarball_urls);
  for (auto& [url, integrity] : wanted) {
    INFO(url);
    auto& body = tarballs.at(url);
    REQUIRE(body);
    CHECK(test::sri_sha512(*body) == integrity);
    CHECK(test::sha1_hex(*body) == shasums.at(url));
    // The tarball's package.json is the packument's version, less what the registry adds.
    auto files = untar(gunzip(*body));
    REQUIRE(files.count("package/package.json"));
    json::object in_tarball = json::parse(files.at("package/package.json")).as_object();
    json::object served = manifests.at(url);
    served.erase("_id");
    served.erase("dist");
    CHECK(in_tarball == served);
  }
}

TEST_CASE("each expected lockfile names the tarballs the tests build, by integrity only") {
  auto name = GENERATE(from_range(case_names()));
  INFO(name);
  std::string dir = kCases + "/" + name;
  std::string lock_path = dir + "/expected/pnpm-lock.yaml";
  if (!fs::exists(lock_path) && !fs::exists(dir + "/expected/exit-code")) lock_path = dir + "/project/pnpm-lock.yaml";
  if (!fs::exists(lock_path)) {
    CHECK(fs::exists(dir + "/expected/exit-code"));  // pnpm refused: nothing to compare
    return;
  }
  test::RegistryServer server;
  test::RegistryCase c = test::load_registry_case(server, dir);
  std::map<std::string, const test::CaseTarball*> by_key;
  for (auto& t : c.tarballs) by_key[t.name + "@" + t.version] = &t;

  auto lock = Lockfile::load(lock_path);
  REQUIRE(lock);
  std::string text = test::read_file(lock_path);
  // pnpm writes no tarball URL for a registry package at the standard path, so no port; a
  // tarball URL or git repository is named through a placeholder.
  CHECK(text.find("127.0.0.1") == std::string::npos);
  CHECK(text.find("localhost") == std::string::npos);
  for (auto& [key, meta] : lock->packages) {
    INFO(key);
    std::string name = key.substr(0, key.find('@', 1)), ref = key.substr(name.size() + 1);
    if (Version::parse(ref)) {
      CHECK(meta.resolution == ResolutionKind::Registry);
      REQUIRE(by_key.count(key));
      REQUIRE(meta.integrity);
      CHECK(meta.integrity->str() == by_key.at(key)->integrity);
    } else if (ref.rfind("<tarballs>/", 0) == 0) {
      // The registry's own tarball under another host name (tarball-url).
      CHECK(meta.resolution == ResolutionKind::Tarball);
      CHECK(meta.tarball.str() == ref);
      REQUIRE(by_key.count(name + "@" + meta.version));
      REQUIRE(meta.integrity);
      CHECK(meta.integrity->str() == by_key.at(name + "@" + meta.version)->integrity);
    } else if (ref.rfind("file:", 0) == 0 && ref.size() > 4 && ref.substr(ref.size() - 4) == ".tgz") {
      std::string bytes = test::read_file(dir + "/project/" + ref.substr(5));
      CHECK(meta.resolution == ResolutionKind::Tarball);
      REQUIRE(meta.integrity);
      CHECK(meta.integrity->str() == test::sri_sha512(std::vector<uint8_t>(bytes.begin(), bytes.end())));
    } else if (ref.rfind("file:", 0) == 0) {
      CHECK(meta.resolution == ResolutionKind::Directory);
      CHECK(fs::exists(dir + "/project/" + meta.directory + "/package.json"));
    } else {
      // git: the commit of git-src/ as make-git-repo.sh commits it.
      CHECK(ref.rfind("git+file://<git>/repo.git#", 0) == 0);
      CHECK(meta.resolution == ResolutionKind::Git);
      CHECK(meta.git_commit.size() == 40);
      CHECK(fs::exists(dir + "/git-src/package.json"));
    }
  }
}

TEST_CASE("a case's tarballs are the same bytes on every load, whatever the port") {
  std::string dir = kCases + "/basic-dedupe";
  test::RegistryServer s1, s2;
  REQUIRE(s1.url() != s2.url());
  auto a = test::load_registry_case(s1, dir);
  auto b = test::load_registry_case(s2, dir);
  REQUIRE(a.tarballs.size() == b.tarballs.size());
  for (size_t i = 0; i < a.tarballs.size(); ++i) {
    CHECK(a.tarballs[i].bytes == b.tarballs[i].bytes);
    CHECK(a.tarballs[i].path == b.tarballs[i].path);
  }
  // Packuments differ only by the server's URL in dist.tarball.
  REQUIRE(a.packuments.size() == b.packuments.size());
  for (size_t i = 0; i < a.packuments.size(); ++i) {
    std::string x = a.packuments[i].json, y = b.packuments[i].json;
    for (size_t p; (p = x.find(s1.url())) != std::string::npos;) x.replace(p, s1.url().size(), "<url>");
    for (size_t p; (p = y.find(s2.url())) != std::string::npos;) y.replace(p, s2.url().size(), "<url>");
    CHECK(x == y);
  }
}

TEST_CASE("reproducible tarballs round-trip through zlib, across stored-block boundaries") {
  // 0 bytes of content, one block, and content that spans several 65535-byte blocks.
  for (size_t size : {size_t{0}, size_t{1000}, size_t{200'000}}) {
    INFO(size);
    std::string content(size, '\0');
    for (size_t i = 0; i < size; ++i) content[i] = static_cast<char>('a' + (i * 7919) % 26);
    auto tgz = test::make_reproducible_tgz({{"package/data.txt", content}, {"package/x.js", "x"}});
    CHECK(tgz == test::make_reproducible_tgz({{"package/data.txt", content}, {"package/x.js", "x"}}));
    auto files = untar(gunzip(tgz));
    CHECK(files.size() == 2);
    CHECK(files["package/data.txt"] == content);
    CHECK(files["package/x.js"] == "x");
  }
}

TEST_CASE("a registry.json with a misspelt field fails to load, naming the entry") {
  test::TempDir d;
  test::write_file(d.path() + "/registry.json", R"({"a": {"versions": {"1.0.0": {"dependecies": {}}}}})");
  test::RegistryServer server;
  CHECK_THROWS_WITH(test::load_registry_case(server, d.path()),
                    Catch::Contains("a@1.0.0") && Catch::Contains("dependecies"));
  test::write_file(d.path() + "/registry.json", R"({"a": {"versions": {"one": {}}}})");
  CHECK_THROWS_WITH(test::load_registry_case(server, d.path()), Catch::Contains("invalid version"));
}

TEST_CASE("npm's URL layout for packuments and tarballs") {
  CHECK(test::packument_path("lodash") == "/lodash");
  CHECK(test::packument_path("@types/node") == "/@types%2fnode");
  CHECK(test::tarball_path("lodash", "4.17.21") == "/lodash/-/lodash-4.17.21.tgz");
  CHECK(test::tarball_path("@types/node", "20.0.0") == "/@types/node/-/node-20.0.0.tgz");
}
