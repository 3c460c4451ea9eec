#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "testing.hpp"

namespace tarn::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
using Fault = RegistryServer::Fault;

namespace {

// Each helper takes the plain socket or the TLS stream of an HTTPS registry.
template <class Stream>
void write_raw(Stream& sock, const std::string& head, const uint8_t* body, size_t n) {
  boost::system::error_code ec;
  asio::write(sock, asio::buffer(head), ec);
  if (!ec && n) asio::write(sock, asio::buffer(body, n), ec);
}

// Blocks until the client closes the connection (or the server shuts it down): a server
// that stops answering, which only the client's timeout can end.
template <class Stream>
void stall(Stream& sock) {
  char b[512];
  boost::system::error_code ec;
  while (!ec) sock.read_some(asio::buffer(b), ec);
}

template <class Stream>
void endless(Stream& sock) {
  write_raw(sock, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", nullptr, 0);
  std::string chunk = "4000\r\n" + std::string(0x4000, 'e') + "\r\n";
  boost::system::error_code ec;
  while (!ec) asio::write(sock, asio::buffer(chunk), ec);
}

std::string head_200(size_t content_length) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

}  // namespace

struct RegistryServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  mutable std::mutex mu;
  std::map<std::string, std::vector<uint8_t>> bodies;
  std::map<std::string, Fault> faults;
  std::map<std::string, std::string> etags;
  std::vector<Received> log;
  std::optional<std::string> required_auth;  // guarded by mu
  std::set<int> open_fds;  // shut down by the destructor so no connection thread outlives it
  std::atomic<size_t> count{0};
  std::atomic<unsigned> delay_ms{0};
  std::atomic<bool> stop{false};
  std::thread thread;
  std::vector<std::thread> conns;

  // Records the request; returns the fault to apply to it, if any.
  std::optional<Fault> record(const http::request<http::empty_body>& req) {
    Received r{std::string(req.target()), {}};
    for (auto& f : req) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      r.headers[name] = std::string(f.value());
    }
    std::lock_guard lk(mu);
    ++count;
    log.push_back(r);
    // A private registry: without the expected credential, 401 before anything else
    // (Verdaccio's answer for a package with access: $authenticated).
    if (required_auth && r.headers["authorization"] != *required_auth) {
      Fault unauthorized;
      unauthorized.status = 401;
      return unauthorized;
    }
    auto it = faults.find(r.target);
    if (it == faults.end() || it->second.times == 0) return std::nullopt;
    if (it->second.times > 0) --it->second.times;
    return it->second;
  }

  // Normal service: the body or 404.
  template <class Stream>
  bool answer(Stream& sock, const http::request<http::empty_body>& req, const Fault* status) {
    http::response<http::vector_body<uint8_t>> res;
    res.version(11);
    res.keep_alive(req.keep_alive());
    if (status) {
      res.result(status->status);
      if (!status->retry_after.empty()) res.set(http::field::retry_after, status->retry_after);
    } else {
      std::lock_guard lk(mu);
      auto it = bodies.find(std::string(req.target()));
      res.result(it == bodies.end() ? http::status::not_found : http::status::ok);
      auto tag = etags.find(std::string(req.target()));
      if (it != bodies.end() && tag != etags.end()) {
        res.set(http::field::etag, tag->second);
        auto inm = req.find(http::field::if_none_match);
        if (inm != req.end() && inm->value() == tag->second) res.result(http::status::not_modified);
      }
      if (it != bodies.end() && res.result() == http::status::ok) res.body() = it->second;
    }
    res.prepare_payload();
    boost::system::error_code ec;
    http::write(sock, res, ec);
    return !ec && req.keep_alive();
  }

  std::vector<uint8_t> body_of(const std::string& target) {
    std::lock_guard lk(mu);
    auto it = bodies.find(target);
    return it == bodies.end() ? std::vector<uint8_t>(1000, 'b') : it->second;
  }

  // Applies a fault; true when the connection stays open for another request.
  template <class Stream>
  bool misbehave(Stream& sock, const http::request<http::empty_body>& req, const Fault& f) {
    auto body = body_of(std::string(req.target()));
    switch (f.kind) {
      case Fault::Status: return answer(sock, req, &f);
      case Fault::CloseAfter: answer(sock, req, nullptr); return false;
      case Fault::Stall: stall(sock); return false;
      case Fault::Endless: endless(sock); return false;
      case Fault::HugeLength: write_raw(sock, head_200(1'000'000'000'000), nullptr, 0); stall(sock); return false;
      case Fault::Truncate: write_raw(sock, head_200(body.size()), body.data(), body.size() / 2); return false;
      case Fault::Redirect:
        write_raw(sock, "HTTP/1.1 302 Found\r\nLocation: " + f.location + "\r\nContent-Length: 0\r\n\r\n", nullptr, 0);
        return true;
      case Fault::Chunked: {
        write_raw(sock, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", nullptr, 0);
        boost::system::error_code ec;
        for (size_t at = 0; at < body.size() && !ec; at += f.piece_bytes) {
          size_t n = std::min(f.piece_bytes, body.size() - at);
          std::ostringstream size;
          size << std::hex << n << "\r\n";
          asio::write(sock, asio::buffer(size.str()), ec);
          if (!ec) asio::write(sock, asio::buffer(body.data() + at, n), ec);
          if (!ec) asio::write(sock, asio::buffer(std::string("\r\n")), ec);
        }
        if (!ec) asio::write(sock, asio::buffer(std::string("0\r\n\r\n")), ec);
        return !ec && req.keep_alive();
      }
      case Fault::Slow: {
        write_raw(sock, head_200(body.size()), nullptr, 0);
        boost::system::error_code ec;
        for (size_t at = 0; at < body.size() && !ec && !stop; at += f.piece_bytes) {
          if (at) std::this_thread::sleep_for(std::chrono::milliseconds(f.piece_ms));
          asio::write(sock, asio::buffer(body.data() + at, std::min(f.piece_bytes, body.size() - at)), ec);
        }
        return !ec && req.keep_alive();
      }
      case Fault::ResetMidBody: {
        write_raw(sock, head_200(body.size()), body.data(), body.size() / 2);
        boost::system::error_code ec;
        boost::beast::get_lowest_layer(sock).set_option(asio::socket_base::linger(true, 0), ec);  // close() now sends RST
        return false;
      }
    }
    return false;
  }

  std::unique_ptr<ssl::context> tls;  // HTTPS mode

  void serve(tcp::socket sock) {
    int fd = sock.native_handle();
    ssl::context* ctx = nullptr;
    {
      std::lock_guard lk(mu);
      ctx = tls.get();
      open_fds.insert(fd);
      boost::system::error_code ec;
      if (stop) sock.shutdown(tcp::socket::shutdown_both, ec);  // the destructor's sweep has run
    }
    if (ctx) {
      ssl::stream<tcp::socket> s(std::move(sock), *ctx);
      boost::system::error_code ec;
      s.handshake(ssl::stream_base::server, ec);  // a client that rejects the certificate ends here
      if (!ec) serve_requests(s);
    } else {
      serve_requests(sock);
    }
    std::lock_guard lk(mu);
    open_fds.erase(fd);
  }

  template <class Stream>
  void serve_requests(Stream& sock) {
    boost::beast::flat_buffer buf;
    for (bool more = true; more;) {
      boost::system::error_code ec;
      http::request<http::empty_body> req;
      http::read(sock, buf, req, ec);
      if (ec) break;
      auto f = record(req);
      if (unsigned d = delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(d));
      more = f ? misbehave(sock, req, *f) : answer(sock, req, nullptr);
    }
    boost::system::error_code ec;
    boost::beast::get_lowest_layer(sock).close(ec);
  }
};

RegistryServer::RegistryServer(const TestPki& pki) : RegistryServer() {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->use_certificate_chain(asio::buffer(pki.leaf_pem));
  ctx->use_private_key(asio::buffer(pki.leaf_key_pem), ssl::context::pem);
  std::lock_guard lk(impl_->mu);
  impl_->tls = std::move(ctx);
}

RegistryServer::RegistryServer() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([this] {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s(impl_->ioc);
      impl_->acceptor.accept(s, ec);
      if (impl_->stop) return;
      if (ec) continue;
      std::lock_guard lk(impl_->mu);
      impl_->conns.emplace_back([this, sock = std::move(s)]() mutable { impl_->serve(std::move(sock)); });
    }
  });
}

RegistryServer::~RegistryServer() {
  impl_->stop = true;
  boost::system::error_code ec;
  tcp::socket s(impl_->ioc);
  s.connect(impl_->acceptor.local_endpoint(), ec);  // unblock accept()
  impl_->thread.join();
  {
    // Connections still open (a stalled or endless response, an idle keep-alive one)
    // see EOF or EPIPE at once.
    std::lock_guard lk(impl_->mu);
    for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : impl_->conns) t.join();
}

void RegistryServer::put(const std::string& path, std::vector<uint8_t> body) {
  std::lock_guard lk(impl_->mu);
  impl_->bodies[path] = std::move(body);
}

void RegistryServer::set_etag(const std::string& path, std::string etag) {
  std::lock_guard lk(impl_->mu);
  impl_->etags[path] = std::move(etag);
}

void RegistryServer::fault(const std::string& path, Fault f) {
  std::lock_guard lk(impl_->mu);
  impl_->faults[path] = std::move(f);
}

void RegistryServer::set_response_delay_ms(unsigned ms) { impl_->delay_ms = ms; }
void RegistryServer::require_authorization(std::string value) {
  std::lock_guard lk(impl_->mu);
  impl_->required_auth = std::move(value);
}

std::string RegistryServer::url() const {
  std::lock_guard lk(impl_->mu);
  return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" +
         std::to_string(impl_->acceptor.local_endpoint().port()) + "/";
}

size_t RegistryServer::requests() const { return impl_->count; }

size_t RegistryServer::requests(const std::string& path) const {
  std::lock_guard lk(impl_->mu);
  return std::count_if(impl_->log.begin(), impl_->log.end(), [&](const Received& r) { return r.target == path; });
}

std::vector<RegistryServer::Received> RegistryServer::received() const {
  std::lock_guard lk(impl_->mu);
  return impl_->log;
}

}  // namespace tarn::test
