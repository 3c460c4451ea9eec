#include <catch2/catch.hpp>

#include "testing.hpp"

#include "tarn/config/config.hpp"

using namespace tarn;

TEST_CASE(".npmrc: registries, scoped registries, tokens, store and hoisting") {
  ::setenv("TARN_TEST_TOKEN", "s3cret", 1);
  Settings s;
  apply_npmrc(s, R"(
# comment
registry=https://r.example.com/npm
@corp:registry = https://corp.example.com/
//corp.example.com/:_authToken=${TARN_TEST_TOKEN}
//r.example.com/npm/:_authToken=public
store-dir=../store
hoist-pattern[]=*types*
hoist-pattern[]=!@types/react
public-hoist-pattern[]=*eslint*
)", "/home/u/proj");
  CHECK(s.registry == "https://r.example.com/npm/");
  CHECK(s.registry_for(*PkgName::parse("@corp/x")) == "https://corp.example.com/");
  CHECK(s.registry_for(*PkgName::parse("lodash")) == "https://r.example.com/npm/");
  CHECK(s.store_dir == "/home/u/store");
  CHECK(s.authorization_for("https://corp.example.com/@corp/x/-/x-1.0.0.tgz") == "Bearer s3cret");
  CHECK(s.authorization_for("https://r.example.com/npm/lodash/-/lodash-1.tgz") == "Bearer public");
  CHECK_FALSE(s.authorization_for("https://other.example.com/a.tgz"));
  CHECK(s.tarball_url(*PkgName::parse("@corp/x"), "1.0.0").str() == "https://corp.example.com/@corp/x/-/x-1.0.0.tgz");
  Matcher m(s.hoist_pattern);
  CHECK(m.matches("@types/node"));
  CHECK_FALSE(m.matches("@types/react"));
  CHECK_FALSE(m.matches("lodash"));
  CHECK(s.public_hoist_pattern == std::vector<std::string>{"*eslint*"});
}

TEST_CASE("pnpm-workspace.yaml: storeDir, supportedArchitectures, patterns") {
  Settings s;
  auto r = apply_workspace_yaml(s, R"(storeDir: ./store-dir
supportedArchitectures:
  os: [darwin, linux]
  cpu: [x64]
publicHoistPattern: ['*prettier*']
hoist: false
)", "/w/pnpm-workspace.yaml");
  REQUIRE(r);
  CHECK(s.store_dir == "/w/store-dir");
  REQUIRE(s.supported_architectures);
  CHECK(s.supported_architectures->os == std::vector<std::string>{"darwin", "linux"});
  CHECK(s.supported_architectures->libc.empty());
  CHECK(s.hoist_pattern.empty());
  CHECK(s.public_hoist_pattern == std::vector<std::string>{"*prettier*"});
  auto bad = apply_workspace_yaml(s, "a: [", "/w/pnpm-workspace.yaml");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("/w/pnpm-workspace.yaml") != std::string::npos);
}

TEST_CASE("glob matching as hoist patterns use it") {
  struct Row {
    const char* glob;
    const char* s;
    bool match;
  };
  for (auto r : {Row{"*", "anything", true}, Row{"*eslint*", "eslint-plugin-x", true}, Row{"*eslint*", "@x/eslint", true},
                 Row{"@types/*", "@types/node", true}, Row{"@types/*", "types", false}, Row{"a*b", "acb", true},
                 Row{"a*b", "acbd", false}}) {
    CAPTURE(r.glob, r.s);
    CHECK(glob_match(r.glob, r.s) == r.match);
  }
}

TEST_CASE(".npmrc credentials: token, _auth, username and _password, scoped by registry path") {
  struct Row {
    std::string npmrc, url;
    std::optional<std::string> header;
  };
  // "dXNlcjpwYXNz" is base64("user:pass"); "cGFzcw==" is base64("pass").
  std::vector<Row> rows = {
      {"//r.test/:_authToken=t1\n", "https://r.test/a/-/a-1.tgz", "Bearer t1"},
      {"//r.test/:_auth=dXNlcjpwYXNz\n", "https://r.test/a.tgz", "Basic dXNlcjpwYXNz"},
      {"//r.test/:username=user\n//r.test/:_password=cGFzcw==\n", "https://r.test/a.tgz", "Basic dXNlcjpwYXNz"},
      {"//r.test/:username=user\n", "https://r.test/a.tgz", std::nullopt},
      {"//r.test/deep/:_authToken=deep\n//r.test/:_authToken=top\n", "https://r.test/deep/a.tgz", "Bearer deep"},
      {"//r.test/deep/:_authToken=deep\n//r.test/:_authToken=top\n", "https://r.test/other/a.tgz", "Bearer top"},
      {"registry=https://r.test/\n_authToken=bare\n", "https://r.test/a.tgz", "Bearer bare"},
      {"registry=https://r.test/\n_authToken=bare\n", "https://elsewhere.test/a.tgz", std::nullopt},
      {"//r.test/:_authToken=t1\n", "https://r.test.evil/a.tgz", std::nullopt},
  };
  for (auto& r : rows) {
    CAPTURE(r.npmrc, r.url);
    Settings s;
    apply_npmrc(s, r.npmrc, "/p");
    CHECK(s.authorization_for(r.url) == r.header);
  }
}

TEST_CASE("settings from the environment: npm_config_* and pnpm_config_* become .npmrc lines") {
  std::vector<std::string> vars = {"npm_config_registry=https://env.test/", "PNPM_CONFIG_STORE_DIR=/env/store",
                                   "npm_config_fetch_retries=5", "npm_config__auth=secret", "HOME=/root",
                                   "npm_config_=x"};
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::string text = environment_npmrc(envp.data());
  CHECK(text == "registry=https://env.test/\nstore-dir=/env/store\nfetch-retries=5\n");
  Settings s;
  apply_npmrc(s, text, "/p");
  CHECK(s.registry == "https://env.test/");
  CHECK(s.store_dir == "/env/store");
  CHECK(s.fetch_retries == 5);
}

TEST_CASE("fetch settings: negative or absurd numbers keep pnpm's defaults") {
  struct Row {
    std::string line;
    unsigned retries;
  };
  for (auto& r : {Row{"fetch-retries=5", 5}, Row{"fetch-retries=-1", 2}, Row{"fetch-retries=x", 2},
                  Row{"fetch-retries=99999999999", 2}}) {
    CAPTURE(r.line);
    Settings s;
    apply_npmrc(s, r.line + "\n", "/p");
    CHECK(s.fetch_retries == r.retries);
  }
}

TEST_CASE("resolution settings: pnpm 12's defaults, both spellings, bad values ignored") {
  Settings d;
  CHECK(d.minimum_release_age == 1440);
  CHECK(d.resolution_mode == "highest");
  CHECK(d.save_prefix == "^");
  struct Row {
    std::string npmrc, yaml;
    unsigned age;
    std::string mode, prefix;
    bool strict;
  } rows[] = {
      {"minimum-release-age=0\n", "", 0, "highest", "^", false},
      {"", "minimumReleaseAge: 60\nresolutionMode: lowest-direct\nsavePrefix: '~'\n", 60, "lowest-direct", "~", false},
      {"minimum-release-age=-5\nresolution-mode=fastest\nsave-exact=true\nstrict-peer-dependencies=true\n", "", 1440,
       "highest", "", true},
  };
  for (auto& r : rows) {
    Settings s;
    apply_npmrc(s, r.npmrc, "/p");
    REQUIRE(apply_workspace_yaml(s, r.yaml, "/p/pnpm-workspace.yaml"));
    INFO(r.npmrc << r.yaml);
    CHECK(s.minimum_release_age == r.age);
    CHECK(s.resolution_mode == r.mode);
    CHECK(s.save_prefix == r.prefix);
    CHECK(s.strict_peer_dependencies == r.strict);
  }
  Settings s;
  REQUIRE(apply_workspace_yaml(s, "minimumReleaseAgeExclude:\n  - react\n  - '@types/*'\n", "/p/w.yaml"));
  CHECK(s.minimum_release_age_exclude == std::vector<std::string>{"react", "@types/*"});
}

TEST_CASE("cache-dir, offline and prefer-offline: .npmrc, pnpm-workspace.yaml, and the default beside the store") {
  Settings s;
  apply_npmrc(s, "cache-dir=../cache\nprefer-offline=true\n", "/home/u/proj");
  CHECK(s.cache_dir == "/home/u/cache");
  CHECK(s.prefer_offline);
  CHECK_FALSE(s.offline);
  REQUIRE(apply_workspace_yaml(s, "cacheDir: ./c\noffline: true\npreferOffline: false\n", "/w/pnpm-workspace.yaml"));
  CHECK(s.cache_dir == "/w/c");
  CHECK(s.offline);
  CHECK_FALSE(s.prefer_offline);
  const char* home = std::getenv("HOME");
  std::string old_home = home ? home : "";
  ::unsetenv("TARN_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
  CHECK(default_cache_dir() == "/xdg/cache/tarn");
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", "/home/v", 1);
  CHECK(default_cache_dir() == "/home/v/.cache/tarn");
  ::setenv("TARN_CACHE_DIR", "/explicit", 1);
  CHECK(default_cache_dir() == "/explicit");
  ::unsetenv("TARN_CACHE_DIR");
  if (home) ::setenv("HOME", old_home.c_str(), 1);
  else ::unsetenv("HOME");
}

TEST_CASE(".npmrc proxy keys: pnpm 12's cascade over the keys and HTTPS_PROXY / HTTP_PROXY / PROXY / NO_PROXY") {
  struct Row {
    const char* npmrc;
    std::map<std::string, std::string> env;
    const char *https, *http, *no_proxy;
  } rows[] = {
      {"", {}, "", "", ""},
      {"https-proxy=http://s:1\nhttp-proxy=http://p:2\nno-proxy=a.com", {}, "http://s:1", "http://p:2", "a.com"},
      // http falls back to what the https side resolved to, the environment included.
      {"https-proxy=http://s:1", {}, "http://s:1", "http://s:1", ""},
      {"", {{"HTTPS_PROXY", "http://e:1"}}, "http://e:1", "http://e:1", ""},
      {"", {{"https_proxy", "http://lower:1"}, {"HTTP_PROXY", "http://h:2"}}, "http://lower:1", "http://lower:1", ""},
      {"", {{"HTTP_PROXY", "http://h:2"}, {"NO_PROXY", "x.org"}}, "", "http://h:2", "x.org"},
      {"", {{"PROXY", "http://legacy:3"}}, "", "http://legacy:3", ""},
      // Upper case wins over lower case; an empty variable still shadows the one below it.
      {"", {{"HTTPS_PROXY", ""}, {"https_proxy", "http://lower:1"}}, "", "", ""},
      {"", {{"NO_PROXY", "up.org"}, {"no_proxy", "low.org"}}, "", "", "up.org"},
      // .npmrc beats the environment; "false", "" and "null" read as unset and fall through.
      {"https-proxy=http://rc:1", {{"HTTPS_PROXY", "http://e:1"}}, "http://rc:1", "http://rc:1", ""},
      {"https-proxy=false", {{"HTTPS_PROXY", "http://e:1"}}, "http://e:1", "http://e:1", ""},
      // The legacy `proxy` key feeds the https side; proxy=false turns proxies off entirely.
      {"proxy=http://old:8", {}, "http://old:8", "http://old:8", ""},
      {"proxy=false", {{"HTTPS_PROXY", "http://e:1"}, {"HTTP_PROXY", "http://h:2"}}, "", "", ""},
      {"proxy=false\nhttp-proxy=http://p:2", {}, "", "http://p:2", ""},
      {"noproxy=b.com", {{"NO_PROXY", "env.org"}}, "", "", "b.com"},
  };
  for (auto& r : rows) {
    CAPTURE(r.npmrc);
    Settings s;
    apply_npmrc(s, r.npmrc, "/p");
    read_proxy_env(s, [&](const char* name) -> const char* {
      auto it = r.env.find(name);
      return it == r.env.end() ? nullptr : it->second.c_str();
    });
    auto p = s.proxy();
    CHECK(p.https == r.https);
    CHECK(p.http == r.http);
    CHECK(p.no_proxy == r.no_proxy);
  }
}

TEST_CASE(".npmrc TLS keys: strict-ssl, ca / ca[] and cafile (relative to its .npmrc)") {
  test::TempDir dir;
  const std::string a = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----";
  const std::string b = "-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----";
  test::write_file(dir.path() + "/certs/bundle.pem", a + "\n" + b + "\n");
  Settings s;
  CHECK(s.strict_ssl);
  apply_npmrc(s, "strict-ssl=false\nca[]=-----BEGIN CERTIFICATE-----\\nINLINE\\n-----END CERTIFICATE-----\ncafile=certs/bundle.pem\n",
              dir.path());
  CHECK_FALSE(s.strict_ssl);
  CHECK(s.cafile == dir.path() + "/certs/bundle.pem");
  auto certs = s.ca_certs();
  REQUIRE(certs.size() == 3);
  CHECK(certs[0] == "-----BEGIN CERTIFICATE-----\nINLINE\n-----END CERTIFICATE-----");
  CHECK(certs[1] == a + "\n");
  CHECK(certs[2] == b + "\n");
  // Only the literal tokens change strict-ssl; a later file's `ca` replaces, a missing
  // cafile is no certificates (pnpm 12 ignores it).
  apply_npmrc(s, "strict-ssl=yes\nca=X\ncafile=/nonexistent.pem\n", "/");
  CHECK_FALSE(s.strict_ssl);
  CHECK(s.ca_certs() == std::vector<std::string>{"X"});
  apply_npmrc(s, "strict-ssl=true\n", "/");
  CHECK(s.strict_ssl);
}

TEST_CASE("pnpm-workspace.yaml proxy keys: httpsProxy, httpProxy, noProxy") {
  Settings s;
  apply_npmrc(s, "https-proxy=http://rc:1\n", "/p");
  REQUIRE(apply_workspace_yaml(s, "httpsProxy: http://yaml:1\nhttpProxy: http://yamlh:2\nnoProxy: a.org\n", "/p/pnpm-workspace.yaml"));
  auto p = s.proxy();
  CHECK(p.https == "http://yaml:1");
  CHECK(p.http == "http://yamlh:2");
  CHECK(p.no_proxy == "a.org");
}

TEST_CASE("pnpm-workspace.yaml: catalogs and packageExtensions (with pnpm's checksum)") {
  Settings s;
  REQUIRE(apply_workspace_yaml(s, "catalog:\n  a: ^1.0.0\ncatalogs:\n  next:\n    a: ^2.0.0\n", "/w/pnpm-workspace.yaml"));
  CHECK(s.catalogs.at("default").at("a") == "^1.0.0");
  CHECK(s.catalogs.at("next").at("a") == "^2.0.0");
  CHECK_FALSE(s.package_extensions_checksum);
  Settings twice;
  auto r = apply_workspace_yaml(twice, "catalog:\n  a: '1'\ncatalogs:\n  default:\n    a: '2'\n", "/w/pnpm-workspace.yaml");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Code::InvalidCatalogsConfiguration);
  // pnpm 12.21 wrote this checksum for this map (test/resolve/cases/package-extensions);
  // key order in the file does not matter, an extra field does.
  std::string ext = test::read_file(std::string(TARN_SOURCE_DIR) + "/test/resolve/cases/package-extensions/project/pnpm-workspace.yaml");
  Settings e;
  REQUIRE(apply_workspace_yaml(e, ext, "/w/pnpm-workspace.yaml"));
  CHECK(e.package_extensions_checksum == "sha256-zO3Tux4rpmLX9ZEYBjmJM54pXe84A+Q+b+dZ4ADEV1w=");
  REQUIRE(e.package_extensions.size() == 3);
  CHECK(e.package_extensions[0].selector == "host@1");
  CHECK(e.package_extensions[0].peer_dependencies_meta->at("react") == std::optional<bool>(true));
  Settings other;
  REQUIRE(apply_workspace_yaml(other, ext + "  extra:\n    dependencies: {}\n", "/w/pnpm-workspace.yaml"));
  CHECK(other.package_extensions_checksum);
  CHECK(other.package_extensions_checksum != e.package_extensions_checksum);
}
