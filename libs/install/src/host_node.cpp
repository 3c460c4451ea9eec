#include "host_node.hpp"

#include <sys/stat.h>

#include <cstdlib>

#include "tarn/fs/fs.hpp"
#include "tarn/linker/plan.hpp"

namespace tarn {

namespace {

// "path ino size mtime" of the first executable `node` on PATH; empty when there is none.
std::string node_identity() {
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "";
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/node";
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
      return candidate + " " + std::to_string(st.st_ino) + " " + std::to_string(st.st_size) + " " +
             std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  }
  return {};
}

}  // namespace

NodeProbe::NodeProbe(std::string cache_file) : cache_file_(std::move(cache_file)), key_(node_identity()) {
  if (key_.empty()) {
    known_ = kUnknownNodeVersion;
    return;
  }
  if (auto text = fs::read_file(cache_file_)) {
    auto nl = text->find('\n');
    if (nl != std::string::npos && text->compare(0, nl, key_) == 0) {
      std::string v = text->substr(nl + 1);
      while (!v.empty() && v.back() == '\n') v.pop_back();
      if (!v.empty()) {
        known_ = v;
        return;
      }
    }
  }
  pending_ = std::async(std::launch::async, detect_node_version);
}

std::string NodeProbe::get() {
  if (!known_) {
    known_ = pending_.get();
    if (*known_ != kUnknownNodeVersion) (void)fs::write_file_atomic(cache_file_, key_ + "\n" + *known_ + "\n");
  }
  return *known_;
}

}  // namespace tarn
