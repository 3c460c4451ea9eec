#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <mutex>
#include <thread>

#include "testing.hpp"

namespace tarn::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct RegistryServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::mutex mu;
  std::map<std::string, std::vector<uint8_t>> bodies;
  std::atomic<size_t> count{0};
  std::atomic<bool> stop{false};
  std::thread thread;
  std::vector<std::thread> conns;

  void serve(tcp::socket sock) {
    boost::beast::flat_buffer buf;
    boost::system::error_code ec;
    for (;;) {
      http::request<http::empty_body> req;
      http::read(sock, buf, req, ec);
      if (ec) return;
      ++count;
      http::response<http::vector_body<uint8_t>> res;
      res.version(11);
      res.keep_alive(req.keep_alive());
      {
        std::lock_guard lk(mu);
        auto it = bodies.find(std::string(req.target()));
        if (it == bodies.end()) {
          res.result(http::status::not_found);
        } else {
          res.result(http::status::ok);
          res.body() = it->second;
        }
      }
      res.prepare_payload();
      http::write(sock, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }
};

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
  // Every client (a tarn process) has exited, so each connection thread has seen EOF.
  for (auto& t : impl_->conns) t.join();
}

void RegistryServer::put(const std::string& path, std::vector<uint8_t> body) {
  std::lock_guard lk(impl_->mu);
  impl_->bodies[path] = std::move(body);
}

std::string RegistryServer::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port()) + "/";
}

size_t RegistryServer::requests() const { return impl_->count; }

}  // namespace tarn::test
