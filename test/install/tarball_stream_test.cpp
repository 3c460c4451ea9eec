// Big tarballs unpack into the store as they download: what each way a download can go
// leaves in the store, what the request's callback gets, and that every streamed byte is
// handed back to the fetcher's pending-bytes cap.
#include <atomic>
#include <random>

#include "tarball_stream.hpp"
#include "tarn/net/fetcher.hpp"
#include "tarn/store/store.hpp"
#include "testing.hpp"

using namespace tarn;
using test::RegistryServer;
using Fault = RegistryServer::Fault;

namespace {

// Random bytes do not compress: the tarball is about as big as the file.
std::string noise(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

struct Outcome {
  bool took = false;
  int stored_calls = 0;
  std::optional<Code> stored_error;  // of the last stored call
  bool fetched = false;              // the request's callback got a body
  size_t body_bytes = 0;
};

Outcome download(net::Fetcher& f, TarballStreams& streams, const std::string& url, const StoreKey& key,
                 const Integrity& want) {
  auto out = std::make_shared<Outcome>();
  auto sink = streams.sink(key, want, "big@1.0.0", [out](Result<Store::Package>&& stored) {
    ++out->stored_calls;
    out->stored_error = stored ? std::nullopt : std::optional<Code>(stored.error().code);
  });
  net::Request req{url, std::nullopt, "big@1.0.0"};
  req.sink = sink;
  f.get(std::move(req), [&f, out, sink](Result<net::Body>&& body) {
    out->fetched = body.has_value();
    out->took = sink->took();
    if (body) {
      out->body_bytes = body->size();
      f.release(body->size());
    }
  });
  f.wait_idle();
  streams.join();
  return *out;
}

}  // namespace

TEST_CASE("tarball streams: each way a big download goes, what the store and the callback get") {
  const std::string big = noise(3 << 20, 1);
  auto tgz = test::make_tgz({{"package/package.json", R"({"name":"big"})"}, {"package/blob.bin", big}});
  auto small = test::make_tgz({{"package/package.json", R"({"name":"small"})"}});
  auto right = *Integrity::parse(test::sri_sha512(tgz));
  auto wrong = *Integrity::parse(test::sri_sha512(small));
  struct Row {
    const char* name;
    std::optional<Fault> fault;
    bool small_body = false;
    const Integrity* want;
    size_t pending_cap;
    bool took, fetched;
    int stored_calls;
    std::optional<Code> stored_error;
  };
  auto fault = [](Fault::Kind k, int times = -1, size_t piece = 64 << 10) {
    Fault f;
    f.kind = k, f.times = times, f.piece_bytes = piece, f.piece_ms = 2;
    return f;
  };
  const size_t cap = net::FetcherOptions{}.max_pending_bytes;
  Row rows[] = {
      {"a Content-Length over 1 MiB: streamed", std::nullopt, false, &right, cap, true, true, 1, std::nullopt},
      {"chunked, no length: streamed", fault(Fault::Chunked, -1, 50000), false, &right, cap, true, true, 1, std::nullopt},
      {"a slow link", fault(Fault::Slow), false, &right, cap, true, true, 1, std::nullopt},
      {"a pending cap of 64 KiB: the network waits for the stream, and both finish", std::nullopt, false, &right,
       64 << 10, true, true, 1, std::nullopt},
      {"reset mid-body once: the retry streams afresh, stored once", fault(Fault::ResetMidBody, 1), false, &right, cap,
       true, true, 1, std::nullopt},
      {"truncated every time: nothing stored, the request fails", fault(Fault::Truncate), false, &right, cap, false,
       false, 0, std::nullopt},
      {"another package's integrity: the store refuses it", std::nullopt, false, &wrong, cap, true, true, 1,
       Code::TarballIntegrity},
      {"a small body: collected whole", std::nullopt, true, &right, cap, false, true, 0, std::nullopt},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    RegistryServer server;
    server.put("/big.tgz", r.small_body ? small : tgz);
    if (r.fault) server.fault("/big.tgz", *r.fault);
    test::TempDir tmp;
    Store store(tmp.path() + "/store");
    REQUIRE(store.open());
    net::FetcherOptions fo;
    fo.fetch_retry_mintimeout = std::chrono::milliseconds(10);
    fo.fetch_retry_maxtimeout = std::chrono::milliseconds(10);
    fo.max_pending_bytes = r.pending_cap;
    net::Fetcher f(fo);
    TarballStreams streams(f, store);
    StoreKey key = StoreKey::from_integrity(*r.want);
    Outcome got = download(f, streams, server.url() + "big.tgz", key, *r.want);
    CHECK(got.took == r.took);
    CHECK(got.fetched == r.fetched);
    CHECK(got.stored_calls == r.stored_calls);
    CHECK(got.stored_error == r.stored_error);
    CHECK(f.pending_bytes() == 0);
    if (r.small_body) CHECK(got.body_bytes == small.size());
    else CHECK(got.body_bytes == 0);
    bool whole = r.stored_calls == 1 && !r.stored_error;
    CHECK((store.check(key) == Store::Health::Present) == whole);
    if (whole) {
      auto pkg = store.load(key);
      REQUIRE(pkg);
      CHECK(test::read_file(store.root() + "/v3/" + key.rel() + "/1") == big);
    }
  }
}

TEST_CASE("tarball streams: more big downloads than streams at once all land, the extra ones collected") {
  RegistryServer server;
  test::TempDir tmp;
  Store store(tmp.path() + "/store");
  REQUIRE(store.open());
  net::Fetcher f;
  TarballStreams streams(f, store);
  constexpr int kDownloads = TarballStreams::kMaxStreams + 3;
  std::atomic<int> stored{0}, took{0}, collected{0};
  std::vector<StoreKey> keys;
  for (int i = 0; i < kDownloads; ++i) {
    auto tgz = test::make_tgz({{"package/blob.bin", noise(3 << 20, 10 + static_cast<unsigned>(i))}});
    auto want = *Integrity::parse(test::sri_sha512(tgz));
    std::string path = "/big-" + std::to_string(i) + ".tgz";
    Fault slow;  // slow enough that all of them are in flight together
    slow.kind = Fault::Slow, slow.piece_bytes = 256 << 10, slow.piece_ms = 100;
    server.put(path, std::move(tgz));
    server.fault(path, slow);
    keys.push_back(StoreKey::from_integrity(want));
    auto sink = streams.sink(keys.back(), want, path, [&](Result<Store::Package>&& s) { stored += s.has_value(); });
    net::Request req{server.url() + path.substr(1), std::nullopt, path};
    req.sink = sink;
    f.get(std::move(req), [&, sink](Result<net::Body>&& body) {
      REQUIRE(body);
      if (sink->took()) return void(++took);
      ++collected;
      f.release(body->size());
    });
  }
  f.wait_idle();
  streams.join();
  int present = 0;
  for (auto& k : keys) present += store.check(k) == Store::Health::Present;
  CHECK(took == stored);
  CHECK(present == stored);
  CHECK(took + collected == kDownloads);
  CHECK(took >= 1);
  CHECK(collected >= 1);  // 7 downloads of ~1.2 s each, all in flight at once: the limit was met
  CHECK(f.pending_bytes() == 0);
}
