#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tarn/core/types.hpp"
#include "registry_case.hpp"
#include "testing.hpp"

namespace tarn::test {

namespace {

// The tar stream (pax restricted: plain ustar headers unless a name needs more). Every
// header field not set from `entries` is fixed: mtime 0, uid/gid 0, no user or group name.
std::vector<uint8_t> make_tar(const std::vector<TarEntry>& entries) {
  // Room for every file, a pax header and padding per entry, and the closing records.
  size_t room = size_t{1} << 20;
  for (auto& e : entries) room += e.content.size() + 4096;
  std::vector<uint8_t> tar(room);
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_memory(a, tar.data(), tar.size(), &used);
  for (auto& e : entries) {
    struct archive_entry* ent = archive_entry_new();
    archive_entry_set_pathname(ent, e.path.c_str());
    archive_entry_set_perm(ent, e.mode);
    archive_entry_set_mtime(ent, 0, 0);
    if (e.type == 'f') {
      archive_entry_set_filetype(ent, AE_IFREG);
      archive_entry_set_size(ent, static_cast<la_int64_t>(e.content.size()));
    } else if (e.type == 'd') {
      archive_entry_set_filetype(ent, AE_IFDIR);
    } else if (e.type == 'l') {
      archive_entry_set_filetype(ent, AE_IFLNK);
      archive_entry_set_symlink(ent, e.content.c_str());
    } else {
      archive_entry_set_filetype(ent, AE_IFREG);
      archive_entry_set_hardlink(ent, e.content.c_str());
    }
    archive_write_header(a, ent);
    if (e.type == 'f') archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(ent);
  }
  archive_write_close(a);
  archive_write_free(a);
  tar.resize(used);
  return tar;
}

void put_le(std::vector<uint8_t>& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

std::vector<uint8_t> make_tgz(const std::vector<TarEntry>& entries) {
  std::vector<uint8_t> tar = make_tar(entries);
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::vector<uint8_t> out(deflateBound(&zs, tar.size()) + 64);
  zs.next_in = tar.data();
  zs.avail_in = static_cast<uInt>(tar.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::vector<uint8_t> make_reproducible_tgz(const std::vector<TarEntry>& entries) {
  std::vector<uint8_t> tar = make_tar(entries);
  // RFC 1952 header: deflate, no flags, mtime 0, no extra flags, OS 3 (Unix).
  std::vector<uint8_t> out{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  size_t pos = 0;
  do {  // RFC 1951 stored blocks of at most 65535 bytes; an empty input is one empty block
    uint32_t n = static_cast<uint32_t>(std::min<size_t>(tar.size() - pos, 65535));
    out.push_back(pos + n == tar.size() ? 1 : 0);  // BFINAL, BTYPE 00, padding to the byte
    put_le(out, n, 2);
    put_le(out, ~n & 0xffff, 2);
    out.insert(out.end(), tar.begin() + static_cast<std::ptrdiff_t>(pos),
               tar.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
  } while (pos < tar.size());
  put_le(out, static_cast<uint32_t>(crc32(0L, tar.data(), static_cast<uInt>(tar.size()))), 4);
  put_le(out, static_cast<uint32_t>(tar.size()), 4);
  return out;
}

std::string sri_sha512(const std::vector<uint8_t>& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha512(), nullptr);
  return "sha512-" + Integrity::to_base64(md, len);
}

std::string sha1_hex(const std::vector<uint8_t>& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += {hex[md[i] >> 4], hex[md[i] & 15]};
  return out;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/tarn-test-XXXXXX";
  path_ = ::mkdtemp(tmpl);
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> layout_listing(const std::string& root) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  fs::path nm = fs::path(root) / "node_modules";
  if (!fs::exists(nm)) return out;
  out.push_back("d node_modules");
  for (auto it = fs::recursive_directory_iterator(nm); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = it->path().lexically_relative(root).string();
    std::string name = it->path().filename().string();
    if (name == ".modules.yaml" || name == "lock.yaml" || name == ".pnpm-workspace-state-v1.json") continue;
    bool in_bin = rel.find("/.bin/") != std::string::npos;
    if (it->is_symlink()) {
      fs::path target = fs::path(it->path()).parent_path() / fs::read_symlink(it->path());
      out.push_back("l " + rel + " -> " + target.lexically_normal().lexically_relative(root).string());
      if (it->is_directory()) it.disable_recursion_pending();
    } else if (it->is_directory()) {
      out.push_back("d " + rel);
    } else {
      bool x = (fs::status(it->path()).permissions() & fs::perms::owner_exec) != fs::perms::none;
      out.push_back(std::string(in_bin ? "b " : "f ") + rel + (x ? " x" : " -"));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tarn::test
