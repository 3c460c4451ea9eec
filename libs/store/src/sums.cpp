// The sums file beside each package's index (store.hpp, kSumsFile), and file CRCs.
#include <fcntl.h>
#include <libdeflate.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "tarn/store/store.hpp"

namespace tarn {

namespace {

constexpr std::string_view kSumsHeader = "tarn-sums 1\n";

}  // namespace

std::string serialize_sums(const std::vector<uint32_t>& crcs) {
  std::string out(kSumsHeader);
  out.reserve(kSumsHeader.size() + crcs.size() * 9);
  static const char* hex = "0123456789abcdef";
  for (uint32_t c : crcs) {
    for (int shift = 28; shift >= 0; shift -= 4) out += hex[(c >> shift) & 15];
    out += '\n';
  }
  return out;
}

std::optional<std::vector<uint32_t>> read_sums(int package_dir_fd, size_t files) {
  auto text = fs::read_file_at(package_dir_fd, kSumsFile);
  if (!text || text->size() != kSumsHeader.size() + files * 9 || !text->starts_with(kSumsHeader)) return std::nullopt;
  std::vector<uint32_t> out(files);
  const char* p = text->data() + kSumsHeader.size();
  for (size_t i = 0; i < files; ++i, p += 9) {
    auto [end, ec] = std::from_chars(p, p + 8, out[i], 16);
    if (ec != std::errc() || end != p + 8 || p[8] != '\n') return std::nullopt;
  }
  return out;
}

Result<FileCrc> crc32_file(int dir_fd, const std::string& path) {
  int fd = ::openat(dir_fd, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::failed(Code::Io, fs::errno_text(errno));
  FileCrc out;
  static thread_local std::vector<unsigned char> buf(256 << 10);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return Error::failed(Code::Io, fs::errno_text(e));
    }
    if (n == 0) break;
    out.crc = static_cast<uint32_t>(libdeflate_crc32(out.crc, buf.data(), static_cast<size_t>(n)));
    out.size += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return out;
}

}  // namespace tarn
