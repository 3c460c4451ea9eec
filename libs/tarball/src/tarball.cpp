#include "tarn/tarball/tarball.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>
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

static Result<void> integrity_result(const unsigned char* md, unsigned len, const Integrity& expected,
                                     std::string_view what) {
  if (len == expected.digest().size() && std::memcmp(md, expected.digest().data(), len) == 0) return {};
  return Error::failed(Code::TarballIntegrity,
                       "failed to verify " + std::string(what) + ": expected " + expected.str() + ", got " +
                           std::string(expected.algo_name()) + "-" + Integrity::to_base64(md, len));
}

Result<void> verify_integrity(std::span<const uint8_t> data, const Integrity& expected, std::string_view what) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, md_for(expected.algo()), nullptr);
  return integrity_result(md, len, expected, what);
}

Integrity compute_sha512(std::span<const uint8_t> data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha512(), nullptr);
  auto r = Integrity::parse("sha512-" + Integrity::to_base64(md, len));
  return *r;
}

namespace {

// Inflated bytes handed to libarchive per read. 64 KiB to 4 MiB measured the same
// (typescript 5.9, 23.6 MB unpacked: 55-58 ms CPU); this keeps memory unnoticeable.
constexpr size_t kChunk = 256 << 10;
// npm pack pads the tar to 512-byte blocks and GNU tar to 10 KiB records, so more than this
// after the end-of-archive marker is a bomb, not padding.
constexpr uint64_t kMaxTrailing = 1 << 20;
// Per entry, what the inflated stream may carry besides file data (a header, a pax header,
// padding), so the stream cap follows the entry caps without cutting legit tarballs.
constexpr uint64_t kHeaderSlack = 2048;

uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
uint64_t sat_mul(uint64_t a, uint64_t b) { return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

Error extract_error(std::string_view what, const std::string& why) {
  return Error::failed(Code::TarballExtract, "failed to unpack " + std::string(what) + ": " + why);
}

Error too_large(std::string_view what, const std::string& why) {
  return Error::failed(Code::TarballTooLarge, "failed to unpack " + std::string(what) + ": " + why);
}

std::string quoted(std::string_view raw) {
  std::string q = printable(raw);
  q.insert(q.begin(), '"');
  q.push_back('"');
  return q;
}

// A body already in memory, handed over in one piece.
class SpanSource final : public ByteSource {
 public:
  explicit SpanSource(std::span<const uint8_t> b) : body_(b) {}
  Result<std::span<const uint8_t>> next() override {
    if (given_) return std::span<const uint8_t>();
    given_ = true;
    return body_;
  }
  std::optional<std::span<const uint8_t>> whole() const override { return body_; }

 private:
  std::span<const uint8_t> body_;
  bool given_ = false;
};

// Where libarchive's tar reader gets its bytes: a plain tar or a small gzip inflated whole,
// handed over in one piece; or a gzip body inflated kChunk at a time as its pieces come
// from the source (a download in progress, or memory), the tar never whole. With an
// expected integrity, every body byte goes through the digest as it is pulled.
class TarSource {
 public:
  TarSource(ByteSource& in, const Integrity* expected, std::string_view what, const UnpackLimits& lim)
      : in_(in),
        what_(what),
        cap_(sat_add(sat_add(lim.max_unpacked, sat_mul(kHeaderSlack, lim.max_entries)), kMaxTrailing)) {
    if (expected) {
      expected_ = expected;
      md_.reset(EVP_MD_CTX_new());
      if (md_) EVP_DigestInit_ex(md_.get(), md_for(expected->algo()), nullptr);
    }
  }
  ~TarSource() {
    if (streaming_) inflateEnd(&zs_);
  }
  TarSource(const TarSource&) = delete;
  TarSource& operator=(const TarSource&) = delete;

  Result<void> open(uint64_t whole_buffer_max);
  la_ssize_t read(struct archive* a, const void** out);
  Result<void> finish();
  // Pulls the rest of the body, then compares its digest with the expected integrity.
  Result<void> verify();
  std::string_view head() const { return head_; }
  bool gzip() const { return gzip_; }
  std::optional<Error> error;  // why read() failed, if it did

 private:
  Result<bool> pull();
  bool try_whole(std::span<const uint8_t> body, uint64_t max);
  Result<size_t> inflate_some();
  Result<bool> next_is_member();
  la_ssize_t fail(struct archive* a, Error e);

  struct FreeMd {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  ByteSource& in_;
  std::string_view what_;
  uint64_t cap_;
  const Integrity* expected_ = nullptr;
  std::unique_ptr<EVP_MD_CTX, FreeMd> md_;
  std::span<const uint8_t> chunk_;  // the source's current piece, not yet consumed
  std::string head_;                // the body's first bytes, for error messages
  std::vector<uint8_t> carry_;      // the first pieces, when the first was under 2 bytes
  std::vector<uint8_t> buf_;        // the whole tar (small bodies) or one chunk (streaming)
  std::span<const uint8_t> whole_;
  bool given_ = false, streaming_ = false, raw_ = false, ended_ = false, in_ended_ = false, gzip_ = false;
  uint64_t total_ = 0;
  z_stream zs_{};
};

// The source's next piece into chunk_ (through the digest); false at the body's end.
Result<bool> TarSource::pull() {
  if (in_ended_) return false;
  auto next = in_.next();
  if (!next) return next.error();
  chunk_ = *next;
  if (chunk_.empty()) {
    in_ended_ = true;
    return false;
  }
  if (md_) EVP_DigestUpdate(md_.get(), chunk_.data(), chunk_.size());
  if (head_.size() < 60)
    head_.append(reinterpret_cast<const char*>(chunk_.data()), std::min(chunk_.size(), 60 - head_.size()));
  return true;
}

Result<void> TarSource::open(uint64_t whole_buffer_max) {
  if (auto first = pull(); !first) return first.error();
  // Two bytes tell gzip from tar; a network read may bring fewer.
  if (chunk_.size() < 2 && !in_ended_) {
    carry_.assign(chunk_.begin(), chunk_.end());
    while (carry_.size() < 2) {
      auto more = pull();
      if (!more) return more.error();
      if (!*more) break;
      carry_.insert(carry_.end(), chunk_.begin(), chunk_.end());
    }
    chunk_ = carry_;
  }
  if (head_.empty()) return extract_error(what_, "the response body is empty");
  gzip_ = head_.size() >= 2 && uint8_t(head_[0]) == 0x1f && uint8_t(head_[1]) == 0x8b;
  auto whole = in_.whole();
  if (!gzip_) {
    if (whole) whole_ = *whole;
    else raw_ = true;
    return {};
  }
  if (whole && try_whole(*whole, whole_buffer_max)) return {};
  if (inflateInit2(&zs_, 15 + 16) != Z_OK) return extract_error(what_, "zlib cannot start");
  streaming_ = true;
  zs_.next_in = const_cast<Bytef*>(chunk_.data());
  zs_.avail_in = static_cast<uInt>(std::min<size_t>(chunk_.size(), UINT_MAX));
  buf_.resize(kChunk);
  return {};
}

// libdeflate inflates a whole buffer ~2x faster than zlib streams (typescript 5.9 with the
// blob writes: 27 vs 56 ms CPU; react-dom 18: 6 vs 12.5 ms; bench in test/tarball) but
// needs the output size up front. The gzip trailer's ISIZE gives it (mod 2^32) and may lie,
// so it is believed only up to `max` and 64x the body (npm tarballs measure 3-9x), and any
// mismatch streams instead: memory stays bounded whatever the trailer says.
bool TarSource::try_whole(std::span<const uint8_t> body, uint64_t max) {
  size_t n = body.size();
  if (n < 18) return false;
  // FHCRC: libdeflate skips the header's CRC16 where zlib (so Node, so pnpm) checks it; let
  // zlib read such a body so a bad header fails whatever the body's size.
  if (body[3] & 0x02) return false;
  uint64_t isize = body[n - 4] | (body[n - 3] << 8) | (body[n - 2] << 16) | (uint64_t{body[n - 1]} << 24);
  if (isize == 0 || isize > max || isize > 64 * uint64_t{n} || isize > cap_) return false;
  // One decompressor per thread, freed when the thread ends (threads come and go in tests
  // and in a caller's own pools; a raw pointer leaked one per thread).
  struct Free {
    void operator()(libdeflate_decompressor* p) const { libdeflate_free_decompressor(p); }
  };
  thread_local std::unique_ptr<libdeflate_decompressor, Free> owned(libdeflate_alloc_decompressor());
  libdeflate_decompressor* d = owned.get();
  if (!d) return false;
  buf_.resize(isize);
  size_t in_used = 0, out_len = 0;
  auto rc = libdeflate_gzip_decompress_ex(d, body.data(), n, buf_.data(), buf_.size(), &in_used, &out_len);
  if (rc != LIBDEFLATE_SUCCESS || in_used != n || out_len != isize) {
    std::vector<uint8_t>().swap(buf_);
    return false;
  }
  whole_ = buf_;
  return true;
}

la_ssize_t TarSource::fail(struct archive* a, Error e) {
  error = std::move(e);
  archive_set_error(a, EIO, "%s", error->message.c_str());
  return -1;
}

la_ssize_t TarSource::read(struct archive* a, const void** out) {
  if (raw_) {  // a plain tar, piece by piece as it arrives
    if (chunk_.empty()) {
      auto more = pull();
      if (!more) return fail(a, more.error());
      if (!*more) return 0;
    }
    if ((total_ += chunk_.size()) > cap_)
      return fail(a, too_large(what_, "it is more than " + std::to_string(cap_) + " bytes"));
    *out = chunk_.data();
    return static_cast<la_ssize_t>(std::exchange(chunk_, {}).size());
  }
  if (!streaming_) {
    if (given_) return 0;
    given_ = true;
    *out = whole_.data();
    return static_cast<la_ssize_t>(whole_.size());
  }
  auto n = inflate_some();
  if (!n) return fail(a, n.error());
  *out = buf_.data();
  return static_cast<la_ssize_t>(*n);
}

// Node's gunzip (so pnpm) reads on into a following gzip member and ignores trailing bytes
// that do not start one.
Result<bool> TarSource::next_is_member() {
  if (zs_.avail_in > 0) return zs_.next_in[0] == 0x1f;
  auto more = pull();
  if (!more) return more.error();
  zs_.next_in = const_cast<Bytef*>(chunk_.data());
  zs_.avail_in = static_cast<uInt>(chunk_.size());
  return *more && chunk_[0] == 0x1f;
}

// Fills buf_ with the next inflated bytes; 0 at the end of the gzip stream.
Result<size_t> TarSource::inflate_some() {
  zs_.next_out = buf_.data();
  zs_.avail_out = static_cast<uInt>(buf_.size());
  while (zs_.avail_out > 0 && !ended_) {
    if (zs_.avail_in == 0 && !in_ended_) {
      auto more = pull();
      if (!more) return more.error();
      // Source pieces are network reads or a body under the 1 GiB cap: they fit a uInt.
      zs_.next_in = const_cast<Bytef*>(chunk_.data());
      zs_.avail_in = static_cast<uInt>(std::min<size_t>(chunk_.size(), UINT_MAX));
    }
    int rc = inflate(&zs_, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      auto member = next_is_member();
      if (!member) return member.error();
      if (*member) inflateReset(&zs_);
      else ended_ = true;
    } else if (rc == Z_BUF_ERROR && zs_.avail_in == 0 && in_ended_) {
      return extract_error(what_, "the gzip data ends too early (a truncated download?)");
    } else if (rc != Z_OK) {
      return extract_error(what_, std::string("the gzip data is corrupt: ") + (zs_.msg ? zs_.msg : "inflate failed"));
    }
  }
  size_t produced = buf_.size() - zs_.avail_out;
  total_ += produced;
  if (total_ > cap_)
    return too_large(what_, "it inflates to more than " + std::to_string(cap_) + " bytes (a gzip bomb?)");
  return produced;
}

// After the end-of-archive marker: inflate the rest, so a corrupt or missing gzip trailer
// (CRC, ISIZE) still fails, and cap what follows the marker.
Result<void> TarSource::finish() {
  if (!streaming_) return {};
  uint64_t after = 0;
  for (;;) {
    auto n = inflate_some();
    if (!n) return n.error();
    if (*n == 0) return {};
    after += *n;
    if (after > kMaxTrailing)
      return too_large(what_, "more than " + std::to_string(kMaxTrailing) +
                                  " bytes follow the end of the tar archive (a gzip bomb?)");
  }
}

Result<void> TarSource::verify() {
  for (;;) {
    auto more = pull();
    if (!more) return more.error();
    if (!*more) break;
  }
  if (!expected_) return {};
  if (!md_) return Error::failed(Code::TarballIntegrity, "failed to verify " + std::string(what_) + ": no digest");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md_.get(), md, &len);
  return integrity_result(md, len, *expected_, what_);
}

la_ssize_t read_cb(struct archive* a, void* src, const void** out) { return static_cast<TarSource*>(src)->read(a, out); }

// Why libarchive stopped: our inflater's error if it raised one, else libarchive's, made
// readable for the commonest case, an HTML page or JSON error served instead of a tarball.
Error archive_failure(struct archive* a, const TarSource& src, std::string_view what, bool before_first_entry) {
  if (src.error) return *src.error;
  if (before_first_entry && !src.gzip())
    return extract_error(what, "the body is neither gzip nor tar; it starts with " + quoted(src.head()));
  const char* why = archive_error_string(a);
  return extract_error(what, why ? printable(why) : "corrupt tar data");
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

int pwrite_all(int fd, const void* data, size_t n, off_t off) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += w;
    off += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int close() {
    int rc = ::close(fd);
    fd = -1;
    return rc == 0 ? 0 : errno;
  }
};

// Walks the tar headers, checking each against the caps and the package folder before
// reading its data, and streams regular files to numbered blobs.
class Extractor {
 public:
  Extractor(struct archive* a, TarSource& src, int dest, std::string_view what, const UnpackLimits& lim)
      : a_(a), src_(src), dest_(dest), what_(what), lim_(lim) {}
  Result<PackageIndex> run();

 private:
  Result<void> entry(struct archive_entry* ent);
  Result<void> check_size(struct archive_entry* ent, std::string_view raw);
  Result<void> check_link(struct archive_entry* ent, std::string_view raw);
  Result<void> store_file(struct archive_entry* ent, std::string_view raw);
  Result<void> write_blob(const std::string& blob, uint64_t size, bool exec, bool fresh, std::string_view raw,
                          std::optional<uint32_t>& crc);

  struct archive* a_;
  TarSource& src_;
  int dest_;
  std::string_view what_;
  const UnpackLimits& lim_;
  PackageIndex idx_;
  std::unordered_set<std::string> dirs_;
  std::unordered_map<std::string, size_t> files_;  // path -> file ordinal
  std::vector<size_t> entry_of_file_;              // file ordinal -> position in idx_.entries
  std::string path_;
  uint64_t entries_ = 0, unpacked_ = 0;
};

Result<PackageIndex> Extractor::run() {
  struct archive_entry* ent;
  int rc;
  while ((rc = archive_read_next_header(a_, &ent)) == ARCHIVE_OK || rc == ARCHIVE_WARN)
    if (auto r = entry(ent); !r) return r.error();
  if (rc != ARCHIVE_EOF) return archive_failure(a_, src_, what_, entries_ == 0);
  if (auto r = src_.finish(); !r) return r.error();
  return std::move(idx_);
}

Result<void> Extractor::entry(struct archive_entry* ent) {
  const char* raw_c = archive_entry_pathname(ent);
  std::string_view raw = raw_c ? raw_c : "";
  if (++entries_ > lim_.max_entries)
    return too_large(what_, "it has more than " + std::to_string(lim_.max_entries) + " entries");
  if (auto r = check_size(ent, raw); !r) return r;
  bool escapes = false;
  bool usable = clean_path(raw, path_, escapes);
  if (escapes) return extract_error(what_, "entry " + quoted(raw) + " leaves the package folder");
  auto type = archive_entry_filetype(ent);
  if (type == AE_IFLNK || archive_entry_hardlink(ent)) return check_link(ent, raw);
  if (type != AE_IFREG || !usable) return {};
  return store_file(ent, raw);
}

// Declared sizes are checked before any data is read, so an 8 GB header costs nothing.
// Every entry counts, stored or not: libarchive reads through the data of skipped ones too.
Result<void> Extractor::check_size(struct archive_entry* ent, std::string_view raw) {
  la_int64_t declared = archive_entry_size_is_set(ent) ? archive_entry_size(ent) : 0;
  uint64_t size = declared < 0 ? 0 : static_cast<uint64_t>(declared);
  if (size > lim_.max_entry)
    return too_large(what_, "entry " + quoted(raw) + " declares " + std::to_string(size) + " bytes, over the cap of " +
                                std::to_string(lim_.max_entry));
  if (size > lim_.max_unpacked - std::min(unpacked_, lim_.max_unpacked))
    return too_large(what_, "its entries add up to more than " + std::to_string(lim_.max_unpacked) + " bytes");
  unpacked_ += size;
  return {};
}

// pnpm stores regular files only, so links are dropped; one pointing outside the package
// is still refused, as a sign of a hostile tarball.
Result<void> Extractor::check_link(struct archive_entry* ent, std::string_view raw) {
  const char* t = archive_entry_symlink(ent);
  bool symlink = archive_entry_filetype(ent) == AE_IFLNK && t;
  if (!t) t = archive_entry_hardlink(ent);
  std::string tpath = t ? t : "";
  bool inside;
  if (symlink) {
    inside = link_stays_inside(path_, tpath);
  } else {
    std::string cp;
    bool esc = false;
    clean_path(tpath, cp, esc);
    inside = !esc;
  }
  if (!inside) return extract_error(what_, "link " + quoted(raw) + " points outside the package folder");
  return {};
}

Result<void> Extractor::store_file(struct archive_entry* ent, std::string_view raw) {
  // Parent directories go to the index only (the store keeps files flat), each once,
  // shortest first, so an import can create them in order.
  for (size_t i = path_.find('/'); i != std::string::npos; i = path_.find('/', i + 1)) {
    std::string d = path_.substr(0, i);
    if (files_.count(d)) return extract_error(what_, "entry " + quoted(d) + " is both a file and a directory");
    if (dirs_.insert(d).second) idx_.entries.push_back({d, true, false});
  }
  if (dirs_.count(path_)) return extract_error(what_, "entry " + quoted(raw) + " is both a file and a directory");
  bool exec = (archive_entry_perm(ent) & 0111) != 0;
  auto [it, fresh] = files_.emplace(path_, entry_of_file_.size());
  if (fresh) {
    entry_of_file_.push_back(idx_.entries.size());
    idx_.entries.push_back({path_, false, exec});
  } else {
    idx_.entries[entry_of_file_[it->second]].exec = exec;  // a repeated entry: the last one wins, as with tar
  }
  la_int64_t size = archive_entry_size(ent);
  PackageIndex::Entry& e = idx_.entries[entry_of_file_[it->second]];
  e.size = size < 0 ? 0 : static_cast<uint64_t>(size);
  e.as_written = true;
  return write_blob(PackageIndex::blob_name(it->second), e.size, exec, fresh, raw, e.crc);
}

// CRC-32 over `n` zero bytes (a sparse entry's holes read back as zeros).
uint32_t crc_zeros(uint32_t crc, uint64_t n) {
  static const unsigned char zeros[4096] = {};
  for (; n; n -= std::min<uint64_t>(n, sizeof zeros))
    crc = static_cast<uint32_t>(libdeflate_crc32(crc, zeros, static_cast<size_t>(std::min<uint64_t>(n, sizeof zeros))));
  return crc;
}

// The entry's data blocks point into the inflated chunk; each goes straight to the blob,
// and through the CRC-32 that `tarn store status` compares node_modules against (blocks
// come in order; one that does not leaves the CRC for Store::commit to read back).
Result<void> Extractor::write_blob(const std::string& blob, uint64_t size, bool exec, bool fresh,
                                   std::string_view raw, std::optional<uint32_t>& crc) {
  mode_t mode = exec ? 0755 : 0644;
  // A write that fails is the disk's fault (ENOSPC, EIO, EROFS), not the tarball's.
  auto write_error = [&](int e) {
    return Error::failed(Code::StoreWrite, "failed to write " + printable(path_) + " of " + std::string(what_) +
                                               " into the store: " + fs::errno_text(e));
  };
  Fd f{::openat(dest_, blob.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)};
  if (f.fd < 0) return write_error(errno);
  const void* p;
  size_t len;
  la_int64_t off;
  uint64_t end = 0;
  uint32_t sum = 0;
  bool in_order = true;
  int rc;
  while ((rc = archive_read_data_block(a_, &p, &len, &off)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
    if (off < 0 || static_cast<uint64_t>(off) + len > size)
      return extract_error(what_, "entry " + quoted(raw) + " has more data than its header declares");
    if (int e = pwrite_all(f.fd, p, len, off)) return write_error(e);
    in_order = in_order && static_cast<uint64_t>(off) >= end;
    if (in_order) sum = static_cast<uint32_t>(libdeflate_crc32(crc_zeros(sum, static_cast<uint64_t>(off) - end), p, len));
    end = std::max<uint64_t>(end, static_cast<uint64_t>(off) + len);
  }
  if (rc != ARCHIVE_EOF) return archive_failure(a_, src_, what_, false);
  crc = in_order ? std::optional<uint32_t>(crc_zeros(sum, size - end)) : std::nullopt;
  // A sparse entry may end in a hole. O_CREAT's mode went through the umask, and a blob
  // that existed (a repeated entry) kept its old mode: both are set right here.
  if (end < size && ::ftruncate(f.fd, static_cast<off_t>(size)) != 0) return write_error(errno);
  if ((!fresh || !fs::umask_keeps(mode)) && ::fchmod(f.fd, mode) != 0) return write_error(errno);
  if (int e = f.close()) return write_error(e);
  return {};
}

}  // namespace

namespace {

Result<PackageIndex> extract_from(TarSource& src, int dest, std::string_view what, const UnpackLimits& limits) {
  if (auto r = src.open(limits.whole_buffer_max); !r) return r.error();
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open(a.get(), &src, nullptr, read_cb, nullptr) != ARCHIVE_OK)
    return archive_failure(a.get(), src, what, true);
  return Extractor(a.get(), src, dest, what, limits).run();
}

}  // namespace

Result<PackageIndex> extract_tar(std::span<const uint8_t> body, int dest, std::string_view what,
                                 const UnpackLimits& limits) {
  SpanSource in(body);
  TarSource src(in, nullptr, what, limits);
  return extract_from(src, dest, what, limits);
}

Result<PackageIndex> unpack_tarball(std::span<const uint8_t> tgz, const Integrity* expected, int dest,
                                    std::string_view what, const UnpackLimits& limits) {
  if (expected) {
    auto v = verify_integrity(tgz, *expected, what);
    if (!v) return v.error();
  }
  return extract_tar(tgz, dest, what, limits);
}

// A body that is not the one the lockfile names is reported as such, whatever unpacking
// it did first (the in-memory path verifies before it unpacks); a cut-off download as
// the source's error. Either way the staging directory is the caller's to discard.
Result<PackageIndex> unpack_tarball_stream(ByteSource& in, const Integrity* expected, int dest, std::string_view what,
                                           const UnpackLimits& limits) {
  TarSource src(in, expected, what, limits);
  auto index = extract_from(src, dest, what, limits);
  if (auto v = src.verify(); !v) return v.error();
  return index;
}

}  // namespace tarn
