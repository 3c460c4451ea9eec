#include "tarn/net/fetcher.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace tarn::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;
using ms = std::chrono::milliseconds;

Result<Url> parse_url(std::string_view u) {
  Url r;
  std::string_view rest;
  if (u.substr(0, 8) == "https://") r.tls = true, rest = u.substr(8);
  else if (u.substr(0, 7) == "http://") r.tls = false, rest = u.substr(7);
  else return Error::failed(Code::InvalidUrl, "unsupported URL \"" + std::string(u) + "\"");
  auto slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  r.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  auto at = hostport.rfind('@');  // user:pass@ is not supported; drop it
  if (at != std::string_view::npos) hostport = hostport.substr(at + 1);
  auto colon = hostport.rfind(':');
  if (colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
    r.host = std::string(hostport.substr(0, colon));
    r.port = std::string(hostport.substr(colon + 1));
  } else {
    r.host = std::string(hostport);
    r.port = r.tls ? "443" : "80";
  }
  if (r.host.empty()) return Error::failed(Code::InvalidUrl, "URL \"" + std::string(u) + "\" has no host");
  return r;
}

bool no_proxy_matches(std::string_view list, std::string_view host) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  };
  if (trim(list) == "true") return true;
  std::string h(host);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view entry = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    // Labels compared from the right (pnpm's NoProxyMatcher): a suffix on a dot boundary,
    // so a leading-dot entry (".npmjs.org") matches nothing, as in pnpm 12.
    if (entry.empty() || entry.size() > h.size()) continue;
    if (h.compare(h.size() - entry.size(), entry.size(), entry) != 0) continue;
    if (entry.size() == h.size() || h[h.size() - entry.size() - 1] == '.') return true;
  }
  return false;
}

namespace {

// A proxy to reach some origins through, with its credentials as a Proxy-Authorization
// header (reqwest's Proxy::basic_auth, which pnpm 12 feeds from the URL's userinfo).
struct ProxyRoute {
  Url url;
  std::string text;  // the URL without its userinfo, for messages
  std::optional<std::string> authorization;
};

// pnpm's percent_decode_str: invalid %XX sequences stay as they are.
std::string percent_decode(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    unsigned byte = 0;
    if (v[i] == '%' && i + 2 < v.size() &&
        std::from_chars(v.data() + i + 1, v.data() + i + 3, byte, 16).ptr == v.data() + i + 3) {
      out += static_cast<char>(byte), i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

// pnpm's parse_proxy_url: a value without a scheme ("proxy.corp:8080") is taken as http://.
Result<ProxyRoute> parse_proxy(const std::string& raw) {
  std::string full = raw.find("://") == std::string::npos ? "http://" + raw : raw;
  auto bad = [&](const std::string& why) {
    return Error::failed(Code::InvalidProxy, "failed to use the proxy " + printable(raw) + ": " + why);
  };
  if (full.starts_with("https://")) return bad("only http:// proxies are supported");
  auto u = parse_url(full);
  if (!u) return bad(u.error().message);
  ProxyRoute r{*u, "http://" + u->host + ":" + u->port, std::nullopt};
  std::string_view authority = std::string_view(full).substr(7);
  authority = authority.substr(0, authority.find('/'));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view info = authority.substr(0, at);
    auto colon = info.find(':');
    std::string user = percent_decode(info.substr(0, colon));
    std::string pass = colon == std::string_view::npos ? "" : percent_decode(info.substr(colon + 1));
    if (!user.empty()) r.authorization = "Basic " + base64(user + ":" + pass);
  }
  return r;
}

// Node's names for OpenSSL's verification results (what npm and pnpm on Node print).
std::string_view node_verify_code(long v) {
  switch (v) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: return "UNABLE_TO_GET_ISSUER_CERT";
    case X509_V_ERR_CERT_NOT_YET_VALID: return "CERT_NOT_YET_VALID";
    case X509_V_ERR_CERT_HAS_EXPIRED: return "CERT_HAS_EXPIRED";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: return "DEPTH_ZERO_SELF_SIGNED_CERT";
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: return "SELF_SIGNED_CERT_IN_CHAIN";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: return "UNABLE_TO_GET_ISSUER_CERT_LOCALLY";
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: return "UNABLE_TO_VERIFY_LEAF_SIGNATURE";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return "ERR_TLS_CERT_ALTNAME_INVALID";
    default: return "CERT_VERIFY_FAILED";
  }
}

bool is_verify_failure(error_code ec) {
  return ec.category() == asio::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

// A response body collected whole, or, when the request's BodySink opens a 200, handed on
// read by read: the read loop passes `data` to the sink and empties it after each read.
struct SinkBody {
  struct value_type {
    std::vector<uint8_t> data;
    BodySink* sink = nullptr;
    unsigned attempt = 1;
    bool streaming = false;
  };
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>& h, value_type& b) : b_(b) {
      if constexpr (!isRequest) ok_ = h.result_int() == 200;
    }
    // Runs as body parsing starts: on the first read after the header.
    void init(const boost::optional<uint64_t>& length, error_code& ec) {
      ec = {};
      std::optional<uint64_t> n;
      if (length) n = *length;
      b_.streaming = ok_ && b_.sink && b_.sink->open(b_.attempt, n);
      // The body cap has already refused a Content-Length over it.
      if (!b_.streaming && length) b_.data.reserve(static_cast<size_t>(*length));
    }
    template <class Buffers>
    size_t put(const Buffers& buffers, error_code& ec) {
      ec = {};
      size_t n = asio::buffer_size(buffers), len = b_.data.size();
      b_.data.resize(len + n);
      return asio::buffer_copy(asio::buffer(b_.data.data() + len, n), buffers);
    }
    void finish(error_code& ec) { ec = {}; }

   private:
    value_type& b_;
    bool ok_ = false;  // only a 200's body is offered to the sink
  };
};

struct Job {
  Request req;
  ResponseCallback done;  // emptied by the one call
  bool accept_304 = false;  // get_response(): a 304 is an answer, not a failure
};

// One connection, plain or TLS.
struct Conn {
  std::string origin;
  const ProxyRoute* via = nullptr;  // the proxy this connection goes through, if any
  unsigned proxy_status = 0;        // the proxy's answer to a refused CONNECT
  long verify_result = X509_V_OK;   // why the last handshake's certificate check failed
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool open() const { return plain || secure; }
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }
  void close() {
    error_code ec;
    if (plain) plain->socket().close(ec);
    if (secure) beast::get_lowest_layer(*secure).socket().close(ec);
    plain.reset();
    secure.reset();
    buffer.clear();
  }
};

// What one exchange, or one attempt (an exchange and the redirects it leads to), came to.
struct Outcome {
  std::string url;            // the URL that answered, or failed
  error_code ec;              // transport failure, timeouts and the body cap included
  bool reused = false;        // on a keep-alive connection opened for an earlier request
  bool header_seen = false;   // the response's header had arrived
  bool unreached = false;     // no connection could be opened (DNS, connect, tunnel, TLS)
  bool keep_alive = false;
  unsigned status = 0;
  std::string location;
  std::optional<ms> retry_after;
  std::optional<Error> fatal;  // not worth another attempt (a bad redirect)
  bool announced = false;      // the request's Progress was told of this response
  bool streamed = false;       // the body went to the request's BodySink
  const ProxyRoute* via = nullptr;
  unsigned proxy_status = 0;  // a proxy refused the CONNECT with this status
  long verify_result = X509_V_OK;
  Response response;          // status copied in; body and validators
};

// One attempt's request: its Authorization (dropped at the first hop to another origin),
// and who hears of its progress.
struct Attempt {
  std::optional<std::string> auth;
  const Progress* progress = nullptr;
  unsigned number = 1;
};

// @zkochan/retry with randomize off: min(mintimeout * factor^attempt, maxtimeout).
ms backoff(const FetcherOptions& o, unsigned attempt) {
  uint64_t d = static_cast<uint64_t>(std::max<int64_t>(0, o.fetch_retry_mintimeout.count()));
  uint64_t cap = static_cast<uint64_t>(std::max<int64_t>(0, o.fetch_retry_maxtimeout.count()));
  for (unsigned i = 0; i < attempt && d < cap; ++i)
    if (__builtin_mul_overflow(d, o.fetch_retry_factor, &d)) d = cap;
  return ms(std::min(d, cap));
}

// Retry-After is delay-seconds or an HTTP date (RFC 9110 §10.2.3).
std::optional<ms> parse_retry_after(std::string_view v) {
  if (v.empty()) return std::nullopt;
  uint64_t secs = 0;
  auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (err == std::errc() && end == v.data() + v.size()) return ms(std::min<uint64_t>(secs, 1u << 30) * 1000);
  std::tm tm{};
  std::string s(v);
  if (!strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  return std::max(ms(0), std::chrono::duration_cast<ms>(when - std::chrono::system_clock::now()));
}

std::string resolve_location(const Url& base, std::string_view loc) {
  if (loc.starts_with("http://") || loc.starts_with("https://")) return std::string(loc);
  if (loc.starts_with("//")) return (base.tls ? "https:" : "http:") + std::string(loc);
  if (loc.starts_with("/")) return base.origin() + std::string(loc);
  return base.origin() + base.target.substr(0, base.target.rfind('/') + 1) + std::string(loc);
}

bool is_redirect(unsigned s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }

// pnpm retries these statuses (make-fetch-happen's set); 401, 403, 404 and the rest fail at once.
bool retryable_status(unsigned s) { return s == 408 || s == 429 || s >= 500; }

// How a server closing an idle keep-alive connection shows up on the next request.
bool closed_by_peer(error_code ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

bool retryable(const Outcome& o) {
  if (o.fatal) return false;
  // A proxy that wants credentials (407) or forbids the host says so every time.
  if (o.proxy_status) return retryable_status(o.proxy_status);
  if (!o.ec) return retryable_status(o.status);
  // The cap and a certificate the host does not match are the same on every attempt.
  if (o.ec == http::error::body_limit || o.ec == asio::error::operation_aborted) return false;
  return !is_verify_failure(o.ec);
}

uint64_t body_cap(const Job& job, const FetcherOptions& opt) {
  return job.req.max_body_bytes ? job.req.max_body_bytes : opt.max_body_bytes;
}

Error final_error(const Job& job, const Outcome& o, const FetcherOptions& opt, unsigned attempts) {
  if (o.fatal) return *o.fatal;
  std::string where = "failed to fetch " + job.req.what + " from " + printable(o.url) + ": ";
  std::string tries = attempts > 1 ? " (" + std::to_string(attempts) + " attempts)" : "";
  if (o.ec == http::error::body_limit)
    return Error::failed(Code::TarballTooLarge,
                         where + "the body is over the cap of " + std::to_string(body_cap(job, opt)) + " bytes");
  if (o.ec == beast::error::timeout)
    return Error::failed(Code::FetchTimeout,
                         where + "no data for " + std::to_string(opt.fetch_timeout.count()) + " ms" + tries);
  if (o.proxy_status) {
    std::string reason(http::obsolete_reason(http::int_to_status(o.proxy_status)));
    return Error::failed(Code::ProxyConnect, where + "the proxy " + o.via->text + " refused the tunnel: " +
                                                 std::to_string(o.proxy_status) + " " + reason + tries);
  }
  if (is_verify_failure(o.ec))
    return Error::failed(Code::TlsVerify, where + "certificate verification failed: " +
                                              std::string(node_verify_code(o.verify_result)) + " (" +
                                              X509_verify_cert_error_string(o.verify_result) +
                                              "); trust its CA with cafile or ca, or set strict-ssl=false");
  if (o.ec && o.via)
    return Error::failed(Code::FetchFailed, where + o.ec.message() + " (through the proxy " + o.via->text + ")" + tries);
  if (o.ec) return Error::failed(Code::FetchFailed, where + o.ec.message() + tries);
  std::string reason(http::obsolete_reason(http::int_to_status(o.status)));
  return Error::http(o.status, "failed to fetch " + job.req.what + ": GET " + printable(o.url) + ": " + reason +
                                   " - " + std::to_string(o.status) + tries);
}

Error cancelled(const Job& job) {
  return Error::failed(Code::FetchFailed,
                       "failed to fetch " + job.req.what + " from " + printable(job.req.url) + ": cancelled, the fetcher was shut down");
}

}  // namespace

struct Fetcher::Impl {
  const FetcherOptions opts;
  asio::io_context ioc{1};
  ssl::context tls{ssl::context::tls_client};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
  // Network thread only, from here to `mu`.
  asio::steady_timer wake{ioc};  // a job was queued
  asio::steady_timer room{ioc};  // pending bytes fell under the cap
  std::deque<Job> queue;
  size_t urgent_queued = 0;  // the urgent jobs at the front of `queue`
  bool closing = false;
  bool started = false;
  std::string preconnect_origin;
  std::map<std::string, tcp::resolver::results_type> dns;
  std::set<Conn*> live;
  std::set<asio::steady_timer*> timers;  // backoffs and DNS deadlines, cancelled at shutdown
  // Origins no connection could be opened to on any retry (DNS, refused, unreachable, TLS
  // handshake; a stalled or cut response does not count): later jobs for them fail at once
  // with that reason instead of each waiting out fetch-retries backoffs. A registry that
  // went away mid-install (13,520 tarballs queued, the default 10 s + 60 s backoffs, 24
  // connections) otherwise kept tarn busy for hours. pnpm stops at its first failed fetch;
  // tarn still names every package it did not get.
  std::map<std::string, std::string> unreachable;  // origin -> the first failure's reason

  std::mutex mu;
  std::condition_variable cv;
  size_t jobs = 0;  // guarded by mu: queued or running
  std::atomic<size_t> pending_bytes{0};
  std::atomic<uint64_t> bytes{0}, opened{0};

  // Proxies and trust, from opts.network; a setting that does not parse fails every job.
  std::optional<ProxyRoute> https_proxy, http_proxy;
  std::optional<Error> setup_error;

  explicit Impl(FetcherOptions o) : opts(o) {
    tls.set_default_verify_paths();
    configure_network(opts.network);
    guard.emplace(ioc.get_executor());
    wake.expires_at(asio::steady_timer::time_point::max());
    room.expires_at(asio::steady_timer::time_point::max());
    thread = std::thread([this] { ioc.run(); });
  }

  ~Impl() {
    // Connection attempts can hang for seconds (on this machine's network every attempt
    // past ~25 concurrent ones waits 5 s): cancel them instead of waiting at exit.
    asio::post(ioc, [this] {
      closing = true;
      for (Job& j : queue) finish(j, cancelled(j));
      queue.clear();
      urgent_queued = 0;
      wake.cancel();
      room.cancel();
      for (Conn* c : live)
        if (c->open()) c->lowest().cancel();
      for (asio::steady_timer* t : timers) t->cancel();
    });
    guard.reset();
    thread.join();
  }

  void configure_network(const NetworkOptions& n) {
    // strict-ssl=false is Node's rejectUnauthorized=false: neither the chain nor the
    // host name is checked.
    tls.set_verify_mode(n.strict_ssl ? ssl::verify_peer : ssl::verify_none);
    for (size_t i = 0; i < n.ca.size() && !setup_error; ++i) {
      error_code ec;
      tls.add_certificate_authority(asio::buffer(n.ca[i]), ec);
      if (ec)
        setup_error = Error::failed(Code::ConfigInvalid, "failed to read the CA certificate " + std::to_string(i + 1) +
                                                             " (ca / cafile): " + ec.message());
    }
    for (auto [raw, slot] : {std::pair{&n.https_proxy, &https_proxy}, std::pair{&n.http_proxy, &http_proxy}}) {
      if (raw->empty() || setup_error) continue;  // pnpm: an empty proxy means "direct"
      auto r = parse_proxy(*raw);
      if (r) *slot = *r;
      else setup_error = r.error();
    }
  }

  // The proxy for a target: https-proxy for https://, http-proxy for http://, none for a
  // no-proxy host.
  const ProxyRoute* route_for(const Url& u) const {
    const std::optional<ProxyRoute>& p = u.tls ? https_proxy : http_proxy;
    if (!p || no_proxy_matches(opts.network.no_proxy, u.host)) return nullptr;
    return &*p;
  }

  void finish(Job& job, Result<Response>&& r) {
    ResponseCallback done = std::move(job.done);
    job.done = nullptr;
    done(std::move(r));
    std::lock_guard lk(mu);
    if (--jobs == 0) cv.notify_all();
  }

  // Connections open in a ramp, on demand: at most kConnectBurst workers make their first
  // connection at once, and a new worker starts only while queued jobs outnumber the
  // workers that are idle or still connecting. Opening all of them at once, past ~25
  // concurrent connects through this machine's proxy, cost 5 s stalls.
  static constexpr size_t kConnectBurst = 8;
  size_t spawned = 0, ramping = 0, idle = 0;  // network thread only

  void spawn(size_t n) {
    for (; n && spawned < std::max<size_t>(1, opts.connections); --n) {
      ++spawned, ++ramping;
      asio::co_spawn(ioc, worker(), asio::detached);
    }
  }
  void grow() {
    while (!closing && ramping < kConnectBurst && queue.size() > idle + ramping && spawned < std::max<size_t>(1, opts.connections))
      spawn(1);
  }
  void start_workers() {
    if (started) return grow();
    started = true;
    spawn(kConnectBurst);
  }

  // Waits `d`, or less when shutting down.
  awaitable<void> sleep(ms d) {
    if (closing) co_return;
    asio::steady_timer t(ioc, d);
    timers.insert(&t);
    error_code ec;
    co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    timers.erase(&t);
  }

  // getaddrinfo cannot be interrupted, so the coroutine waits on a timer that either the
  // answer or the deadline ends; a late answer lands in the shared state and is dropped.
  awaitable<tcp::resolver::results_type> resolve(const Url& u, error_code& ec) {
    auto key = u.host + ":" + u.port;
    if (auto it = dns.find(key); it != dns.end()) co_return it->second;
    struct State {
      State(asio::io_context& io, ms deadline) : resolver(io), done(io, deadline) {}
      tcp::resolver resolver;
      asio::steady_timer done;
      bool answered = false;
      error_code ec;
      tcp::resolver::results_type res;
    };
    auto st = std::make_shared<State>(ioc, opts.fetch_timeout);
    st->resolver.async_resolve(u.host, u.port, [st](error_code ec, tcp::resolver::results_type res) {
      st->answered = true, st->ec = ec, st->res = std::move(res);
      st->done.cancel();
    });
    timers.insert(&st->done);
    error_code ignored;
    co_await st->done.async_wait(asio::redirect_error(use_awaitable, ignored));
    timers.erase(&st->done);
    if (!st->answered) {
      st->resolver.cancel();
      ec = closing ? error_code(asio::error::operation_aborted) : error_code(beast::error::timeout);
      co_return tcp::resolver::results_type{};
    }
    ec = st->ec;
    if (!ec) dns[key] = st->res;
    co_return st->res;
  }

  // Every step has the fetch_timeout deadline: DNS, connect, CONNECT, TLS handshake.
  awaitable<error_code> connect(Conn& c, const Url& u) {
    c.close();
    c.origin = u.origin();
    c.via = route_for(u);
    c.proxy_status = 0;
    c.verify_result = X509_V_OK;
    error_code ec;
    auto eps = co_await resolve(c.via ? c.via->url : u, ec);
    // Shutting down: do not start a connection the destructor could no longer cancel.
    if (!ec && closing) ec = asio::error::operation_aborted;
    if (ec) co_return ec;
    opened++;
    if (u.tls) {
      c.secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, tls);
      if (!prepare_tls(*c.secure, u.host))
        co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    } else {
      c.plain = std::make_unique<beast::tcp_stream>(ioc);
    }
    c.lowest().expires_after(opts.fetch_timeout);
    co_await c.lowest().async_connect(eps, asio::redirect_error(use_awaitable, ec));
    if (!ec && closing) ec = asio::error::operation_aborted;
    if (ec) co_return ec;
    c.lowest().socket().set_option(tcp::no_delay(true), ec);
    if (u.tls && c.via) ec = co_await tunnel(c, u);
    if (!ec && u.tls) {
      c.lowest().expires_after(opts.fetch_timeout);
      co_await c.secure->async_handshake(ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
      if (is_verify_failure(ec)) c.verify_result = SSL_get_verify_result(c.secure->native_handle());
    }
    co_return ec;
  }

  // SNI, and OpenSSL's own host name check so that a mismatch has a verify result to
  // report (an IP address is checked against the certificate's IP entries).
  bool prepare_tls(beast::ssl_stream<beast::tcp_stream>& s, const std::string& host) const {
    if (!SSL_set_tlsext_host_name(s.native_handle(), host.c_str())) return false;
    if (!opts.network.strict_ssl) return true;
    X509_VERIFY_PARAM* param = SSL_get0_param(s.native_handle());
    error_code ec;
    asio::ip::make_address(host, ec);
    return ec ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) == 1
              : X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  }

  // HTTPS through a proxy: CONNECT host:port, then TLS with the origin over the tunnel.
  awaitable<error_code> tunnel(Conn& c, const Url& u) {
    std::string authority = u.host + ":" + u.port;
    http::request<http::empty_body> req{http::verb::connect, authority, 11};
    req.set(http::field::host, authority);
    req.set(http::field::user_agent, "tarn/0.1 (pnpm-compatible)");
    if (c.via->authorization) req.set(http::field::proxy_authorization, *c.via->authorization);
    error_code ec;
    c.lowest().expires_after(opts.fetch_timeout);
    co_await http::async_write(c.lowest(), req, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return ec;
    http::response_parser<http::empty_body> p;
    p.skip(true);  // a CONNECT's answer has no body: what follows is the tunnel
    beast::flat_buffer buf;
    c.lowest().expires_after(opts.fetch_timeout);
    co_await http::async_read_header(c.lowest(), buf, p, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return ec;
    if (p.get().result_int() / 100 != 2) {
      c.proxy_status = p.get().result_int();
      co_return error_code(asio::error::connection_refused);
    }
    co_return error_code{};
  }

  // The response head of an attempt arrived (or the attempt failed before one): tells the
  // request's Progress; true when it wants the body's bytes as they arrive.
  static bool announce(const Attempt& at, std::optional<uint64_t> size) {
    return at.progress && at.progress->started && at.progress->started(at.number, size) && at.progress->received;
  }

  template <class Stream>
  awaitable<void> exchange(Stream& s, Conn& c, const Url& u, const Job& job, const Attempt& at, Outcome& o) {
    const std::optional<std::string>& auth = at.auth;
    bool default_port = (u.tls && u.port == "443") || (!u.tls && u.port == "80");
    std::string host = default_port ? u.host : u.host + ":" + u.port;
    // Plain HTTP through a proxy names the whole URL, and shows the proxy its credentials
    // on every request (a CONNECT tunnel showed them once).
    bool proxied = c.via && !u.tls;
    http::request<http::empty_body> req{http::verb::get, proxied ? "http://" + host + u.target : u.target, 11};
    req.set(http::field::host, host);
    if (proxied && c.via->authorization) req.set(http::field::proxy_authorization, *c.via->authorization);
    req.set(http::field::user_agent, "tarn/0.1 (pnpm-compatible)");
    req.set(http::field::accept, "*/*");
    req.set(http::field::connection, "keep-alive");
    if (auth) req.set(http::field::authorization, *auth);
    for (auto& [name, value] : job.req.headers) req.set(name, value);
    auto on_error = asio::redirect_error(use_awaitable, o.ec);
    c.lowest().expires_after(opts.fetch_timeout);
    co_await http::async_write(s, req, on_error);
    if (o.ec) co_return;
    http::response_parser<SinkBody> p;
    p.get().body().sink = job.req.sink.get();
    p.get().body().attempt = at.number;
    // A Content-Length over the cap fails while the header is parsed; any other body as
    // soon as it crosses the cap.
    if (uint64_t cap = body_cap(job, opts)) p.body_limit(cap);
    else p.body_limit(boost::none);
    c.lowest().expires_after(opts.fetch_timeout);
    co_await http::async_read_header(s, c.buffer, p, on_error);
    if (o.ec) co_return;
    o.header_seen = true;
    // A redirect is not the attempt's response: the request it leads to is.
    bool redirect = is_redirect(p.get().result_int()) && p.get().find(http::field::location) != p.get().end();
    std::optional<uint64_t> length;
    if (auto n = p.content_length()) length = *n;
    bool track = !redirect && announce(at, length);
    o.announced = !redirect;
    co_await read_body(s, c, p, track ? at.progress : nullptr, o);
    // The reader's init (so the sink's open) runs when the first body bytes are parsed.
    o.streamed = p.get().body().streaming;
    if (o.ec) co_return;
    c.lowest().expires_never();
    auto res = p.release();
    o.keep_alive = res.keep_alive();
    o.status = res.result_int();
    if (auto it = res.find(http::field::location); it != res.end()) o.location = std::string(it->value());
    if (o.status == 429 || o.status == 503)
      if (auto it = res.find(http::field::retry_after); it != res.end()) o.retry_after = parse_retry_after(it->value());
    auto field = [&](http::field f) {
      auto it = res.find(f);
      return it == res.end() ? std::string() : std::string(it->value());
    };
    o.response.status = o.status;
    o.response.etag = field(http::field::etag);
    o.response.last_modified = field(http::field::last_modified);
    o.response.content_type = field(http::field::content_type);
    o.response.body = std::move(res.body().data);
  }

  // A deadline per read, not one for the body: a big tarball on a slow link goes on as
  // long as bytes flow. A streamed body waits for room under the pending-bytes cap before
  // each read, so a consumer slower than the network holds at most the cap.
  template <class Stream>
  awaitable<void> read_body(Stream& s, Conn& c, http::response_parser<SinkBody>& p, const Progress* progress,
                            Outcome& o) {
    auto on_error = asio::redirect_error(use_awaitable, o.ec);
    SinkBody::value_type& b = p.get().body();
    uint64_t passed = 0;
    while (!p.is_done()) {
      if (b.streaming) co_await wait_for_room();
      c.lowest().expires_after(opts.fetch_timeout);
      co_await http::async_read_some(s, c.buffer, p, on_error);
      if (o.ec) co_return;
      if (b.streaming && !b.data.empty()) {
        passed += b.data.size();
        bytes += b.data.size();
        pending_bytes += b.data.size();
        b.sink->write(b.data);
        b.data.clear();
      }
      if (progress) progress->received(passed + b.data.size());
    }
  }

  // One request on this worker's connection, reused when it is open to the same origin.
  awaitable<Outcome> exchange_on(Conn& c, const std::string& url, const Url& u, const Job& job, const Attempt& at) {
    Outcome o;
    o.url = url;
    o.reused = c.open() && c.origin == u.origin();
    if (closing) o.ec = asio::error::operation_aborted;
    else if (!o.reused) {
      o.ec = co_await connect(c, u);
      o.unreached = bool(o.ec);
      o.via = c.via, o.proxy_status = c.proxy_status, o.verify_result = c.verify_result;
    } else {
      o.via = c.via;
    }
    // Statements, not a ?: — GCC 12 miscompiles co_await inside a conditional expression.
    if (!o.ec && c.secure) co_await exchange(*c.secure, c, u, job, at, o);
    else if (!o.ec) co_await exchange(*c.plain, c, u, job, at, o);
    if (o.ec || !o.keep_alive) c.close();
    co_return o;
  }

  // One attempt: the request and the redirects it leads to. Authorization goes to the
  // request's own origin only: it is dropped for good at the first hop to another scheme,
  // host or port, as reqwest (pnpm 12's client) and browsers do.
  awaitable<Outcome> follow(Conn& c, const Job& job, const Url& first, unsigned attempt) {
    Url u = first;
    std::string url = job.req.url;
    Attempt at{job.req.authorization, job.req.progress.get(), attempt};
    for (unsigned hops = 0;; ++hops) {
      Outcome o = co_await exchange_on(c, url, u, job, at);
      if (o.ec || !is_redirect(o.status) || o.location.empty()) co_return o;
      std::string where = "failed to fetch " + job.req.what + " from " + printable(url) + ": ";
      if (hops == opts.max_redirects) {
        o.fatal = Error::failed(Code::FetchFailed, where + "more than " + std::to_string(hops) + " redirects");
        co_return o;
      }
      url = resolve_location(u, o.location);
      auto next = parse_url(url);
      if (!next) {
        o.fatal = Error::failed(Code::FetchFailed, where + "redirected to " + printable(url) + ": " + next.error().message);
        co_return o;
      }
      if (next->origin() != u.origin()) at.auth.reset();
      u = *next;
    }
  }

  ms delay_before_retry(const Outcome& o, unsigned failures) const {
    if (o.retry_after) return std::min(*o.retry_after, opts.fetch_retry_maxtimeout);
    return backoff(opts, failures);
  }

  awaitable<void> run_job(Conn& c, Job job) {
    if (setup_error) {
      finish(job, *setup_error);
      co_return;
    }
    auto u = parse_url(job.req.url);
    if (!u) {
      finish(job, Error::failed(Code::InvalidUrl, "failed to fetch " + job.req.what + ": " + u.error().message));
      co_return;
    }
    bool free_retry = true;
    for (unsigned failures = 0;;) {
      if (auto it = unreachable.find(u->origin()); it != unreachable.end()) {
        finish(job, Error::failed(Code::FetchFailed, "failed to fetch " + job.req.what + " from " + printable(job.req.url) +
                                                         ": not tried, an earlier request to " + it->first +
                                                         " failed after every retry: " + it->second));
        co_return;
      }
      Outcome o = co_await follow(c, job, *u, failures + 1);
      bool answered = !closing && !o.ec && (o.status == 200 || (o.status == 304 && job.accept_304));
      if (o.streamed) job.req.sink->close(answered);
      if (closing) break;
      if (answered) {
        co_await deliver(job, std::move(o.response));
        co_return;
      }
      // A server may close an idle keep-alive connection at any time: retry at once, on a
      // new connection (so at most once).
      if (o.reused && !o.header_seen && closed_by_peer(o.ec) && std::exchange(free_retry, false)) continue;
      // pnpm reports every attempt, those that got no response too.
      if (!o.announced) announce(Attempt{std::nullopt, job.req.progress.get(), failures + 1}, std::nullopt);
      if (!retryable(o) || failures == opts.fetch_retries) {
        Error e = final_error(job, o, opts, failures + 1);
        if (o.unreached && retryable(o)) unreachable.emplace(u->origin(), o.ec.message());
        finish(job, std::move(e));
        co_return;
      }
      co_await sleep(delay_before_retry(o, failures++));
    }
    finish(job, cancelled(job));
  }

  bool over_cap() const { return opts.max_pending_bytes && pending_bytes.load() >= opts.max_pending_bytes; }

  // Holds a body back while the consumer holds max_pending_bytes, so what it holds stays
  // under the cap plus one body.
  awaitable<void> wait_for_room() {
    while (!closing && over_cap()) {
      error_code ec;
      co_await room.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

  awaitable<void> deliver(Job& job, Response response) {
    if (!response.body.empty()) co_await wait_for_room();
    if (closing) {
      finish(job, cancelled(job));
      co_return;
    }
    bytes += response.body.size();
    pending_bytes += response.body.size();
    finish(job, std::move(response));
  }

  awaitable<void> worker() {
    Conn c;
    live.insert(&c);
    bool first = true;  // counted in `ramping` until its first connect (or job) is done
    auto ramped = [&] {
      if (std::exchange(first, false)) --ramping;
      grow();
    };
    auto origin = parse_url(preconnect_origin + "/");
    if (origin && !preconnect_origin.empty() && !closing) {
      error_code ec = co_await connect(c, *origin);
      if (ec) c.close();  // the real request retries and reports
      ramped();
    }
    while (!closing) {
      error_code ec;
      if (queue.empty()) {
        if (first) ramped();
        ++idle;
        co_await wake.async_wait(asio::redirect_error(use_awaitable, ec));
        --idle;
      } else if (over_cap()) {
        co_await wait_for_room();  // an asio timer: the network thread goes on serving
      } else {
        Job j = std::move(queue.front());
        queue.pop_front();
        if (urgent_queued) --urgent_queued;
        co_await run_job(c, std::move(j));
        ramped();
      }
    }
    if (first) --ramping;
    live.erase(&c);
    c.close();
  }
};

Fetcher::Fetcher(Options options) : impl_(std::make_unique<Impl>(options)) {}
Fetcher::~Fetcher() = default;

void Fetcher::preconnect(const std::string& url) {
  auto u = parse_url(url);
  std::string origin = u ? u->origin() : "";
  asio::post(impl_->ioc, [impl = impl_.get(), origin] {
    if (!impl->started) impl->preconnect_origin = origin;
    impl->start_workers();
  });
}

void Fetcher::get(Request r, Callback done) {
  queue_job(std::move(r), [done = std::move(done)](Result<Response>&& res) {
    if (res) done(std::move(res->body));
    else done(res.error());
  }, false);
}

void Fetcher::get_response(Request r, ResponseCallback done) { queue_job(std::move(r), std::move(done), true); }

void Fetcher::queue_job(Request r, ResponseCallback done, bool accept_304) {
  {
    std::lock_guard lk(impl_->mu);
    ++impl_->jobs;
  }
  asio::post(impl_->ioc, [impl = impl_.get(), job = Job{std::move(r), std::move(done), accept_304}]() mutable {
    if (impl->closing) return impl->finish(job, cancelled(job));
    // Urgent requests (registry metadata, which the resolver waits on) pass the queued
    // tarballs, in their own first-come order.
    if (job.req.urgent) impl->queue.insert(impl->queue.begin() + static_cast<std::ptrdiff_t>(impl->urgent_queued++), std::move(job));
    else impl->queue.push_back(std::move(job));
    impl->start_workers();
    // Wake idle workers; each re-checks the queue.
    impl->wake.cancel();
    impl->wake.expires_at(asio::steady_timer::time_point::max());
  });
}

void Fetcher::release(size_t n) {
  size_t before = impl_->pending_bytes.load();
  while (!impl_->pending_bytes.compare_exchange_weak(before, before - std::min(before, n))) {
  }
  size_t cap = impl_->opts.max_pending_bytes;
  if (cap && before >= cap && before - std::min(before, n) < cap)
    asio::post(impl_->ioc, [impl = impl_.get()] { impl->room.cancel(); });
}

void Fetcher::wait_idle() {
  std::unique_lock lk(impl_->mu);
  impl_->cv.wait(lk, [&] { return impl_->jobs == 0; });
}

bool Fetcher::wait_idle_for(std::chrono::milliseconds timeout) {
  std::unique_lock lk(impl_->mu);
  return impl_->cv.wait_for(lk, timeout, [&] { return impl_->jobs == 0; });
}

uint64_t Fetcher::bytes_received() const { return impl_->bytes; }
uint64_t Fetcher::connections_opened() const { return impl_->opened; }
size_t Fetcher::pending_bytes() const { return impl_->pending_bytes; }

}  // namespace tarn::net
