// Proxies (https-proxy, http-proxy, no-proxy, credentials in the URL) and certificate
// trust (strict-ssl, ca), against a loopback proxy and an HTTPS loopback registry whose
// certificates are made at test time.
#include <catch2/catch.hpp>

#include <chrono>

#include "tarn/net/fetcher.hpp"
#include "testing.hpp"

using namespace tarn;
using namespace std::chrono_literals;

namespace {

net::Fetcher::Options fast(net::NetworkOptions n) {
  net::Fetcher::Options o;
  o.connections = 2;
  o.fetch_retries = 1;
  o.fetch_retry_mintimeout = 10ms;
  o.fetch_retry_maxtimeout = 20ms;
  o.fetch_timeout = 2000ms;
  o.network = std::move(n);
  return o;
}

Result<net::Body> fetch(const net::Fetcher::Options& o, const std::string& url) {
  std::optional<Result<net::Body>> out;
  net::Fetcher f(o);
  f.get(net::Request(url, std::nullopt, "pkg"), [&](Result<net::Body>&& b) { out = std::move(b); });
  REQUIRE(f.wait_idle_for(20s));
  REQUIRE(out);
  return std::move(*out);
}

enum class Proxy { None, Open, NeedsAuth, Refuses };
enum class Creds { None, Right, Wrong };
enum class Trust { Default, Ca, NoStrict };

struct Case {
  const char* name;
  bool https;           // the registry speaks TLS
  Proxy proxy;
  Creds creds;          // in the proxy URL
  const char* no_proxy;
  Trust trust;
  std::optional<Code> fails;       // nullopt: the body arrives
  const char* proxy_line;          // what the proxy's first request line starts with; "": not used
  const char* message = "";        // the error message contains this
};

const Case kCases[] = {
    {"http registry, http-proxy: the absolute URI", false, Proxy::Open, Creds::None, "", Trust::Default, std::nullopt,
     "GET http://127.0.0.1:"},
    {"https registry, https-proxy: a CONNECT tunnel, ca trusts the leaf", true, Proxy::Open, Creds::None, "", Trust::Ca,
     std::nullopt, "CONNECT 127.0.0.1:"},
    {"no-proxy names the host: direct", true, Proxy::Open, Creds::None, "example.com, 127.0.0.1", Trust::Ca,
     std::nullopt, ""},
    {"no-proxy=true: direct", false, Proxy::Open, Creds::None, "true", Trust::Default, std::nullopt, ""},
    {"no-proxy names other hosts: proxied", false, Proxy::Open, Creds::None, "localhost,27.0.0.1", Trust::Default,
     std::nullopt, "GET http://"},
    {"strict-ssl=false accepts a certificate of an unknown CA", true, Proxy::None, Creds::None, "", Trust::NoStrict,
     std::nullopt, ""},
    {"ca (or cafile) accepts it", true, Proxy::None, Creds::None, "", Trust::Ca, std::nullopt, ""},
    {"by default it is rejected, naming the host and the reason", true, Proxy::None, Creds::None, "", Trust::Default,
     Code::TlsVerify, "", "https://127.0.0.1:"},
    {"rejected through a proxy too", true, Proxy::Open, Creds::None, "", Trust::Default, Code::TlsVerify, "CONNECT",
     "UNABLE_TO_"},
    {"proxy credentials from the URL: CONNECT", true, Proxy::NeedsAuth, Creds::Right, "", Trust::Ca, std::nullopt,
     "CONNECT"},
    {"proxy credentials from the URL: plain GET", false, Proxy::NeedsAuth, Creds::Right, "", Trust::Default,
     std::nullopt, "GET http://"},
    {"no credentials: the refused CONNECT names proxy and status", true, Proxy::NeedsAuth, Creds::None, "", Trust::Ca,
     Code::ProxyConnect, "CONNECT", "refused the tunnel: 407"},
    {"wrong credentials: 407 on a plain GET is an HTTP error", false, Proxy::NeedsAuth, Creds::Wrong, "",
     Trust::Default, Code::FetchStatus, "GET http://", "407"},
    {"a proxy that forbids the host", true, Proxy::Refuses, Creds::None, "", Trust::Ca, Code::ProxyConnect, "CONNECT",
     "403"},
};

}  // namespace

TEST_CASE("proxy and TLS: each setting routes and trusts as pnpm does") {
  test::TestPki pki = test::make_test_pki();
  for (const Case& c : kCases) {
    DYNAMIC_SECTION(c.name) {
      auto reg = c.https ? std::make_unique<test::RegistryServer>(pki) : std::make_unique<test::RegistryServer>();
      reg->put("/pkg", {'o', 'k'});
      test::ProxyServer proxy;
      if (c.proxy == Proxy::NeedsAuth) proxy.require_auth("Basic dXNlcjpwQHNz");  // user:p@ss
      if (c.proxy == Proxy::Refuses) proxy.refuse_connect(403);
      net::NetworkOptions n;
      if (c.proxy != Proxy::None) {
        std::string creds = c.creds == Creds::Right ? "user:p%40ss@" : c.creds == Creds::Wrong ? "user:nope@" : "";
        std::string url = "http://" + creds + proxy.url().substr(7);
        (c.https ? n.https_proxy : n.http_proxy) = url;
      }
      n.no_proxy = c.no_proxy;
      n.strict_ssl = c.trust != Trust::NoStrict;
      if (c.trust == Trust::Ca) n.ca = {pki.ca_pem};
      auto r = fetch(fast(n), reg->url() + "pkg");
      if (!c.fails) {
        REQUIRE(r);
        CHECK(*r == net::Body{'o', 'k'});
      } else {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == *c.fails);
        CHECK_THAT(r.error().message, Catch::Contains(c.message));
        CHECK(r.error().message.find('\n') == std::string::npos);
      }
      auto lines = proxy.request_lines();
      if (std::string(c.proxy_line).empty()) {
        CHECK(proxy.connections() == 0);
      } else {
        REQUIRE(!lines.empty());
        CHECK_THAT(lines.front(), Catch::StartsWith(c.proxy_line));
      }
      // The registry sees the origin-form target whichever way the request came.
      if (!c.fails)
        for (auto& rec : reg->received()) CHECK(rec.target == "/pkg");
    }
  }
}

TEST_CASE("proxy and TLS: failures that every attempt would repeat are not retried") {
  test::TestPki pki = test::make_test_pki();
  test::RegistryServer reg(pki);
  reg.put("/pkg", {'o', 'k'});
  test::ProxyServer proxy;
  proxy.refuse_connect(403);
  net::NetworkOptions n;
  n.https_proxy = proxy.url();
  n.ca = {pki.ca_pem};
  auto o = fast(n);
  o.fetch_retries = 3;
  CHECK_FALSE(fetch(o, reg.url() + "pkg"));
  CHECK(proxy.connections() == 1);
  auto direct = fast({});
  direct.fetch_retries = 3;
  auto r = fetch(direct, reg.url() + "pkg");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Code::TlsVerify);
  CHECK(reg.requests() == 0);  // the handshake failed: no request was sent
}

TEST_CASE("proxy and TLS: a proxy that never answers ends in fetch-timeout, for CONNECT and plain GETs") {
  test::TestPki pki = test::make_test_pki();
  test::RegistryServer plain, secure(pki);
  test::ProxyServer proxy;
  proxy.stall();
  net::NetworkOptions n;
  n.https_proxy = n.http_proxy = proxy.url();
  n.ca = {pki.ca_pem};
  auto o = fast(n);
  o.fetch_timeout = 200ms;
  o.fetch_retries = 0;
  for (auto* reg : {&plain, &secure}) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = fetch(o, reg->url() + "pkg");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Code::FetchTimeout);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  }
  CHECK(proxy.request_lines().size() == 2);
}

TEST_CASE("proxy and TLS: a proxy URL or CA that does not parse fails every request at once") {
  struct Row {
    net::NetworkOptions n;
    Code code;
  } rows[] = {
      {{"ftp://proxy.example:21", "", "", true, {}}, Code::InvalidProxy},
      {{"", "https://proxy.example:443", "", true, {}}, Code::InvalidProxy},
      {{"", "", "", true, {"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"}}, Code::ConfigInvalid},
  };
  test::RegistryServer reg;
  reg.put("/pkg", {'o', 'k'});
  for (auto& row : rows) {
    auto r = fetch(fast(row.n), reg.url() + "pkg");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == row.code);
  }
  CHECK(reg.requests() == 0);
}

TEST_CASE("proxy and TLS: a proxy URL without a scheme is http://, as pnpm reads it") {
  test::RegistryServer reg;
  reg.put("/pkg", {'o', 'k'});
  test::ProxyServer proxy;
  net::NetworkOptions n;
  n.http_proxy = proxy.url().substr(7);  // "127.0.0.1:<port>"
  REQUIRE(fetch(fast(n), reg.url() + "pkg"));
  CHECK(proxy.request_lines().size() == 1);
}

TEST_CASE("no-proxy: pnpm 12's label-suffix rule") {
  struct Row {
    const char* list;
    const char* host;
    bool bypass;
  } rows[] = {
      {"npmjs.org", "registry.npmjs.org", true},  {"npmjs.org", "npmjs.org", true},
      {"npmjs.org", "evilnpmjs.org", false},      {".npmjs.org", "registry.npmjs.org", false},
      {" a.com , npmjs.org ", "x.npmjs.org", true}, {"a.com,,", "npmjs.org", false},
      {"true", "anything.example", true},         {"", "registry.npmjs.org", false},
      {"NPMJS.org", "registry.npmjs.org", false}, {"npmjs.org", "REGISTRY.NPMJS.ORG", true},
      {"127.0.0.1", "127.0.0.1", true},           {"0.0.1", "127.0.0.1", true},
  };
  for (auto& r : rows) {
    CAPTURE(r.list, r.host);
    CHECK(net::no_proxy_matches(r.list, r.host) == r.bypass);
  }
}
