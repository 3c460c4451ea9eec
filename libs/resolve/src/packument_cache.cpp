#include "packument_cache.hpp"

#include <boost/json.hpp>
#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>

#include <cctype>

#include "tarn/fs/fs.hpp"
#include "tarn/net/fetcher.hpp"

namespace tarn::resolve::detail {

namespace json = boost::json;

namespace {

constexpr std::string_view kMagic = "tarn-meta-v1 ";
// The header line holds two validators and a timestamp; anything longer is not ours.
constexpr size_t kMaxHeaderLine = 16 * 1024;

std::string sha256_hex(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) out += hex[md[i] >> 4], out += hex[md[i] & 15];
  return out;
}

// pnpm's encode_pkg_name: a mixed-case name gets its sha256 appended, so two names that
// differ in case cannot share a file on a case-insensitive filesystem.
std::string encode_name(const std::string& name) {
  bool upper = false;
  for (char c : name) upper = upper || std::isupper(static_cast<unsigned char>(c));
  return upper ? name + "_" + sha256_hex(name) : name;
}

std::optional<Validators> parse_header_line(std::string_view line) {
  if (!line.starts_with(kMagic)) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(line.substr(kMagic.size()), ec);
  if (ec || !v.is_object()) return std::nullopt;
  Validators out;
  auto get = [&](std::string_view k, std::string& to) {
    if (auto* s = v.get_object().if_contains(k); s && s->is_string()) to = std::string(s->get_string());
  };
  get("etag", out.etag);
  get("lastModified", out.last_modified);
  get("modified", out.modified);
  return out;
}

}  // namespace

std::string cache_path(const std::string& cache_dir, bool full, const std::string& registry, const PkgName& name) {
  auto url = net::parse_url(registry);
  if (cache_dir.empty() || !url || url->host.empty()) return "";
  bool default_port = (url->tls && url->port == "443") || (!url->tls && url->port == "80");
  std::string host = default_port ? url->host : url->host + "+" + url->port;
  std::string dir = fs::join(cache_dir, full ? "metadata-full-v1" : "metadata-v1");
  return fs::join(fs::join(dir, host), encode_name(name.str()) + ".json");
}

std::optional<Validators> read_validators(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string buf(kMaxHeaderLine, '\0');
  ssize_t n = ::pread(fd, buf.data(), buf.size(), 0);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  buf.resize(static_cast<size_t>(n));
  auto nl = buf.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  return parse_header_line(std::string_view(buf).substr(0, nl));
}

std::optional<CachedDoc> read_cached(const std::string& path) {
  auto text = fs::read_file(path);
  if (!text) return std::nullopt;
  auto nl = text->find('\n');
  if (nl == std::string::npos || nl > kMaxHeaderLine) return std::nullopt;
  auto v = parse_header_line(std::string_view(*text).substr(0, nl));
  if (!v) return std::nullopt;
  text->erase(0, nl + 1);
  return CachedDoc{std::move(*v), std::move(*text)};
}

Result<void> write_cached(const std::string& path, const Validators& v, std::string_view body) {
  if (auto r = fs::create_directories(fs::dirname(path)); !r) return r;
  json::object h{{"etag", v.etag}, {"lastModified", v.last_modified}, {"modified", v.modified}};
  std::string text = std::string(kMagic) + json::serialize(h) + "\n";
  text.append(body);
  return fs::write_file_atomic(path, text);
}

}  // namespace tarn::resolve::detail
