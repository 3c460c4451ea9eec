#include "tarn/fs/fs.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <atomic>
#include <charconv>
#include <filesystem>
#include <optional>
#include <random>
#include <vector>

namespace tarn::fs {

Dir& Dir::operator=(Dir&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Dir::~Dir() {
  if (fd_ >= 0) ::close(fd_);
}

std::string errno_text(int err) { return std::strerror(err); }

Result<Dir> Dir::open(const std::string& path, int at) {
  int fd = ::openat(at, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return Error::not_found(Code::Io, "directory not found: " + path);
    return Error::failed(Code::Io, "failed to open directory " + path + ": " + errno_text(e));
  }
  return Dir(fd);
}

int mkdir_at(int dirfd, const char* rel, mode_t mode) {
  if (::mkdirat(dirfd, rel, mode) == 0) return 0;
  return errno == EEXIST ? 0 : errno;
}

int mkdirs_at(int dirfd, std::string_view rel) {
  std::string buf(rel);
  // Try the whole path first: in the common case the parent exists.
  if (::mkdirat(dirfd, buf.c_str(), 0777) == 0 || errno == EEXIST) return 0;
  if (errno != ENOENT) return errno;
  for (size_t i = 1; i < buf.size(); ++i) {
    if (buf[i] != '/') continue;
    buf[i] = '\0';
    if (::mkdirat(dirfd, buf.c_str(), 0777) != 0 && errno != EEXIST) return errno;
    buf[i] = '/';
  }
  if (::mkdirat(dirfd, buf.c_str(), 0777) != 0 && errno != EEXIST) return errno;
  return 0;
}

int link_at(int src_dirfd, const char* src, int dst_dirfd, const char* dst) {
  if (::linkat(src_dirfd, src, dst_dirfd, dst, 0) == 0) return 0;
  if (errno != EEXIST) return errno;
  // A file from an interrupted earlier run: replace it.
  if (::unlinkat(dst_dirfd, dst, 0) != 0 && errno != ENOENT) return errno;
  return ::linkat(src_dirfd, src, dst_dirfd, dst, 0) == 0 ? 0 : errno;
}

int symlink_at(const char* target, int dirfd, const char* rel) {
  if (::symlinkat(target, dirfd, rel) == 0) return 0;
  if (errno != EEXIST) return errno;
  char buf[4096];
  ssize_t n = ::readlinkat(dirfd, rel, buf, sizeof(buf) - 1);
  if (n >= 0) {
    buf[n] = '\0';
    if (std::strcmp(buf, target) == 0) return 0;
    if (::unlinkat(dirfd, rel, 0) != 0) return errno;
  } else {
    // A real directory or file: pnpm replaces stale entries it owns; we replace empty dirs only.
    if (::unlinkat(dirfd, rel, AT_REMOVEDIR) != 0 && ::unlinkat(dirfd, rel, 0) != 0) return errno;
  }
  return ::symlinkat(target, dirfd, rel) == 0 ? 0 : errno;
}

int write_file_at(int dirfd, const char* rel, const void* data, size_t n, mode_t mode) {
  int fd = ::openat(dirfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return errno;
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return e;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  // O_CREAT's mode is filtered by the umask; a file that existed keeps its old mode. Fix both.
  if (::fchmod(fd, mode) != 0) {
    int e = errno;
    ::close(fd);
    return e;
  }
  return ::close(fd) == 0 ? 0 : errno;
}

bool umask_keeps(mode_t mode) {
  static const std::optional<mode_t> mask = []() -> std::optional<mode_t> {
    auto text = read_file_at(AT_FDCWD, "/proc/self/status");
    if (!text) return std::nullopt;
    size_t at = text->find("\nUmask:\t");
    if (at == std::string::npos) return std::nullopt;
    unsigned long v = 0;
    const char* begin = text->data() + at + 8;
    auto [end, err] = std::from_chars(begin, text->data() + text->size(), v, 8);
    if (err != std::errc() || end == begin) return std::nullopt;
    return static_cast<mode_t>(v);
  }();
  return mask && (mode & *mask) == 0;
}

int add_exec_bits_at(int dirfd, const char* rel) {
  struct stat st;
  if (::fstatat(dirfd, rel, &st, 0) != 0) return errno;
  mode_t want = (st.st_mode & 07777) | 0111;
  if (want == (st.st_mode & 07777)) return 0;
  return ::fchmodat(dirfd, rel, want, 0) == 0 ? 0 : errno;
}

Result<std::string> read_file_at(int dirfd, const char* rel, std::string_view shown_as) {
  auto name = [&] { return shown_as.empty() ? std::string(rel) : std::string(shown_as); };
  int fd = ::openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return Error::not_found(Code::Io, name() + ": no such file");
    return Error::failed(Code::Io, "failed to read " + name() + ": " + errno_text(e));
  }
  std::string out;
  struct stat st;
  // Sized from fstat and read straight into the string: one read(2) for small files.
  size_t cap = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<size_t>(st.st_size) + 1 : 65536;
  out.resize(cap);
  size_t got = 0;
  for (;;) {
    if (got == out.size()) out.resize(out.size() * 2);
    ssize_t r = ::read(fd, out.data() + got, out.size() - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Error::failed(Code::Io, "failed to read " + name() + ": " + errno_text(e));
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

Result<std::string> read_file(const std::string& path) { return read_file_at(AT_FDCWD, path.c_str(), path); }

Result<void> write_file_atomic(const std::string& path, std::string_view content) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000);
  int e = write_file_at(AT_FDCWD, tmp.c_str(), content.data(), content.size(), 0644);
  if (e == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) e = errno;
  if (e != 0) {
    ::unlink(tmp.c_str());
    return Error::failed(Code::Io, "failed to write " + path + ": " + errno_text(e));
  }
  return {};
}

namespace {

// Opens ".<name>.<pid>.<n>.tmp" beside `path` with O_EXCL, never following or truncating a
// file someone left there; -1 (errno set) after 16 names are taken.
int open_sibling_temp(const std::string& path, std::string& tmp) {
  static std::atomic<uint64_t> counter{0};
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  for (int attempt = 0; attempt < 16; ++attempt) {
    tmp = dir + "." + name + "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

int write_all(int fd, std::string_view content) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t w = ::write(fd, content.data() + done, content.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<size_t>(w);
  }
  return 0;
}

}  // namespace

Result<void> write_file_synced(const std::string& path, std::string_view content) {
  std::string tmp;
  int fd = open_sibling_temp(path, tmp);
  if (fd < 0) return Error::failed(Code::Io, "failed to write " + path + ": " + errno_text(errno));
  int e = write_all(fd, content);
  if (e == 0 && ::fsync(fd) != 0) e = errno;
  struct stat st;
  if (e == 0 && ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::fchmod(fd, st.st_mode & 07777) != 0)
    e = errno;
  if (::close(fd) != 0 && e == 0) e = errno;
  if (e == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) e = errno;
  if (e != 0) {
    ::unlink(tmp.c_str());
    return Error::failed(Code::Io, "failed to write " + path + ": " + errno_text(e));
  }
  return {};
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<void> remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Error::failed(Code::Io, "failed to remove " + path + ": " + ec.message());
  return {};
}

Result<void> create_directories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Error::failed(Code::Io, "failed to create directory " + path + ": " + ec.message());
  return {};
}

std::string join(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  if (b.front() == '/') return std::string(b);
  std::string out(a);
  if (out.back() != '/') out += '/';
  out += b;
  return out;
}

std::string dirname(std::string_view p) {
  auto i = p.rfind('/');
  if (i == std::string_view::npos) return ".";
  if (i == 0) return "/";
  return std::string(p.substr(0, i));
}

std::string normalize(std::string_view p) {
  bool abs = !p.empty() && p.front() == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view seg = p.substr(i, j - i);
    if (seg.empty() || seg == ".") {
    } else if (seg == "..") {
      if (!parts.empty() && parts.back() != "..") parts.pop_back();
      else if (!abs) parts.push_back(seg);
    } else {
      parts.push_back(seg);
    }
    i = j + 1;
  }
  std::string out = abs ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += '/';
    out += parts[k];
  }
  if (out.empty()) out = ".";
  return out;
}

std::string absolute(const std::string& p) {
  if (!p.empty() && p.front() == '/') return normalize(p);
  char buf[4096];
  if (!::getcwd(buf, sizeof buf)) return normalize(p);
  return normalize(join(buf, p));
}

std::string relative(std::string_view from_dir, std::string_view to) {
  std::string f = normalize(from_dir), t = normalize(to);
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    size_t i = 0;
    while (i < s.size()) {
      size_t j = s.find('/', i);
      if (j == std::string::npos) j = s.size();
      if (j > i && !(j - i == 1 && s[i] == '.')) v.emplace_back(s.substr(i, j - i));
      i = j + 1;
    }
    return v;
  };
  auto fv = split(f), tv = split(t);
  size_t k = 0;
  while (k < fv.size() && k < tv.size() && fv[k] == tv[k]) ++k;
  std::string out;
  for (size_t i = k; i < fv.size(); ++i) out += out.empty() ? ".." : "/..";
  for (size_t i = k; i < tv.size(); ++i) {
    if (!out.empty()) out += '/';
    out += tv[i];
  }
  return out.empty() ? "." : out;
}

void spread_children(int dir_fd) {
  int flags = 0;
  if (::ioctl(dir_fd, FS_IOC_GETFLAGS, &flags) != 0 || (flags & FS_TOPDIR_FL)) return;
  flags |= FS_TOPDIR_FL;
  (void)::ioctl(dir_fd, FS_IOC_SETFLAGS, &flags);
}

}  // namespace tarn::fs
