#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tarn/net/fetcher.hpp"
#include "testing.hpp"

using namespace tarn;
using namespace std::chrono_literals;
using Fault = test::RegistryServer::Fault;
using Clock = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;
// The upper time bounds catch hangs; a sanitized build (scripts/sanitize.sh) runs a few
// times slower (TSan: 1.4 s to destroy a fetcher), so they stretch there. The lower bounds
// (retry waits) stay as they are.
#ifdef TARN_SANITIZED
constexpr int kSlowdown = 4;
#else
constexpr int kSlowdown = 1;
#endif

namespace {

// Timeouts small enough to keep the suite fast; backoff 10 ms, 20 ms, ...
net::Fetcher::Options fast() {
  net::Fetcher::Options o;
  o.connections = 1;
  o.fetch_retries = 2;
  o.fetch_retry_factor = 2;
  o.fetch_retry_mintimeout = 10ms;
  o.fetch_retry_maxtimeout = 2000ms;
  o.fetch_timeout = 200ms;
  o.max_body_bytes = 1 << 20;
  return o;
}

struct Fetched {
  std::optional<Result<net::Body>> result;
  int calls = 0;
  ms elapsed{0};
};

Fetched fetch_one(const net::Fetcher::Options& o, net::Request r) {
  Fetched out;
  auto t0 = Clock::now();
  {
    net::Fetcher f(o);
    f.get(std::move(r), [&](Result<net::Body>&& b) {
      out.result = std::move(b);
      out.calls++;
    });
    REQUIRE(f.wait_idle_for(10s));
  }
  out.elapsed = std::chrono::duration_cast<ms>(Clock::now() - t0);
  return out;
}

Fault misbehave(Fault::Kind kind, int times = -1) {
  Fault f;
  f.kind = kind;
  f.times = times;
  return f;
}
Fault status(unsigned code, int times = -1, std::string retry_after = "") {
  Fault f = misbehave(Fault::Status, times);
  f.status = code;
  f.retry_after = std::move(retry_after);
  return f;
}
Fault redirect(std::string to) {
  Fault f = misbehave(Fault::Redirect);
  f.location = std::move(to);
  return f;
}

std::vector<uint8_t> bytes(size_t n, char c = 'x') { return std::vector<uint8_t>(n, static_cast<uint8_t>(c)); }

}  // namespace

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
    net::Fetcher f({.connections = 4});
    f.preconnect(server.url());
    for (int i = 0; i < 51; ++i) {
      f.get({server.url() + "f" + std::to_string(i), std::nullopt, "f" + std::to_string(i)}, [&](Result<net::Body>&& r) {
        std::lock_guard lk(mu);
        if (r) ok++, bytes += r->size();
        else if (r.error().is_not_found() && r.error().code_name() == "ERR_PNPM_FETCH_404") not_found++;
        if (r) f.release(r->size());
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
  auto r = fetch_one(fast(), {"http://127.0.0.1:1/x.tgz", std::nullopt, "x@1.0.0"});
  REQUIRE(r.result);
  REQUIRE_FALSE(*r.result);
  CHECK(r.result->error().code_name() == "ERR_TARN_FETCH_FAILED");
  CHECK(r.result->error().message.find("127.0.0.1:1/x.tgz") != std::string::npos);
  CHECK(r.result->error().message.find("x@1.0.0") != std::string::npos);
}

TEST_CASE("fetcher: once an origin failed every retry, its queued jobs fail at once, naming each") {
  // 200 jobs on one connection to a closed port, retries 10 ms then 1 s: one job pays the
  // backoffs, the rest fail without retrying. Each retrying for itself would take 200 s.
  test::RegistryServer server;
  server.put("/ok", bytes(10));
  net::Fetcher::Options o = fast();
  o.fetch_retry_factor = 100;
  std::mutex mu;
  std::vector<std::string> messages;
  size_t ok = 0;
  auto t0 = Clock::now();
  {
    net::Fetcher f(o);
    for (int i = 0; i < 200; ++i)
      f.get({"http://127.0.0.1:1/p" + std::to_string(i) + ".tgz", std::nullopt, "p" + std::to_string(i)},
            [&](Result<net::Body>&& r) {
              std::lock_guard lk(mu);
              if (!r) messages.push_back(r.error().render());
            });
    // Another origin is not affected.
    f.get({server.url() + "ok", std::nullopt, "ok"}, [&](Result<net::Body>&& r) {
      std::lock_guard lk(mu);
      ok += r.has_value();
      if (r) f.release(r->size());
    });
    REQUIRE(f.wait_idle_for(20s));
  }
  auto elapsed = std::chrono::duration_cast<ms>(Clock::now() - t0);
  CHECK(elapsed < 8000ms * kSlowdown);
  CHECK(ok == 1);
  REQUIRE(messages.size() == 200);
  size_t skipped = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    INFO(messages[i]);
    CHECK(messages[i].rfind("ERR_TARN_FETCH_FAILED  failed to fetch p", 0) == 0);
    CHECK(messages[i].find("Connection refused") != std::string::npos);
    skipped += messages[i].find("not tried, an earlier request to http://127.0.0.1:1") != std::string::npos;
  }
  CHECK(skipped == 199);
}

TEST_CASE("fetcher: each server fault ends in the pnpm outcome, in bounded time") {
  struct Row {
    const char* name;
    std::optional<Fault> fault;
    const char* code;  // nullptr: succeeds, with the body
    size_t requests;   // the server saw exactly this many
    ms min, max;       // elapsed
    std::function<void(net::Fetcher::Options&)> tweak = nullptr;
    size_t body = 64 << 10;
  };
  std::vector<Row> rows{
      {"healthy", std::nullopt, nullptr, 1, 0ms, 1000ms},
      {"500 once, then success", status(500, 1), nullptr, 2, 10ms, 1000ms},
      {"408 once, then success", status(408, 1), nullptr, 2, 10ms, 1000ms},
      {"503 always: fetch_retries + 1 attempts", status(503, -1), "ERR_PNPM_FETCH_503", 3, 30ms, 1500ms},
      {"404 is not retried", status(404, -1), "ERR_PNPM_FETCH_404", 1, 0ms, 1000ms},
      {"403 is not retried", status(403, -1), "ERR_PNPM_FETCH_403", 1, 0ms, 1000ms},
      {"reset mid-body once", misbehave(Fault::ResetMidBody, 1), nullptr, 2, 10ms, 1000ms},
      {"reset mid-body always", misbehave(Fault::ResetMidBody), "ERR_TARN_FETCH_FAILED", 3, 30ms, 1500ms},
      {"truncated body once", misbehave(Fault::Truncate, 1), nullptr, 2, 10ms, 1000ms},
      {"truncated body always", misbehave(Fault::Truncate), "ERR_TARN_FETCH_FAILED", 3, 30ms, 1500ms},
      {"stall once", misbehave(Fault::Stall, 1), nullptr, 2, 200ms, 1500ms},
      {"stall always", misbehave(Fault::Stall), "ERR_TARN_FETCH_TIMEOUT", 3, 600ms, 2500ms},
      {"endless body: fails at the cap, not retried", misbehave(Fault::Endless), "ERR_PNPM_TARBALL_TOO_LARGE", 1, 0ms, 1500ms},
      // Under fetch_timeout: the error comes from the header alone, no body is awaited.
      {"Content-Length over the cap", misbehave(Fault::HugeLength), "ERR_PNPM_TARBALL_TOO_LARGE", 1, 0ms, 150ms},
      {"body over the cap", std::nullopt, "ERR_PNPM_TARBALL_TOO_LARGE", 1, 0ms, 1000ms, nullptr, (1 << 20) + 1},
      {"429 with Retry-After: 1 waits a second", status(429, 1, "1"), nullptr, 2, 950ms, 2500ms},
      {"503 Retry-After is capped by maxtimeout", status(503, 1, "30"), nullptr, 2, 300ms, 1500ms,
       [](auto& o) { o.fetch_retry_maxtimeout = 300ms; }},
      {"backoff is min(mintimeout * factor^n, maxtimeout)", status(500, -1), "ERR_PNPM_FETCH_500", 4, 600ms,
       1500ms, [](auto& o) { o.fetch_retries = 3, o.fetch_retry_mintimeout = 100ms, o.fetch_retry_factor = 3,
                             o.fetch_retry_maxtimeout = 250ms; }},  // waits 100 + 250 + 250
      {"fetch_retries = 0", status(500, 1), "ERR_PNPM_FETCH_500", 1, 0ms, 1000ms,
       [](auto& o) { o.fetch_retries = 0; }},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      test::RegistryServer server;
      auto body = bytes(row.body, 'p');
      server.put("/pkg.tgz", body);
      if (row.fault) server.fault("/pkg.tgz", *row.fault);
      auto opts = fast();
      if (row.tweak) row.tweak(opts);
      auto r = fetch_one(opts, {server.url() + "pkg.tgz", std::nullopt, "pkg@1.0.0"});
      CHECK(r.calls == 1);
      REQUIRE(r.result);
      if (row.code) {
        REQUIRE_FALSE(*r.result);
        CHECK(r.result->error().code_name() == row.code);
        CHECK(r.result->error().message.find("pkg@1.0.0") != std::string::npos);
      } else {
        REQUIRE(*r.result);
        CHECK(**r.result == body);
      }
      CHECK(server.requests("/pkg.tgz") == row.requests);
      CHECK(r.elapsed >= row.min);
      CHECK(r.elapsed < row.max * kSlowdown);
    }
  }
}

TEST_CASE("fetcher: Authorization is sent to the request's origin only, across redirects") {
  test::RegistryServer a, b;
  a.put("/pkg.tgz", bytes(100));
  a.put("/back.tgz", bytes(100));
  b.put("/pkg.tgz", bytes(100));
  a.fault("/cross", redirect(b.url() + "pkg.tgz"));
  a.fault("/same", redirect("/pkg.tgz"));
  a.fault("/away-and-back", redirect(b.url() + "bounce"));
  b.fault("/bounce", redirect(a.url() + "back.tgz"));
  struct Row {
    const char* name;
    const char* path;
    const test::RegistryServer* final_server;
    const char* final_target;
    bool final_has_auth;
  };
  std::vector<Row> rows{
      {"redirect to another origin drops it", "cross", &b, "/pkg.tgz", false},
      {"redirect within the origin keeps it", "same", &a, "/pkg.tgz", true},
      {"dropped for good, even when a later hop comes back", "away-and-back", &a, "/back.tgz", false},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      auto r = fetch_one(fast(), {a.url() + row.path, "Bearer s3cret", "pkg@1.0.0"});
      REQUIRE(r.result);
      REQUIRE(*r.result);
      CHECK((*r.result)->size() == 100);
      auto first = a.received();
      REQUIRE(!first.empty());
      CHECK(first.front().headers["authorization"] == "Bearer s3cret");
      auto seen = row.final_server->received();
      REQUIRE(!seen.empty());
      CHECK(seen.back().target == row.final_target);
      CHECK(seen.back().headers.count("authorization") == (row.final_has_auth ? 1u : 0u));
    }
  }
}

TEST_CASE("fetcher: a keep-alive connection the server closed is retried at once, without a retry") {
  test::RegistryServer server;
  server.put("/a", bytes(10));
  server.put("/b", bytes(20));
  server.fault("/a", misbehave(Fault::CloseAfter));
  auto opts = fast();
  opts.fetch_retries = 0;
  opts.fetch_retry_mintimeout = 5000ms;
  net::Fetcher f(opts);
  std::vector<Result<net::Body>> got;
  for (const char* path : {"a", "b"}) {
    f.get({server.url() + path, std::nullopt, path}, [&](Result<net::Body>&& r) { got.push_back(std::move(r)); });
    REQUIRE(f.wait_idle_for(2s));  // a retry would wait 5 s
    std::this_thread::sleep_for(50ms);  // the server has closed its end by now
  }
  REQUIRE(got.size() == 2);
  CHECK(got[0]);
  REQUIRE(got[1]);
  CHECK(got[1]->size() == 20);
  CHECK(f.connections_opened() == 2);
}

TEST_CASE("fetcher: backpressure holds bodies back while the network thread keeps serving") {
  constexpr size_t kBody = 100 << 10, kCap = 256 << 10, kCount = 12;
  test::RegistryServer server;
  for (size_t i = 0; i < kCount; ++i) server.put("/big" + std::to_string(i), bytes(kBody, 'a' + i));
  server.fault("/stalls", misbehave(Fault::Stall));
  auto opts = fast();
  opts.connections = 2;
  opts.fetch_retries = 0;
  opts.max_pending_bytes = kCap;
  // The stall must time out after three bodies arrived; sanitized builds serve them slower.
  opts.fetch_timeout *= kSlowdown;
  net::Fetcher f(opts);

  std::mutex mu;
  std::condition_variable cv;
  size_t outstanding = 0, most = 0, delivered = 0, ok = 0;
  std::optional<Error> stalled;
  // The stalled request is in flight before the cap is reached; its timeout must still fire
  // while the consumer holds every byte (a blocked network thread would never see it).
  f.get({server.url() + "stalls", std::nullopt, "stalls@1.0.0"}, [&](Result<net::Body>&& r) {
    std::lock_guard lk(mu);
    if (!r) stalled = r.error();
    cv.notify_all();
  });
  for (size_t i = 0; i < kCount; ++i)
    f.get({server.url() + "big" + std::to_string(i), std::nullopt, "big"}, [&, i](Result<net::Body>&& r) {
      std::lock_guard lk(mu);
      if (r && *r == bytes(kBody, 'a' + i)) ok++;
      outstanding += r ? r->size() : 0;
      most = std::max(most, outstanding);
      delivered++;
      cv.notify_all();
    });

  std::unique_lock lk(mu);
  REQUIRE(cv.wait_for(lk, 3s, [&] { return stalled.has_value() && delivered >= 3; }));
  CHECK(stalled->code_name() == "ERR_TARN_FETCH_TIMEOUT");
  cv.wait_for(lk, 100ms);  // time to (wrongly) start or deliver more
  CHECK(outstanding >= kCap);
  CHECK(delivered == 3);  // 100 + 100 + 100 KB crosses 256 KB
  CHECK(server.requests() == 1 + 3);  // and no request starts at or over the cap
  CHECK_FALSE(f.wait_idle_for(0ms));
  // The consumer catches up, a body at a time.
  auto start = Clock::now();
  while (delivered < kCount && Clock::now() - start < 5s) {
    if (outstanding > 0) {
      f.release(kBody);
      outstanding -= kBody;
    }
    cv.wait_for(lk, 20ms);
  }
  lk.unlock();
  REQUIRE(f.wait_idle_for(2s));
  CHECK(ok == kCount);
  CHECK(most <= kCap + kBody);
  f.release(outstanding);
  CHECK(f.pending_bytes() == 0);
}

TEST_CASE("fetcher: destroying it calls each outstanding callback once, with an error") {
  test::RegistryServer server;
  server.fault("/s", misbehave(Fault::Stall));
  auto token = std::make_shared<int>(0);  // owned by every callback
  std::vector<int> calls(3, 0);
  std::vector<std::string> codes(3), messages(3);
  auto start = Clock::now();
  {
    net::Fetcher f({.connections = 2});  // pnpm's 60 s timeout: only cancelling ends these
    for (int i = 0; i < 3; ++i)
      f.get({server.url() + "s", std::nullopt, "s@1.0.0"}, [&, i, token](Result<net::Body>&& r) {
        calls[i]++;
        if (!r) codes[i] = r.error().code_name(), messages[i] = r.error().message;
      });
    std::this_thread::sleep_for(100ms);  // two requests in flight, one queued
    CHECK(server.requests() == 2);
  }
  CHECK(Clock::now() - start < 1s * kSlowdown);
  CHECK(token.use_count() == 1);
  for (int i = 0; i < 3; ++i) {
    CHECK(calls[i] == 1);
    CHECK(codes[i] == "ERR_TARN_FETCH_FAILED");
    CHECK(messages[i].find("s@1.0.0") != std::string::npos);
    CHECK(messages[i].find("cancelled") != std::string::npos);
  }
}

TEST_CASE("fetcher: connections open on demand, in a ramp of at most 8 connects") {
  test::RegistryServer server;
  for (int i = 0; i < 40; ++i) server.put("/s" + std::to_string(i), std::vector<uint8_t>(100, 's'));
  {
    // Preconnecting with nothing queued opens the first burst only, not all 24.
    net::Fetcher f({.connections = 24});
    f.preconnect(server.url());
    std::this_thread::sleep_for(300ms);
    CHECK(f.connections_opened() == 8);
  }
  // Every first request stalls until its 200 ms timeout: the queue stays long, so the pool
  // grows past the burst up to its bound, and every file still arrives.
  auto o = fast();
  o.connections = 12;
  o.fetch_retries = 3;
  Fault stall_once;
  stall_once.kind = Fault::Stall;
  stall_once.times = 1;
  for (int i = 0; i < 40; ++i) server.fault("/s" + std::to_string(i), stall_once);
  std::mutex mu;
  size_t ok = 0;
  net::Fetcher f(o);
  for (int i = 0; i < 40; ++i)
    f.get({server.url() + "s" + std::to_string(i), std::nullopt, "s" + std::to_string(i)}, [&](Result<net::Body>&& r) {
      std::lock_guard lk(mu);
      if (r) ok++, f.release(r->size());
    });
  f.wait_idle();
  CHECK(ok == 40);
  CHECK(f.connections_opened() >= 12);
}

namespace {
net::Request watched(net::Request r, std::shared_ptr<const net::Progress> p) {
  r.progress = std::move(p);
  return r;
}
}  // namespace

TEST_CASE("fetcher: progress tells each attempt's Content-Length, then the body's bytes as they arrive, on request") {
  test::RegistryServer server;
  constexpr size_t kBig = 3 << 20;
  server.put("/big.tgz", bytes(kBig));
  server.put("/flaky.tgz", bytes(1000));
  server.fault("/flaky.tgz", status(500, 1));
  struct Seen {
    std::vector<std::pair<unsigned, std::optional<uint64_t>>> started;
    std::vector<uint64_t> received;
  };
  auto watch = [](Seen& seen, bool want) {
    auto p = std::make_shared<net::Progress>();
    p->started = [&seen, want](unsigned attempt, std::optional<uint64_t> size) {
      seen.started.emplace_back(attempt, size);
      return want;
    };
    p->received = [&seen](uint64_t n) { seen.received.push_back(n); };
    return p;
  };
  auto o = fast();
  o.max_body_bytes = 8 << 20;
  SECTION("a big body, followed") {
    Seen seen;
    auto r = fetch_one(o, watched({server.url() + "big.tgz", std::nullopt, "big"}, watch(seen, true)));
    REQUIRE(r.result);
    REQUIRE(*r.result);
    CHECK(seen.started == std::vector<std::pair<unsigned, std::optional<uint64_t>>>{{1, kBig}});
    REQUIRE(seen.received.size() > 1);  // several reads, not one call at the end
    CHECK(std::is_sorted(seen.received.begin(), seen.received.end()));
    CHECK(seen.received.back() == kBig);
  }
  SECTION("not followed when started says no") {
    Seen seen;
    auto r = fetch_one(o, watched({server.url() + "big.tgz", std::nullopt, "big"}, watch(seen, false)));
    REQUIRE(*r.result);
    CHECK(seen.started.size() == 1);
    CHECK(seen.received.empty());
  }
  SECTION("every attempt is started: a 500, then the body") {
    Seen seen;
    auto r = fetch_one(o, watched({server.url() + "flaky.tgz", std::nullopt, "flaky"}, watch(seen, true)));
    REQUIRE(*r.result);
    REQUIRE(seen.started.size() == 2);
    CHECK(seen.started[0].first == 1);
    CHECK(seen.started[1] == std::pair<unsigned, std::optional<uint64_t>>{2, 1000});
    CHECK(seen.received.back() == 1000);
  }
  SECTION("an attempt with no response is started with no size") {
    Seen seen;
    auto r = fetch_one(o, watched({"http://127.0.0.1:1/x.tgz", std::nullopt, "x"}, watch(seen, true)));
    REQUIRE_FALSE(*r.result);
    REQUIRE(seen.started.size() == o.fetch_retries + 1);
    for (unsigned i = 0; i < seen.started.size(); ++i) CHECK(seen.started[i] == std::pair<unsigned, std::optional<uint64_t>>{i + 1, std::nullopt});
    CHECK(seen.received.empty());
  }
}

TEST_CASE("fetcher: get_response sends extra headers, carries validators, and takes a 304 as an answer") {
  test::RegistryServer server;
  server.put("/meta", bytes(300, 'm'));
  server.set_etag("/meta", "\"v1\"");
  net::Fetcher f(fast());
  std::vector<Result<net::Response>> got;
  std::mutex mu;
  auto get = [&](std::vector<std::pair<std::string, std::string>> headers) {
    f.get_response({server.url() + "meta", std::nullopt, "meta", std::move(headers)}, [&](Result<net::Response>&& r) {
      std::lock_guard lk(mu);
      if (r) f.release(r->body.size());
      got.push_back(std::move(r));
    });
    REQUIRE(f.wait_idle_for(10s));
  };
  get({{"Accept", "application/vnd.npm.install-v1+json"}});
  get({{"If-None-Match", "\"v1\""}});
  get({{"If-None-Match", "\"old\""}});
  REQUIRE(got.size() == 3);
  for (auto& r : got) REQUIRE(r);
  CHECK(got[0]->status == 200);
  CHECK(got[0]->body.size() == 300);
  CHECK(got[0]->etag == "\"v1\"");
  CHECK(got[1]->status == 304);
  CHECK(got[1]->body.empty());
  CHECK(got[2]->status == 200);
  CHECK(f.bytes_received() == 600);
  auto log = server.received();
  REQUIRE(log.size() == 3);
  CHECK(log[0].headers["accept"] == "application/vnd.npm.install-v1+json");  // replaces */*
  CHECK(log[1].headers["accept"] == "*/*");
  CHECK(log[1].headers["if-none-match"] == "\"v1\"");
}

TEST_CASE("fetcher: a 304 stays an error for get(), and a per-request cap overrides the fetcher's") {
  test::RegistryServer server;
  server.put("/t.tgz", bytes(5000));
  server.set_etag("/t.tgz", "\"e\"");
  auto r = fetch_one(fast(), {server.url() + "t.tgz", std::nullopt, "t@1", {{"If-None-Match", "\"e\""}}});
  REQUIRE(r.result);
  REQUIRE(!*r.result);
  CHECK(r.result->error().code_name() == "ERR_PNPM_FETCH_304");
  auto capped = fetch_one(fast(), {server.url() + "t.tgz", std::nullopt, "t@1", {}, 4000});
  REQUIRE(capped.result);
  REQUIRE(!*capped.result);
  CHECK(capped.result->error().code == Code::TarballTooLarge);
  CHECK(capped.result->error().message.find("cap of 4000 bytes") != std::string::npos);
  CHECK(fetch_one(fast(), {server.url() + "t.tgz", std::nullopt, "t@1", {}, 5000}).result->has_value());
}
