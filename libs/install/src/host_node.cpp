#include "host_node.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include "tarn/fs/fs.hpp"

namespace tarn {

namespace {

constexpr const char* kNoNode = "99999.0.0";

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

std::string run_node_version() {
  std::string v;
  if (FILE* f = popen("node --version 2>/dev/null", "r")) {
    char buf[64] = {0};
    if (fgets(buf, sizeof buf, f)) v = buf;
    pclose(f);
  }
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
  if (!v.empty() && v[0] == 'v') v.erase(0, 1);
  return v.empty() ? kNoNode : v;
}

}  // namespace

NodeProbe::NodeProbe(std::string cache_file) : cache_file_(std::move(cache_file)), key_(node_identity()) {
  if (key_.empty()) {
    known_ = kNoNode;
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
  pending_ = std::async(std::launch::async, run_node_version);
}

std::string NodeProbe::get() {
  if (!known_) {
    known_ = pending_.get();
    if (*known_ != kNoNode) (void)fs::write_file_atomic(cache_file_, key_ + "\n" + *known_ + "\n");
  }
  return *known_;
}

}  // namespace tarn
