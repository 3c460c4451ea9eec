// Staging directories left behind by installs that were killed (kill -9, OOM, power loss)
// before they could commit or abort: nothing else would ever remove them.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ctime>

#include "tarn/store/store.hpp"

namespace tarn {

namespace {

// A process in another pid namespace sharing the store looks dead to kill(2); its staging
// directory is written continuously (one blob after another), so a short idle time
// tells it apart from a killed one's.
constexpr time_t kDeadIdleSeconds = 10;
// A pid can be reused by an unrelated live process; nothing stays in staging this long.
constexpr time_t kAnyIdleSeconds = 3600;

// Whether the process named by a "<pid>-..." entry is gone; false when the name has no pid.
bool pid_dead(std::string_view name) {
  int pid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc() || pid <= 0 || end == name.data() + name.size() || *end != '-') return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

size_t Store::sweep_staging() const {
  int fd = ::open(tmp_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return 0;
  }
  // In the common case tmp/ is empty and this is one getdents(2).
  size_t removed = 0;
  time_t now = ::time(nullptr);
  struct stat st;
  while (dirent* ent = ::readdir(d)) {
    std::string_view name = ent->d_name;
    if (name == "." || name == ".." || ::fstatat(::dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    time_t idle = now - st.st_mtime;
    bool stale = idle >= kAnyIdleSeconds || (idle >= kDeadIdleSeconds && pid_dead(name));
    if (stale && fs::remove_all(fs::join(tmp_dir_, std::string(name)))) ++removed;
  }
  ::closedir(d);
  return removed;
}

}  // namespace tarn
