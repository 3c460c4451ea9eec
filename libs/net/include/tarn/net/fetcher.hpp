#pragma once
// HTTP/1.1 GETs over a bounded pool of keep-alive connections (plain or TLS). Asio and
// Beast stay behind this header: they cost ~25 s per translation unit to compile.
#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tarn/core/error.hpp"

namespace tarn::net {

// What a consumer learns of one request's body while it downloads, on the network thread
// (pnpm's pnpm:fetching-progress: `started` per attempt, `in_progress` as bytes arrive).
struct Progress {
  // An attempt (1, 2, ...) got its response: `size` is its Content-Length, nullopt when the
  // body is chunked or the attempt failed before a response. Return true to get
  // `received` for this attempt's body; false costs nothing per read.
  std::function<bool(unsigned attempt, std::optional<uint64_t> size)> started;
  // The body bytes received so far, after each read (a few KB to 64 KB). Keep it to a
  // store or two: it runs between reads on the one network thread.
  std::function<void(uint64_t received)> received;
};

// Takes a body as it arrives instead of collecting it, so a big tarball inflates and
// unpacks while it downloads and memory does not grow with the body. Every call runs on
// the network thread between reads: keep each short, and never wait in one.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Attempt `attempt` got a 200 with this Content-Length (nullopt: chunked). True takes
  // the attempt's body through write(); false collects it into the Response as usual.
  virtual bool open(unsigned attempt, std::optional<uint64_t> size) = 0;
  // The body's next bytes, in order. Their size counts toward the fetcher's pending
  // bytes until the consumer hands it to Fetcher::release(); reading waits while the
  // cap is held, which is what bounds a stream's memory.
  virtual void write(std::span<const uint8_t> bytes) = 0;
  // The opened body ended: whole (true), or cut off (false; a retry may open() again).
  // The request's callback follows the last close(), with an empty body on success.
  virtual void close(bool whole) = 0;
};

struct Request {
  Request() = default;
  Request(std::string u, std::optional<std::string> auth, std::string w,
          std::vector<std::pair<std::string, std::string>> h = {}, uint64_t cap = 0)
      : url(std::move(u)), authorization(std::move(auth)), what(std::move(w)), headers(std::move(h)),
        max_body_bytes(cap) {}
  std::string url;
  std::optional<std::string> authorization;  // full header value, e.g. "Bearer x"
  std::string what;                           // for error messages, e.g. "lodash@4.17.21"
  // Extra request headers, set after the defaults (an "Accept" here replaces "*/*"):
  // registry metadata sends its Accept, If-None-Match and If-Modified-Since.
  std::vector<std::pair<std::string, std::string>> headers;
  // Body cap for this request; 0: the fetcher's max_body_bytes.
  uint64_t max_body_bytes = 0;
  // Told of the response and the body's bytes as they arrive (pnpm:fetching-progress); optional.
  std::shared_ptr<const Progress> progress = nullptr;
  // Served before every queued request that is not: what a caller is blocked on.
  bool urgent = false;
  // Offered each attempt's 200 body as it arrives; optional.
  std::shared_ptr<BodySink> sink = nullptr;
};

using Body = std::vector<uint8_t>;
// What get_response() delivers: a 200 with its body, or a 304 (no body) to a conditional
// request, with the validators the next conditional request needs.
struct Response {
  unsigned status = 200;
  Body body;
  std::string etag, last_modified, content_type;
};
// Run on the network thread, exactly once per get(); keep them short and do not throw.
using Callback = std::function<void(Result<Body>&&)>;
using ResponseCallback = std::function<void(Result<Response>&&)>;

// How requests reach their origin and whom they trust: pnpm's https-proxy / http-proxy /
// no-proxy (already cascaded with the environment: Settings::proxy()) and strict-ssl / ca /
// cafile (Settings::ca_certs()).
struct NetworkOptions {
  // "http://user:pass@host:port" (no scheme: http:// is assumed, as pnpm does); empty:
  // direct. HTTPS targets tunnel through CONNECT; HTTP targets send the absolute URI.
  std::string https_proxy, http_proxy;
  // Hosts that bypass both proxies, comma-separated ("npmjs.org" covers its subdomains),
  // or "true" for all of them.
  std::string no_proxy;
  // false: no certificate or host name check (pnpm's strict-ssl=false).
  bool strict_ssl = true;
  // PEM certificates trusted besides the default roots (pnpm 12 adds, does not replace).
  std::vector<std::string> ca;
};

// Defaults are pnpm's (fetch-retries, fetch-retry-*, fetch-timeout), except where noted.
struct FetcherOptions {
  // How many requests run at once, each on its own keep-alive connection.
  size_t connections = 16;
  // Bodies handed to callbacks count as pending until Fetcher::release(); at or above this
  // the workers start no request and deliver no body. A fast registry outruns extraction:
  // uncapped, the 10x synthetic lockfile peaked at 249 MB. Cold alotta-modules, three
  // rounds: 24 MB peaked at 85-92 MB RSS, 8 MB at 67 MB, 6 MB at 66 MB, at the same speed
  // (two cores extract slower than the registry sends). 0: no cap.
  size_t max_pending_bytes = size_t{8} << 20;
  // pnpm has no fixed cap (ERR_PNPM_TARBALL_TOO_LARGE is an allocation failure), so this
  // only stops a hostile or broken server: npm's largest published tarballs are a few
  // hundred MB, and bodies are held in memory. 0: no cap.
  uint64_t max_body_bytes = uint64_t{1} << 30;
  // Attempts are fetch_retries + 1; the n-th retry (n from 0) waits
  // min(mintimeout * factor^n, maxtimeout), as @zkochan/retry does for pnpm.
  unsigned fetch_retries = 2;
  unsigned fetch_retry_factor = 10;
  std::chrono::milliseconds fetch_retry_mintimeout{10'000};
  std::chrono::milliseconds fetch_retry_maxtimeout{60'000};
  // Longest wait for any one step: DNS, connect, TLS handshake, write, each read. A body
  // that keeps flowing never times out.
  std::chrono::milliseconds fetch_timeout{60'000};
  unsigned max_redirects = 10;  // reqwest's default, which pnpm 12 uses
  // Proxies and certificates. A proxy URL or CA that does not parse fails every request
  // (ERR_PNPM_INVALID_PROXY, ERR_TARN_CONFIG), as pnpm 12 fails to build its client.
  NetworkOptions network = {};
};

class Fetcher {
 public:
  using Options = FetcherOptions;
  explicit Fetcher(Options options = {});
  // Cancels what is queued or running: each such callback gets a FetchFailed error,
  // on the network thread, before the destructor returns. (A DNS lookup in progress is
  // waited for: getaddrinfo cannot be interrupted.)
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Starts the workers and opens their connections to the origin of `url` right away,
  // so TCP and TLS handshakes overlap with lockfile parsing and planning.
  void preconnect(const std::string& url);
  // Queues a GET. Thread-safe. `done` runs on the network thread; keep it short. Retried
  // (fetch_retries): connection failures, timeouts, truncated bodies, 408, 429 and 5xx,
  // after Retry-After when a 429 or 503 sends one. A body over max_body_bytes fails with
  // TarballTooLarge and is not retried: every attempt would end the same.
  void get(Request r, Callback done);
  // The same, for callers that need the status and validators: a 304 Not Modified is
  // delivered as a Response (status 304, empty body) instead of failing.
  void get_response(Request r, ResponseCallback done);
  // The consumer is done with `bytes` of delivered bodies. Thread-safe. Each delivered
  // body's size must come back here, or the fetcher stalls once max_pending_bytes is held.
  void release(size_t bytes);
  // Blocks until every queued request has called back.
  void wait_idle();
  // Waits at most `timeout`; true when every request has completed.
  bool wait_idle_for(std::chrono::milliseconds timeout);

  // Statistics, for --perf and tests.
  uint64_t bytes_received() const;
  uint64_t connections_opened() const;
  size_t pending_bytes() const;

 private:
  void queue_job(Request r, ResponseCallback done, bool accept_304);
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

// pnpm 12's no-proxy rule (exposed for tests): `host` bypasses the proxy when an entry's
// dot-separated labels are a suffix of its labels ("npmjs.org" covers "registry.npmjs.org",
// not "evilnpmjs.org"), or the list is "true".
bool no_proxy_matches(std::string_view no_proxy, std::string_view host);

}  // namespace tarn::net
