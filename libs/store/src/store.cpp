#include "tarn/store/store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <random>

namespace tarn {

// One line per entry: 'd' or 'f', then 'x' or '-', a tab, the path.
std::string PackageIndex::serialize() const {
  std::string out = "tarn-index 2\n";
  for (auto& e : entries) {
    out += e.dir ? 'd' : 'f';
    out += e.exec ? 'x' : '-';
    out += '\t';
    out += e.path;
    out += '\n';
  }
  return out;
}

Result<PackageIndex> PackageIndex::parse(std::string_view text) {
  static constexpr std::string_view header = "tarn-index 2\n";
  if (text.substr(0, header.size()) != header) return Error::failed(Code::StoreWrite, "store index has an unknown format");
  PackageIndex idx;
  size_t i = header.size();
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos || j < i + 3 || text[i + 2] != '\t')
      return Error::failed(Code::StoreWrite, "store index is truncated");
    PackageIndex::Entry e;
    e.dir = text[i] == 'd';
    e.exec = text[i + 1] == 'x';
    e.path = std::string(text.substr(i + 3, j - i - 3));
    idx.entries.push_back(std::move(e));
    i = j + 1;
  }
  return idx;
}

Store::Store(std::string root)
    : root_(std::move(root)), pkg_dir_(layout_dir(root_)), tmp_dir_(fs::join(pkg_dir_, "tmp")) {}

std::string Store::layout_dir(const std::string& root) { return fs::join(root, "v2"); }

bool Store::exists(const std::string& root) { return fs::is_dir(layout_dir(root)); }

Result<void> Store::open() {
  for (auto* d : {&pkg_dir_, &tmp_dir_}) {
    auto r = fs::create_directories(*d);
    if (!r) return Error::failed(Code::StoreDir, "failed to create the store at " + root_ + ": " + r.error().message);
  }
  auto fd = fs::Dir::open(pkg_dir_);
  if (!fd) return fd.error();
  pkg_fd_ = std::move(*fd);
  // The 256 fan-out directories, once, so commits never race to create them.
  static const char* d = "0123456789abcdef";
  char name[3] = {0, 0, 0};
  for (int a = 0; a < 16; ++a)
    for (int b = 0; b < 16; ++b) {
      name[0] = d[a], name[1] = d[b];
      if (int e = fs::mkdir_at(pkg_fd_.fd(), name); e != 0)
        return Error::failed(Code::StoreDir, "failed to create " + pkg_dir_ + "/" + name + ": " + fs::errno_text(e));
    }
  return {};
}

bool Store::has(const StoreKey& k) const {
  std::string p = k.rel() + "/index";
  return ::faccessat(pkg_fd_.fd(), p.c_str(), F_OK, 0) == 0;
}

Result<Store::Package> Store::load(const StoreKey& k) const {
  int fd = ::openat(pkg_fd_.fd(), k.rel().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    std::string where = fs::join(pkg_dir_, k.rel());
    if (e == ENOENT) return Error::not_found(Code::ReadFromStore, where + ": not in the store");
    return Error::failed(Code::StoreWrite, "failed to open " + where + ": " + fs::errno_text(e));
  }
  Package p{fs::Dir(fd), {}};
  auto text = fs::read_file_at(fd, "index", fs::join(pkg_dir_, k.rel() + "/index"));
  if (!text) return text.error();
  auto idx = PackageIndex::parse(*text);
  if (!idx) return Error::failed(Code::StoreWrite, "failed to read the store index of " + k.rel() + ": " + idx.error().message);
  p.index = std::move(*idx);
  return p;
}

Result<Store::Staging> Store::begin() const {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  Staging s;
  s.path = fs::join(tmp_dir_, std::to_string(::getpid()) + "-" + std::to_string(salt % 100000) + "-" +
                                  std::to_string(counter++));
  if (::mkdir(s.path.c_str(), 0777) != 0 && errno != EEXIST)
    return Error::failed(Code::StoreWrite, "failed to create staging directory " + s.path + ": " + fs::errno_text(errno));
  auto fd = fs::Dir::open(s.path);
  if (!fd) return fd.error();
  s.dir = std::move(*fd);
  return s;
}

Result<fs::Dir> Store::commit(Staging& s, const StoreKey& k, const PackageIndex& index) const {
  std::string text = index.serialize();
  if (int e = fs::write_file_at(s.dir.fd(), "index", text.data(), text.size(), 0644); e != 0)
    return Error::failed(Code::StoreWrite, "failed to write " + s.path + "/index: " + fs::errno_text(e));
  std::string dest = fs::join(pkg_dir_, k.rel());
  if (::rename(s.path.c_str(), dest.c_str()) != 0) {
    int e = errno;
    // Another process (or another slot of this install) committed the same package first:
    // theirs is as good as ours.
    if (e == ENOTEMPTY || e == EEXIST) {
      abort(s);
      return fs::Dir::open(dest);
    }
    return Error::failed(Code::StoreWrite, "failed to move " + s.path + " into the store: " + fs::errno_text(e));
  }
  return std::move(s.dir);  // the descriptor follows the directory across the rename
}

void Store::abort(Staging& s) const {
  s.dir = fs::Dir();
  (void)fs::remove_all(s.path);
}

}  // namespace tarn
