// The projects that use this store, so `tarn store prune` knows what is still needed.
// As pnpm does, each install leaves a symlink <layout>/projects/<hash of the project dir>
// pointing at the project; a link whose project is gone no longer counts.
#include <dirent.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "tarn/store/store.hpp"

namespace tarn {

namespace {

std::string short_hash(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 8; ++i) out += hex[md[i] >> 4], out += hex[md[i] & 15];
  return out;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

}  // namespace

Result<void> Store::register_project(const std::string& project_dir) const {
  std::string dir = fs::join(layout_dir(root_), "projects");
  if (auto r = fs::create_directories(dir); !r) return r;
  std::string link = fs::join(dir, short_hash(project_dir));
  std::string tmp = link + ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  if (::symlink(project_dir.c_str(), tmp.c_str()) != 0 || ::rename(tmp.c_str(), link.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Error::failed(Code::StoreWrite, "failed to register " + project_dir + " in the store: " + fs::errno_text(e));
  }
  return {};
}

std::vector<std::string> Store::registered_projects() const {
  std::string dir = fs::join(layout_dir(root_), "projects");
  std::vector<std::string> out;
  for (auto& name : names_in(dir)) {
    std::string link = fs::join(dir, name);
    char buf[4096];
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) continue;
    std::string target(buf, static_cast<size_t>(n));
    if (fs::is_dir(target)) out.push_back(std::move(target));
    else ::unlink(link.c_str());  // the project is gone
  }
  return out;
}

std::vector<std::string> Store::entries() const {
  std::vector<std::string> out;
  std::string layout = layout_dir(root_);
  for (auto& fan : names_in(layout)) {
    if (fan.size() != 2) continue;  // tmp/, projects/, host-node
    for (auto& e : names_in(fs::join(layout, fan))) out.push_back(fan + "/" + e);
  }
  return out;
}

Result<size_t> Store::prune(const std::set<std::string>& keep) const {
  size_t removed = 0;
  std::string layout = layout_dir(root_);
  for (auto& rel : entries()) {
    if (keep.count(rel)) continue;
    // Out of sight first (one rename), then deleted: an install never sees half an entry.
    std::string aside = fs::join(tmp_dir_, "pruned-" + std::to_string(::getpid()) + "-" + std::to_string(removed));
    if (::rename(fs::join(layout, rel).c_str(), aside.c_str()) != 0) continue;
    if (auto r = fs::remove_all(aside); !r) return r.error();
    ++removed;
  }
  return removed;
}

}  // namespace tarn
