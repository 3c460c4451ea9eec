// libFuzzer harness for tarn::unpack_tarball (gzip/tar inflate and extract into a directory)
// with small caps. Each input is unpacked three times into one per-process temp directory
// (no O_TMPFILE, emptied by a dirfd walk before each run): once allowing the one-buffer
// libdeflate path, once always streaming through zlib, and once handed over in pieces as a
// download is (unpack_tarball_stream). None may crash, leak or write outside the
// directory; all must agree (same error code, or the same index and blob sizes); a
// returned index has only clean relative paths, directories first.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

#include "tarn/tarball/tarball.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Removes everything under `dirfd` (the extractor writes flat blobs; subdirectories are
// handled anyway so a regression cannot make the walk leave files behind).
void clear_dir(int dirfd) {
  int fd = ::dup(dirfd);
  check(fd >= 0);
  DIR* d = ::fdopendir(fd);
  check(d != nullptr);
  // The dup shares dirfd's offset, which the previous walk left at the end.
  ::rewinddir(d);
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (::unlinkat(dirfd, e->d_name, 0) == 0) continue;
    int sub = ::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    check(sub >= 0);
    clear_dir(sub);
    ::close(sub);
    check(::unlinkat(dirfd, e->d_name, AT_REMOVEDIR) == 0);
  }
  ::closedir(d);  // closes the dup, not dirfd
}

// Relative, '/'-separated, no empty, "." or ".." segment.
bool clean_relative(std::string_view p) {
  if (p.empty() || p[0] == '/') return false;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view seg = p.substr(i, j - i);
    if (seg.empty() || seg == "." || seg == "..") return false;
    i = j + 1;
  }
  return true;
}

struct TempDir {
  std::string path;
  int fd = -1;
  TempDir() {
    const char* base = std::getenv("TARN_FUZZ_TMP");
    if (!base || !*base) base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path = std::string(base) + "/tarn-fuzz-tarball-XXXXXX";
    check(::mkdtemp(path.data()) != nullptr);
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    check(fd >= 0);
  }
  ~TempDir() {
    clear_dir(fd);
    ::close(fd);
    ::rmdir(path.c_str());
  }
};

TempDir& temp() {
  static TempDir t;
  return t;
}

// A body in pieces of `piece` bytes, as network reads bring it.
class Pieces final : public tarn::ByteSource {
 public:
  Pieces(std::span<const uint8_t> b, size_t piece) : body_(b), piece_(piece) {}
  tarn::Result<std::span<const uint8_t>> next() override {
    size_t n = std::min(piece_, body_.size() - at_);
    auto s = body_.subspan(at_, n);
    at_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> body_;
  size_t piece_, at_ = 0;
};

// What one run produced: the error code, or the index and every blob's size. `piece`:
// streamed in pieces of that size; 0: from memory.
std::string outcome(std::span<const uint8_t> body, uint64_t whole_buffer_max, size_t piece = 0) {
  TempDir& t = temp();
  clear_dir(t.fd);
  tarn::UnpackLimits lim;
  lim.max_unpacked = 4 << 20;
  lim.max_entry = 1 << 20;
  lim.max_entries = 256;
  lim.whole_buffer_max = whole_buffer_max;
  Pieces pieces(body, piece);
  auto idx = piece ? tarn::unpack_tarball_stream(pieces, nullptr, t.fd, "fuzz", lim)
                   : tarn::unpack_tarball(body, nullptr, t.fd, "fuzz", lim);
  if (!idx) {
    check(idx.error().message.find("fuzz") != std::string::npos);
    return "error " + std::string(tarn::info(idx.error().code).name);
  }
  std::unordered_set<std::string> dirs;
  size_t file = 0;
  std::string out = idx->serialize();
  // The store writes this index next to the blobs and reads it back on every import.
  auto again = tarn::PackageIndex::parse(out);
  check(again && again->serialize() == out);
  for (auto& e : idx->entries) {
    check(clean_relative(e.path));
    if (auto slash = e.path.rfind('/'); slash != std::string::npos) check(dirs.count(e.path.substr(0, slash)) == 1);
    if (e.dir) {
      dirs.insert(e.path);
      continue;
    }
    struct stat st;
    check(::fstatat(t.fd, tarn::PackageIndex::blob_name(file++).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0);
    check(S_ISREG(st.st_mode));
    out += "\n" + std::to_string(st.st_size);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> body(data, size);
  std::string whole = outcome(body, 1 << 20);
  std::string streamed = outcome(body, 0);
  if (whole != streamed) std::fprintf(stderr, "one buffer:\n%s\nstreamed:\n%s\n", whole.c_str(), streamed.c_str());
  check(whole == streamed);
  std::string pieces = outcome(body, 0, 1 + size % 509);
  if (whole != pieces) std::fprintf(stderr, "one buffer:\n%s\nin pieces:\n%s\n", whole.c_str(), pieces.c_str());
  check(whole == pieces);
  return 0;
}
