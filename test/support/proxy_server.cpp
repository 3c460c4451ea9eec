// A loopback HTTP proxy for the network tests: CONNECT tunnels and absolute-URI requests,
// one thread per client connection, as simple as RegistryServer.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <mutex>
#include <set>
#include <thread>

#include "testing.hpp"

namespace tarn::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct ProxyServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  mutable std::mutex mu;
  std::string auth;      // required Proxy-Authorization; empty: none
  unsigned refuse = 0;   // CONNECT answered with this status; 0: tunnels open
  bool stalls = false;   // requests are read and never answered
  std::vector<std::string> lines;
  std::set<int> open_fds;  // client and upstream sockets, shut down by the destructor
  std::atomic<size_t> count{0};
  std::atomic<bool> stop{false};
  std::thread thread;
  std::vector<std::thread> conns;

  void track(tcp::socket& s, bool open) {
    std::lock_guard lk(mu);
    if (!open) {
      open_fds.erase(s.native_handle());
      return;
    }
    open_fds.insert(s.native_handle());
    error_code ec;
    if (stop) s.shutdown(tcp::socket::shutdown_both, ec);  // the destructor's sweep has run
  }

  // Only loopback origins: the tests stay hermetic even when a client misroutes.
  bool dial(tcp::socket& up, std::string_view authority) {
    auto colon = authority.rfind(':');
    if (colon == std::string_view::npos || authority.substr(0, colon) != "127.0.0.1") return false;
    error_code ec;
    auto port = static_cast<unsigned short>(std::stoi(std::string(authority.substr(colon + 1))));
    up.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) track(up, true);
    return !ec;
  }

  static void reply(tcp::socket& s, unsigned status, const char* reason, const char* extra = "") {
    error_code ec;
    asio::write(s, asio::buffer("HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + extra +
                                "Content-Length: 0\r\n\r\n"),
                ec);
  }

  // Copies from `from` to `to` until either side ends, then ends `to`'s sending side.
  static void pump(tcp::socket& from, tcp::socket& to) {
    char b[16384];
    for (error_code ec;;) {
      size_t n = from.read_some(asio::buffer(b), ec);
      if (ec || !asio::write(to, asio::buffer(b, n), ec) || ec) break;
    }
    error_code ec;
    to.shutdown(tcp::socket::shutdown_send, ec);
  }

  void tunnel(tcp::socket& client, boost::beast::flat_buffer& pending, tcp::socket& up) {
    error_code ec;
    if (pending.size()) asio::write(up, pending.data(), ec);  // bytes sent before the 200
    reply_connected(client);
    std::thread back([&] { pump(up, client); });
    pump(client, up);
    back.join();
  }
  static void reply_connected(tcp::socket& s) {
    error_code ec;
    asio::write(s, asio::buffer(std::string("HTTP/1.1 200 Connection established\r\n\r\n")), ec);
  }

  // An absolute-URI request: sent on to the origin in origin form, its answer sent back.
  bool forward(tcp::socket& client, tcp::socket& up, http::request<http::empty_body>& req) {
    std::string target(req.target());
    if (!target.starts_with("http://")) return reply(client, 400, "Bad Request"), false;
    auto slash = target.find('/', 7);
    std::string authority = target.substr(7, slash - 7);
    if (!up.is_open() && !dial(up, authority)) return reply(client, 502, "Bad Gateway"), false;
    req.target(slash == std::string::npos ? "/" : target.substr(slash));
    req.erase(http::field::proxy_authorization);
    error_code ec;
    http::write(up, req, ec);
    boost::beast::flat_buffer buf;
    http::response_parser<http::vector_body<uint8_t>> p;
    p.body_limit(boost::none);
    if (!ec) http::read(up, buf, p, ec);
    if (ec) return reply(client, 502, "Bad Gateway"), false;
    http::write(client, p.get(), ec);
    return !ec && p.get().keep_alive() && req.keep_alive();
  }

  // One request from the client; false ends the connection.
  bool handle(tcp::socket& client, boost::beast::flat_buffer& buf, tcp::socket& up) {
    http::request<http::empty_body> req;
    error_code ec;
    http::read(client, buf, req, ec);
    if (ec) return false;
    std::string want, line = std::string(req.method_string()) + " " + std::string(req.target()) + " HTTP/1.1";
    unsigned refuse_with = 0;
    bool stall = false;
    {
      std::lock_guard lk(mu);
      lines.push_back(line);
      want = auth, refuse_with = refuse, stall = stalls;
    }
    if (stall) {
      char b[512];
      while (!ec) client.read_some(asio::buffer(b), ec);  // until the client gives up
      return false;
    }
    auto given = req.find(http::field::proxy_authorization);
    if (!want.empty() && (given == req.end() || given->value() != want)) {
      reply(client, 407, "Proxy Authentication Required", "Proxy-Authenticate: Basic realm=\"tarn-test\"\r\n");
      return req.method() != http::verb::connect;
    }
    if (req.method() != http::verb::connect) return forward(client, up, req);
    if (refuse_with) return reply(client, refuse_with, "Refused"), false;
    if (!dial(up, req.target())) return reply(client, 502, "Bad Gateway"), false;
    tunnel(client, buf, up);
    return false;
  }

  void serve(tcp::socket client) {
    track(client, true);
    boost::beast::flat_buffer buf;
    tcp::socket up(ioc);
    while (handle(client, buf, up)) {
    }
    error_code ec;
    if (up.is_open()) track(up, false), up.close(ec);
    track(client, false);
    client.close(ec);
  }
};

ProxyServer::ProxyServer() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([this] {
    for (;;) {
      error_code ec;
      tcp::socket s(impl_->ioc);
      impl_->acceptor.accept(s, ec);
      if (impl_->stop) return;
      if (ec) continue;
      ++impl_->count;
      std::lock_guard lk(impl_->mu);
      impl_->conns.emplace_back([this, sock = std::move(s)]() mutable { impl_->serve(std::move(sock)); });
    }
  });
}

ProxyServer::~ProxyServer() {
  impl_->stop = true;
  error_code ec;
  tcp::socket s(impl_->ioc);
  s.connect(impl_->acceptor.local_endpoint(), ec);  // unblock accept()
  impl_->thread.join();
  {
    std::lock_guard lk(impl_->mu);
    for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : impl_->conns) t.join();
}

void ProxyServer::require_auth(std::string value) {
  std::lock_guard lk(impl_->mu);
  impl_->auth = std::move(value);
}

void ProxyServer::refuse_connect(unsigned status) {
  std::lock_guard lk(impl_->mu);
  impl_->refuse = status;
}

void ProxyServer::stall() {
  std::lock_guard lk(impl_->mu);
  impl_->stalls = true;
}

std::string ProxyServer::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port());
}

size_t ProxyServer::connections() const { return impl_->count; }

std::vector<std::string> ProxyServer::request_lines() const {
  std::lock_guard lk(impl_->mu);
  return impl_->lines;
}

}  // namespace tarn::test
