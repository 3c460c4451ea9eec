#include "tarn/tarball/tarball.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "tarn/fs/fs.hpp"

namespace tarn {

static const EVP_MD* md_for(Integrity::Algo a) {
  switch (a) {
    case Integrity::Algo::Sha1: return EVP_sha1();
    case Integrity::Algo::Sha256: return EVP_sha256();
    case Integrity::Algo::Sha384: return EVP_sha384();
    case Integrity::Algo::Sha512: return EVP_sha512();
  }
  return EVP_sha512();
}

Result<void> verify_integrity(std::span<const uint8_t> data, const Integrity& expected, std::string_view what) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, md_for(expected.algo()), nullptr);
  if (len == expected.digest().size() && std::memcmp(md, expected.digest().data(), len) == 0) return {};
  return Error::failed(Code::TarballIntegrity,
                       "failed to verify " + std::string(what) + ": expected " + expected.str() + ", got " +
                           std::string(expected.algo_name()) + "-" + Integrity::to_base64(md, len));
}

Integrity compute_sha512(std::span<const uint8_t> data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha512(), nullptr);
  auto r = Integrity::parse("sha512-" + Integrity::to_base64(md, len));
  return *r;
}

static Result<std::vector<uint8_t>> inflate_zlib(std::span<const uint8_t> gz, std::string_view what) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Error::failed(Code::TarballExtract, "zlib init failed");
  std::vector<uint8_t> out(gz.size() * 4 + 4096);
  zs.next_in = const_cast<Bytef*>(gz.data());
  zs.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (zs.total_out == out.size()) out.resize(out.size() * 2);
    zs.next_out = out.data() + zs.total_out;
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END && zs.avail_in > 0) {
      // Concatenated gzip members.
      size_t done = zs.total_out;
      inflateReset(&zs);
      zs.total_out = done;
      rc = Z_OK;
      continue;
    }
    if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) {
      inflateEnd(&zs);
      return Error::failed(Code::TarballExtract, "failed to unpack " + std::string(what) + ": corrupt gzip data");
    }
  }
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

Result<std::vector<uint8_t>> inflate_gzip(std::span<const uint8_t> gz, std::string_view what) {
  if (gz.size() < 18 || gz[0] != 0x1f || gz[1] != 0x8b) return std::vector<uint8_t>(gz.begin(), gz.end());
  // libdeflate inflates a whole buffer about twice as fast as zlib; it needs the output
  // size, which the gzip trailer records (mod 2^32). Fall back to zlib when that is off.
  size_t isize = gz[gz.size() - 4] | (gz[gz.size() - 3] << 8) | (gz[gz.size() - 2] << 16) |
                 (static_cast<size_t>(gz[gz.size() - 1]) << 24);
  thread_local libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  std::vector<uint8_t> out(isize);
  size_t in_used = 0, out_len = 0;
  auto rc = libdeflate_gzip_decompress_ex(d, gz.data(), gz.size(), out.data(), out.size(), &in_used, &out_len);
  if (rc == LIBDEFLATE_SUCCESS && in_used == gz.size() && out_len == isize) return out;
  return inflate_zlib(gz, what);
}

namespace {

Error extract_error(std::string_view what, const std::string& why) {
  return Error::failed(Code::TarballExtract, "failed to unpack " + std::string(what) + ": " + why);
}

// Drops the first component and rejects paths that would leave the package directory.
bool clean_path(std::string_view raw, std::string& out, bool& escapes) {
  escapes = false;
  out.clear();
  if (!raw.empty() && raw[0] == '/') {
    escapes = true;
    return false;
  }
  auto slash = raw.find('/');
  if (slash == std::string_view::npos) return false;  // a top-level entry, nothing under it
  std::string_view rest = raw.substr(slash + 1);
  if (raw.substr(0, slash) == "..") {
    escapes = true;
    return false;
  }
  size_t i = 0;
  while (i < rest.size()) {
    size_t j = rest.find('/', i);
    if (j == std::string_view::npos) j = rest.size();
    std::string_view seg = rest.substr(i, j - i);
    i = j + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      escapes = true;
      return false;
    }
    if (!out.empty()) out += '/';
    out.append(seg);
  }
  return !out.empty();
}

// Would a link at `entry` with `target` stay inside the package?
bool link_stays_inside(const std::string& entry, std::string_view target) {
  if (target.empty() || target[0] == '/') return false;
  int depth = 0;
  for (char c : entry) depth += c == '/';
  size_t i = 0;
  while (i < target.size()) {
    size_t j = target.find('/', i);
    if (j == std::string_view::npos) j = target.size();
    std::string_view seg = target.substr(i, j - i);
    i = j + 1;
    if (seg == "..") {
      if (--depth < 0) return false;
    } else if (!seg.empty() && seg != ".") {
      ++depth;
    }
  }
  return true;
}

}  // namespace

Result<PackageIndex> extract_tar(std::span<const uint8_t> tar, int dest, std::string_view what) {
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  if (archive_read_open_memory(a, tar.data(), tar.size()) != ARCHIVE_OK) {
    std::string why = archive_error_string(a) ? archive_error_string(a) : "not a tar archive";
    archive_read_free(a);
    return extract_error(what, why);
  }
  PackageIndex idx;
  std::unordered_set<std::string> dirs;
  std::unordered_map<std::string, size_t> files;  // path -> (file ordinal, entry position)
  std::vector<size_t> entry_of_file;
  std::string path;
  std::vector<char> buf;
  struct archive_entry* ent;
  int rc;
  auto fail = [&](const std::string& why) {
    archive_read_free(a);
    return extract_error(what, why);
  };
  while ((rc = archive_read_next_header(a, &ent)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
    const char* raw = archive_entry_pathname(ent);
    if (!raw) continue;
    bool escapes = false;
    bool usable = clean_path(raw, path, escapes);
    if (escapes) return fail("entry \"" + std::string(raw) + "\" leaves the package folder");
    auto type = archive_entry_filetype(ent);
    if (type == AE_IFLNK || archive_entry_hardlink(ent)) {
      const char* t = archive_entry_symlink(ent);
      if (!t) t = archive_entry_hardlink(ent);
      std::string tpath = t ? t : "";
      bool inside = type == AE_IFLNK ? link_stays_inside(path, tpath) : [&] {
        std::string cp;
        bool esc = false;
        clean_path(tpath, cp, esc);
        return !esc;
      }();
      if (!inside) return fail("link \"" + std::string(raw) + "\" points outside the package folder");
      continue;  // pnpm stores regular files only
    }
    if (type != AE_IFREG || !usable) continue;
    // Parent directories go to the index only (the store keeps files flat), each once,
    // shortest first, so an import can create them in order.
    for (size_t i = path.find('/'); i != std::string::npos; i = path.find('/', i + 1)) {
      std::string d = path.substr(0, i);
      if (files.count(d)) return fail("entry \"" + d + "\" is both a file and a directory");
      if (dirs.insert(d).second) idx.entries.push_back({d, true, false});
    }
    la_int64_t size = archive_entry_size(ent);
    if (size < 0) size = 0;
    buf.resize(static_cast<size_t>(size));
    size_t got = 0;
    while (got < buf.size()) {
      la_ssize_t r = archive_read_data(a, buf.data() + got, buf.size() - got);
      if (r < 0) return fail(archive_error_string(a) ? archive_error_string(a) : "read error");
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    if (got != buf.size()) return fail("entry \"" + std::string(raw) + "\" is truncated");
    bool exec = (archive_entry_perm(ent) & 0111) != 0;
    if (dirs.count(path)) return fail("entry \"" + std::string(raw) + "\" is both a file and a directory");
    auto [it, fresh] = files.emplace(path, entry_of_file.size());
    if (fresh) {
      entry_of_file.push_back(idx.entries.size());
      idx.entries.push_back({path, false, exec});
    } else {
      idx.entries[entry_of_file[it->second]].exec = exec;  // a repeated entry: the last one wins, as with tar
    }
    std::string blob = PackageIndex::blob_name(it->second);
    if (int e = fs::write_file_at(dest, blob.c_str(), buf.data(), buf.size(), exec ? 0755 : 0644); e != 0)
      return fail("cannot write " + path + ": " + fs::errno_text(e));
  }
  if (rc != ARCHIVE_EOF) {
    std::string why = archive_error_string(a) ? archive_error_string(a) : "corrupt tar data";
    archive_read_free(a);
    return extract_error(what, why);
  }
  archive_read_free(a);
  return idx;
}

Result<PackageIndex> unpack_tarball(std::span<const uint8_t> tgz, const Integrity* expected, int dest,
                                    std::string_view what) {
  if (expected) {
    auto v = verify_integrity(tgz, *expected, what);
    if (!v) return v.error();
  }
  auto tar = inflate_gzip(tgz, what);
  if (!tar) return tar.error();
  return extract_tar(*tar, dest, what);
}

}  // namespace tarn
