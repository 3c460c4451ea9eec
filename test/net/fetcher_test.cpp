#include <catch2/catch.hpp>

#include <mutex>

#include "tarn/net/fetcher.hpp"
#include "testing.hpp"

using namespace tarn;

TEST_CASE("URLs split into origin and target") {
  auto u = net::parse_url("https://registry.npmjs.org/@s/x/-/x-1.0.0.tgz");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->host == "registry.npmjs.org");
  CHECK(u->port == "443");
  CHECK(u->target == "/@s/x/-/x-1.0.0.tgz");
  auto p = net::parse_url("http://127.0.0.1:4873/a");
  REQUIRE(p);
  CHECK_FALSE(p->tls);
  CHECK(p->port == "4873");
  CHECK_FALSE(net::parse_url("ftp://x/y"));
}

TEST_CASE("fetcher: many GETs over few keep-alive connections, 404 is 'not found'") {
  test::RegistryServer server;
  for (int i = 0; i < 50; ++i) server.put("/f" + std::to_string(i), std::vector<uint8_t>(1000 + i, 'x'));
  std::mutex mu;
  size_t ok = 0, not_found = 0, bytes = 0;
  {
    net::Fetcher f(4);
    f.preconnect(server.url());
    for (int i = 0; i < 51; ++i) {
      f.get({server.url() + "f" + std::to_string(i), std::nullopt, "f" + std::to_string(i)}, [&](Result<net::Body>&& r) {
        std::lock_guard lk(mu);
        if (r) ok++, bytes += r->size();
        else if (r.error().is_not_found() && r.error().code_name() == "ERR_PNPM_FETCH_404") not_found++;
      });
    }
    f.wait_idle();
    CHECK(f.connections_opened() <= 4);
  }
  CHECK(ok == 50);
  CHECK(not_found == 1);
  CHECK(bytes == 50 * 1000 + 49 * 50 / 2);
  CHECK(server.requests() == 51);
}

TEST_CASE("fetcher: an unreachable host fails with the URL in the message") {
  net::Fetcher f(1);
  std::string msg;
  f.get({"http://127.0.0.1:1/x.tgz", std::nullopt, "x@1.0.0"}, [&](Result<net::Body>&& r) {
    if (!r) msg = r.error().message;
  });
  f.wait_idle();
  CHECK(msg.find("127.0.0.1:1/x.tgz") != std::string::npos);
  CHECK(msg.find("x@1.0.0") != std::string::npos);
}
