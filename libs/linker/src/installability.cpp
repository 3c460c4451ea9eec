#include "installability.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <mutex>
#include <set>
#include <unordered_set>

#include "tarn/fs/fs.hpp"

namespace tarn {

Platform Platform::host() {
  Platform p;
  struct utsname u;
  uname(&u);
  std::string sys = u.sysname, mach = u.machine;
  p.os = sys == "Linux" ? "linux" : sys == "Darwin" ? "darwin" : sys == "FreeBSD" ? "freebsd" : "linux";
  if (mach == "x86_64" || mach == "amd64") p.cpu = "x64";
  else if (mach == "aarch64" || mach == "arm64") p.cpu = "arm64";
  else if (mach == "i386" || mach == "i686") p.cpu = "ia32";
  else if (mach.rfind("arm", 0) == 0) p.cpu = "arm";
  else p.cpu = mach;
#if defined(__GLIBC__)
  p.libc = "glibc";
#else
  p.libc = "musl";
#endif
  return p;
}

// ------------------------------------------------------------------ installability

namespace {

enum class Match { Rejected, Matched, None };

Match value_match(std::string_view value, const std::vector<std::string>& wanted) {
  for (auto& w : wanted) {
    if (!w.empty() && w[0] == '!') {
      if (std::string_view(w).substr(1) == value) return Match::Rejected;
    } else if (w == value) {
      return Match::Matched;
    }
  }
  return Match::None;
}

}  // namespace

bool platform_supported(const std::vector<std::string>& wanted, const std::vector<std::string>* supported,
                        std::string_view current) {
  if (wanted.empty()) return true;
  if (wanted.size() == 1 && wanted[0] == "any") return true;
  bool matched = false;
  if (supported && !supported->empty()) {
    for (auto& v : *supported) {
      switch (value_match(v == "current" ? current : std::string_view(v), wanted)) {
        case Match::Rejected: return false;
        case Match::Matched: matched = true; break;
        case Match::None: break;
      }
    }
  } else {
    switch (value_match(current, wanted)) {
      case Match::Rejected: return false;
      case Match::Matched: matched = true; break;
      case Match::None: break;
    }
  }
  return matched || std::all_of(wanted.begin(), wanted.end(), [](auto& w) { return !w.empty() && w[0] == '!'; });
}

namespace {

const char* os_token(std::string_view t) {
  if (t == "aix") return "aix";
  if (t == "android") return "android";
  if (t == "darwin" || t == "macos" || t == "osx") return "darwin";
  if (t == "freebsd") return "freebsd";
  if (t == "linux") return "linux";
  if (t == "netbsd") return "netbsd";
  if (t == "openbsd") return "openbsd";
  if (t == "openharmony") return "openharmony";
  if (t == "sunos") return "sunos";
  if (t == "win32" || t == "windows") return "win32";
  return nullptr;
}
const char* cpu_token(std::string_view t) {
  if (t == "arm" || t == "armv6" || t == "armv7") return "arm";
  if (t == "arm64" || t == "aarch64") return "arm64";
  if (t == "ia32") return "ia32";
  if (t == "loong64") return "loong64";
  if (t == "mips64el") return "mips64el";
  if (t == "ppc64" || t == "ppc64le") return "ppc64";
  if (t == "riscv64") return "riscv64";
  if (t == "s390x") return "s390x";
  if (t == "x64" || t == "amd64") return "x64";
  if (t == "wasm32") return "wasm32";
  return nullptr;
}
const char* libc_token(std::string_view t) {
  if (t == "glibc" || t == "gnu" || t == "gnueabihf") return "glibc";
  if (t == "musl" || t == "musleabihf") return "musl";
  return nullptr;
}

struct Wanted {
  std::vector<std::string> os, cpu, libc;
};

// pnpm infers the platform of optional packages such as "@esbuild/linux-x64" from their
// names when the manifest leaves axes undeclared.
Wanted wanted_platform(std::string_view name, const PackageMeta& m, bool optional) {
  Wanted w{m.os, m.cpu, m.libc};
  if (!optional || (!m.os.empty() && !m.cpu.empty() && !m.libc.empty())) return w;
  auto slash = name.find('/');
  std::string lower = ascii_lower(std::string(slash == std::string_view::npos ? name : name.substr(slash + 1)));
  Wanted inf;
  size_t i = 0;
  while (i <= lower.size()) {
    size_t j = lower.find_first_of("-_.", i);
    if (j == std::string::npos) j = lower.size();
    std::string_view t(lower.data() + i, j - i);
    auto add = [](std::vector<std::string>& v, const char* x) {
      if (x && std::find(v.begin(), v.end(), x) == v.end()) v.emplace_back(x);
    };
    add(inf.os, os_token(t));
    add(inf.cpu, cpu_token(t));
    add(inf.libc, libc_token(t));
    i = j + 1;
  }
  if (inf.os.empty() && inf.cpu.empty() && inf.libc.empty()) return w;
  bool declares = !m.os.empty() || !m.cpu.empty() || !m.libc.empty();
  if (!declares && inf.os.empty()) return w;
  if (w.os.empty()) w.os = inf.os;
  if (w.cpu.empty()) w.cpu = inf.cpu;
  if (w.libc.empty()) w.libc = inf.libc;
  return w;
}

}  // namespace

std::string detect_node_version() {
  std::string v;
  if (FILE* f = popen("node --version 2>/dev/null", "r")) {
    char buf[64] = {0};
    if (fgets(buf, sizeof buf, f)) v = buf;
    pclose(f);
  }
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
  if (!v.empty() && v[0] == 'v') v.erase(0, 1);
  return v.empty() ? kUnknownNodeVersion : v;
}

// pnpm's packageIsInstallable: platform (with supportedArchitectures) and engines.
bool Installability::ok(const DepPath& key, const PackageMeta& m, bool optional) {
  Wanted w = wanted_platform(key.name().str(), m, optional);
  const auto* sa = s_.supported_architectures ? &*s_.supported_architectures : nullptr;
  if (!platform_supported(w.os, sa ? &sa->os : nullptr, p_.os)) return false;
  if (!platform_supported(w.cpu, sa ? &sa->cpu : nullptr, p_.cpu)) return false;
  if (!w.libc.empty() && p_.libc != "unknown" && !platform_supported(w.libc, sa ? &sa->libc : nullptr, p_.libc))
    return false;
  for (auto& [engine, range] : m.engines) {
    if (engine == "node" && !semver_satisfies(node_version(), range)) return false;
    // pnpm checks its own version here; tarn stands in for pnpm 12.
    if (engine == "pnpm" && !semver_satisfies(kPnpmVersion, range)) return false;
  }
  return true;
}

std::optional<std::string> Installability::engine_issue(const DepPath& key, const PackageMeta& m) {
  std::string wanted;
  for (auto& [engine, range] : m.engines) {
    bool bad = (engine == "node" && !semver_satisfies(node_version(), range)) ||
               (engine == "pnpm" && !semver_satisfies(kPnpmVersion, range));
    if (bad && (engine == "node" || engine == "pnpm"))
      wanted += (wanted.empty() ? "" : ",") + ("\"" + engine + "\":\"" + range + "\"");
  }
  if (wanted.empty()) return std::nullopt;
  return "Unsupported engine for " + key.str() + ": wanted: {" + wanted + "} (current: {\"node\":\"" + node_version() +
         "\",\"pnpm\":\"" + kPnpmVersion + "\"})";
}

// Detected once, and only when an engines check needs it (spawning node costs ~30 ms).
const std::string& Installability::node_version() {
  std::call_once(once_, [&] { node_ = node_version_fn_ ? node_version_fn_() : detect_node_version(); });
  return node_;
}

}  // namespace tarn
