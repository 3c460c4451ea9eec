#include "tarn/net/fetcher.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <mutex>
#include <thread>

namespace tarn::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

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

namespace {

struct Job {
  Request req;
  Callback done;
  int redirects = 0;
};

// One connection, plain or TLS.
struct Conn {
  std::string origin;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool open() const { return plain || secure; }
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }
  void close() {
    boost::system::error_code ec;
    if (plain) plain->socket().close(ec);
    if (secure) beast::get_lowest_layer(*secure).socket().close(ec);
    plain.reset();
    secure.reset();
    buffer.clear();
  }
};

struct HttpResult {
  unsigned status = 0;
  std::string location;
  Body body;
};

}  // namespace

struct Fetcher::Impl {
  asio::io_context ioc{1};
  ssl::context tls{ssl::context::tls_client};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
  asio::steady_timer wake{ioc};
  std::deque<Job> queue;  // network thread only
  bool closing = false;
  size_t connections;
  bool started = false;
  std::string preconnect_origin;
  std::map<std::string, tcp::resolver::results_type> dns;  // network thread only
  std::set<Conn*> live;                                      // network thread only

  std::mutex mu;
  std::condition_variable cv;
  size_t pending = 0;  // guarded by mu
  std::atomic<uint64_t> bytes{0}, opened{0};

  explicit Impl(size_t n) : connections(std::max<size_t>(1, n)) {
    tls.set_default_verify_paths();
    tls.set_verify_mode(ssl::verify_peer);
    guard.emplace(ioc.get_executor());
    wake.expires_at(asio::steady_timer::time_point::max());
    thread = std::thread([this] { ioc.run(); });
  }

  ~Impl() {
    // Connection attempts can hang for seconds (on this machine's network every attempt
    // past ~25 concurrent ones waits 5 s): cancel them instead of waiting at exit.
    asio::post(ioc, [this] {
      closing = true;
      wake.cancel();
      for (Conn* c : live)
        if (c->open()) c->lowest().cancel();
    });
    guard.reset();
    thread.join();
  }

  void start_workers() {
    if (started) return;
    started = true;
    for (size_t i = 0; i < connections; ++i) asio::co_spawn(ioc, worker(), asio::detached);
  }

  awaitable<tcp::resolver::results_type> resolve(const Url& u) {
    auto key = u.host + ":" + u.port;
    if (auto it = dns.find(key); it != dns.end()) co_return it->second;
    tcp::resolver r(ioc);
    auto res = co_await r.async_resolve(u.host, u.port, use_awaitable);
    dns[key] = res;
    co_return res;
  }

  awaitable<void> connect(Conn& c, const Url& u) {
    c.close();
    c.origin = u.origin();
    auto eps = co_await resolve(u);
    // Shutting down: do not start a connection the destructor could no longer cancel.
    if (closing) throw boost::system::system_error(asio::error::operation_aborted);
    opened++;
    if (u.tls) {
      c.secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, tls);
      if (!SSL_set_tlsext_host_name(c.secure->native_handle(), u.host.c_str()))
        throw boost::system::system_error(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
      c.secure->set_verify_callback(ssl::host_name_verification(u.host));
      beast::get_lowest_layer(*c.secure).expires_after(std::chrono::seconds(30));
      co_await beast::get_lowest_layer(*c.secure).async_connect(eps, use_awaitable);
      if (closing) throw boost::system::system_error(asio::error::operation_aborted);
      beast::get_lowest_layer(*c.secure).socket().set_option(tcp::no_delay(true));
      co_await c.secure->async_handshake(ssl::stream_base::client, use_awaitable);
    } else {
      c.plain = std::make_unique<beast::tcp_stream>(ioc);
      c.plain->expires_after(std::chrono::seconds(30));
      co_await c.plain->async_connect(eps, use_awaitable);
      c.plain->socket().set_option(tcp::no_delay(true));
    }
  }

  template <class Stream>
  awaitable<HttpResult> exchange(Stream& s, Conn& c, const Url& u, const Request& r, bool& keep_alive) {
    http::request<http::empty_body> req{http::verb::get, u.target, 11};
    bool default_port = (u.tls && u.port == "443") || (!u.tls && u.port == "80");
    req.set(http::field::host, default_port ? u.host : u.host + ":" + u.port);
    req.set(http::field::user_agent, "tarn/0.1 (pnpm-compatible)");
    req.set(http::field::accept, "*/*");
    req.set(http::field::connection, "keep-alive");
    if (r.authorization) req.set(http::field::authorization, *r.authorization);
    c.lowest().expires_after(std::chrono::seconds(120));
    co_await http::async_write(s, req, use_awaitable);
    http::response_parser<http::vector_body<uint8_t>> p;
    p.body_limit(std::numeric_limits<std::uint64_t>::max());
    co_await http::async_read(s, c.buffer, p, use_awaitable);
    auto res = p.release();
    keep_alive = res.keep_alive();
    HttpResult out;
    out.status = res.result_int();
    if (auto it = res.find(http::field::location); it != res.end()) out.location = std::string(it->value());
    out.body = std::move(res.body());
    co_return out;
  }

  // One attempt on a (possibly reused) connection.
  awaitable<HttpResult> attempt(Conn& c, const Url& u, const Request& r) {
    if (!c.open() || c.origin != u.origin()) co_await connect(c, u);
    bool keep = false;
    // Two statements, not a ?: — GCC 12 miscompiles co_await inside a conditional expression.
    HttpResult res;
    if (c.secure) res = co_await exchange(*c.secure, c, u, r, keep);
    else res = co_await exchange(*c.plain, c, u, r, keep);
    if (!keep) c.close();
    co_return res;
  }

  awaitable<void> run_job(Conn& c, Job job) {
    auto u = parse_url(job.req.url);
    if (!u) {
      finish(job, u.error());
      co_return;
    }
    std::string why;
    for (int tries = 0; tries < 4; ++tries) {
      bool reused = c.open() && c.origin == u->origin();
      try {
        HttpResult res = co_await attempt(c, *u, job.req);
        if (res.status >= 300 && res.status < 400 && !res.location.empty() && job.redirects < 5) {
          std::string loc = res.location;
          if (loc[0] == '/') loc = u->origin() + loc;
          job.req.url = loc;
          job.redirects++;
          co_await run_job(c, std::move(job));
          co_return;
        }
        if (res.status == 200) {
          bytes += res.body.size();
          finish(job, std::move(res.body));
          co_return;
        }
        if (res.status >= 500 || res.status == 429) {
          why = "HTTP " + std::to_string(res.status);
          asio::steady_timer t(ioc, std::chrono::milliseconds(200 << tries));
          co_await t.async_wait(use_awaitable);
          continue;
        }
        std::string msg = "GET " + job.req.url + ": " + (res.status == 404 ? "Not Found" : "HTTP error") + " - " +
                          std::to_string(res.status) + " (" + job.req.what + ")";
        finish(job, Error::http(res.status, msg));
        co_return;
      } catch (const boost::system::system_error& e) {
        c.close();
        why = e.code().message();
        // A server may close an idle keep-alive connection at any time: retry at once.
        if (reused) --tries;
      }
    }
    finish(job, Error::failed(Code::FetchFailed, "failed to fetch " + job.req.url + " (" + job.req.what + "): " + why));
  }

  void finish(Job& job, Result<Body>&& r) {
    job.done(std::move(r));
    std::lock_guard lk(mu);
    if (--pending == 0) cv.notify_all();
  }

  awaitable<void> worker() {
    Conn c;
    live.insert(&c);
    if (!preconnect_origin.empty() && !closing) {
      try {
        auto u = parse_url(preconnect_origin + "/");
        if (u) co_await connect(c, *u);
      } catch (const boost::system::system_error&) {
        c.close();  // the real request retries and reports
      }
    }
    for (;;) {
      if (!queue.empty()) {
        Job j = std::move(queue.front());
        queue.pop_front();
        co_await run_job(c, std::move(j));
        continue;
      }
      if (closing) break;
      boost::system::error_code ec;
      co_await wake.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    live.erase(&c);
    c.close();
  }
};

Fetcher::Fetcher(size_t connections) : impl_(std::make_unique<Impl>(connections)) {}
Fetcher::~Fetcher() = default;

void Fetcher::preconnect(const std::string& url) {
  auto u = parse_url(url);
  std::string origin = u ? u->origin() : "";
  asio::post(impl_->ioc, [this, origin] {
    if (!impl_->started) impl_->preconnect_origin = origin;
    impl_->start_workers();
  });
}

void Fetcher::get(Request r, Callback done) {
  {
    std::lock_guard lk(impl_->mu);
    ++impl_->pending;
  }
  asio::post(impl_->ioc, [this, job = Job{std::move(r), std::move(done)}]() mutable {
    impl_->queue.push_back(std::move(job));
    impl_->start_workers();
    // Wake idle workers; each re-checks the queue.
    impl_->wake.cancel();
    impl_->wake.expires_at(asio::steady_timer::time_point::max());
  });
}

void Fetcher::release(size_t) {}

void Fetcher::wait_idle() {
  std::unique_lock lk(impl_->mu);
  impl_->cv.wait(lk, [&] { return impl_->pending == 0; });
}

bool Fetcher::wait_idle_for(std::chrono::milliseconds timeout) {
  std::unique_lock lk(impl_->mu);
  return impl_->cv.wait_for(lk, timeout, [&] { return impl_->pending == 0; });
}

uint64_t Fetcher::bytes_received() const { return impl_->bytes; }
uint64_t Fetcher::connections_opened() const { return impl_->opened; }

}  // namespace tarn::net
