#pragma once
// Test helpers: build package tarballs in memory, serve them from a loopback registry,
// and list an installed tree the way ../shared/tools/nm-tree does.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tarn/core/error.hpp"

// Catch prints a Result as "ok" or its error, instead of requiring operator<< on every T.
namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, tarn::Error>> {
  static std::string convert(const boost::system::result<T, tarn::Error>& r) {
    return r ? std::string("ok") : "error: " + r.error().render();
  }
};
}  // namespace Catch

namespace tarn::test {

struct TarEntry {
  std::string path;      // full path inside the tarball, e.g. "package/index.js"
  std::string content;   // file content, or link target for links
  unsigned mode = 0644;
  char type = 'f';       // 'f' file, 'd' dir, 'l' symlink, 'h' hardlink
};

// Same bytes for the same entries on one machine: tar headers with mtime 0, uid/gid 0, no
// owner names; gzip level 6 (zlib's output may differ between zlib builds: registry cases
// use make_reproducible_tgz in registry_case.hpp).
std::vector<uint8_t> make_tgz(const std::vector<TarEntry>& entries);
std::string sri_sha512(const std::vector<uint8_t>& data);

// Certificates made at test time: a CA, and a leaf for 127.0.0.1 / localhost it signs.
struct TestPki {
  std::string ca_pem, leaf_pem, leaf_key_pem;
};
TestPki make_test_pki();

// A loopback HTTP proxy: CONNECT tunnels (to 127.0.0.1 ports only) and absolute-URI
// requests, which it forwards to the origin in origin form. It counts the connections
// made to it and records each request line ("CONNECT 127.0.0.1:443 HTTP/1.1").
class ProxyServer {
 public:
  ProxyServer();
  ~ProxyServer();
  // Answer 407 to any request whose Proxy-Authorization is not exactly `value`.
  void require_auth(std::string value);
  // Answer every CONNECT with this status (403: a proxy that forbids the host).
  void refuse_connect(unsigned status);
  // Read each request and never answer it: only the client's timeout ends the wait.
  void stall();
  std::string url() const;  // "http://127.0.0.1:<port>"
  size_t connections() const;
  std::vector<std::string> request_lines() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A minimal npm registry on 127.0.0.1 serving fixed bodies by path. Tests can program
// per-path faults and inspect the headers of every request it received.
class RegistryServer {
 public:
  struct Fault {
    enum Kind {
      Status,        // answer `status` (with Retry-After: `retry_after` when not empty)
      ResetMidBody,  // send the headers and half the body, then reset the connection
      Truncate,      // announce the full Content-Length, send half, then close
      Stall,         // send nothing until the client gives up
      Endless,       // a chunked body that never ends
      HugeLength,    // announce a Content-Length of 1 TB, then stall
      Redirect,      // 302 to `location`
      CloseAfter,    // serve normally, then close the keep-alive connection
      Slow,          // the body in pieces of `piece_bytes`, `piece_ms` apart (a slow link)
      Chunked,       // the body in chunks of `piece_bytes`, with no Content-Length
    } kind = Status;
    int times = -1;  // requests the fault applies to before the path serves normally; -1: all
    unsigned status = 500;
    std::string retry_after;
    std::string location;
    size_t piece_bytes = 256 << 10;
    unsigned piece_ms = 100;
  };
  struct Received {
    std::string target;
    std::map<std::string, std::string> headers;  // names lowercased
  };

  RegistryServer();
  // HTTPS with `pki`'s leaf certificate (url() is then https://).
  explicit RegistryServer(const TestPki& pki);
  ~RegistryServer();
  void put(const std::string& path, std::vector<uint8_t> body);
  // The path's responses carry this ETag, and a request whose If-None-Match names it gets
  // 304 Not Modified with no body (as the npm registry answers a revalidation).
  void set_etag(const std::string& path, std::string etag);
  void fault(const std::string& path, Fault f);
  // Every response (normal or faulted) waits this long before its first byte: a slower
  // registry, so that an install takes long enough to be interrupted at many points.
  void set_response_delay_ms(unsigned ms);
  // Answer 401 to every request whose Authorization header is not exactly `value` ("Bearer
  // <token>"): a private registry.
  void require_authorization(std::string value);
  std::string url() const;  // "http://127.0.0.1:<port>/"
  size_t requests() const;
  size_t requests(const std::string& path) const;
  std::vector<Received> received() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A fresh directory under /tmp, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

// Sorted lines like nm-tree: "d PATH", "l PATH -> TARGET", "f PATH x|-", "b PATH x|-".
std::vector<std::string> layout_listing(const std::string& project_dir);

}  // namespace tarn::test
