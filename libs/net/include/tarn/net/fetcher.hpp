#pragma once
// HTTP/1.1 GETs over a bounded pool of keep-alive connections (plain or TLS). Asio and
// Beast stay behind this header: they cost ~25 s per translation unit to compile.
#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tarn/core/error.hpp"

namespace tarn::net {

struct Request {
  std::string url;
  std::optional<std::string> authorization;  // full header value, e.g. "Bearer x"
  std::string what;                           // for error messages, e.g. "lodash@4.17.21"
};

using Body = std::vector<uint8_t>;
using Callback = std::function<void(Result<Body>&&)>;

class Fetcher {
 public:
  // `connections`: how many requests run at once (each on its own keep-alive connection).
  explicit Fetcher(size_t connections);
  struct Options {
    size_t connections = 24;
  };
  explicit Fetcher(const Options& o) : Fetcher(o.connections) {}
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Starts the workers and opens their connections to the origin of `url` right away,
  // so TCP and TLS handshakes overlap with lockfile parsing and planning.
  void preconnect(const std::string& url);
  // Queues a GET. Thread-safe. `done` runs on the network thread; keep it short.
  void get(Request r, Callback done);
  // The consumer is done with `bytes` of delivered bodies (backpressure accounting).
  void release(size_t bytes);
  // Blocks until every queued request has called back.
  void wait_idle();
  // Waits at most `timeout`; true when every request has completed.
  bool wait_idle_for(std::chrono::milliseconds timeout);

  // Statistics, for --perf.
  uint64_t bytes_received() const;
  uint64_t connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits "https://host:port/path" (exposed for tests).
struct Url {
  bool tls = true;
  std::string host, port, target;
  std::string origin() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};
Result<Url> parse_url(std::string_view url);

}  // namespace tarn::net
