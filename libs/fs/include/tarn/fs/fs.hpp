#pragma once
// dirfd-relative file operations. Hot-path calls return 0 or an errno value and
// never allocate, so the linker can issue them from many threads without locks.
#include <sys/types.h>

#include <string>
#include <string_view>

#include "tarn/core/error.hpp"

namespace tarn::fs {

// An owned directory file descriptor.
class Dir {
 public:
  Dir() = default;
  explicit Dir(int fd) : fd_(fd) {}
  Dir(Dir&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Dir& operator=(Dir&& o) noexcept;
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir();

  // Opens `path` (absolute, or relative to `at`); NotFound when it does not exist.
  static Result<Dir> open(const std::string& path, int at = -100 /*AT_FDCWD*/);
  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// mkdir; EEXIST counts as success.
int mkdir_at(int dirfd, const char* rel, mode_t mode = 0777);
// mkdir -p of a relative path under dirfd (each component created once).
int mkdirs_at(int dirfd, std::string_view rel);
int link_at(int src_dirfd, const char* src, int dst_dirfd, const char* dst);
// Creates the symlink; when something already sits at `rel`, replaces it if it is a symlink.
int symlink_at(const char* target, int dirfd, const char* rel);
// Creates (truncating) and writes a whole file.
int write_file_at(int dirfd, const char* rel, const void* data, size_t n, mode_t mode);
// chmod a+x on top of the current mode (pnpm's fixBin).
int add_exec_bits_at(int dirfd, const char* rel);
// Whether the process's umask leaves `mode` alone, so a file created with it has it
// without an fchmod. The umask is read once, from /proc/self/status (umask(2) cannot be
// read without setting it, a race with threads creating files); unknown: false.
bool umask_keeps(mode_t mode);

Result<std::string> read_file(const std::string& path);
// `shown_as` names the file in errors (default: `rel`).
Result<std::string> read_file_at(int dirfd, const char* rel, std::string_view shown_as = {});
// Writes via a temporary file and rename(2), so readers never see a partial file.
Result<void> write_file_atomic(const std::string& path, std::string_view content);
// write_file_atomic for files that must survive a crash (pnpm's lockfile write): the
// temporary is created exclusively next to `path`, fsync'd and given the mode of the file
// it replaces before the rename.
Result<void> write_file_synced(const std::string& path, std::string_view content);
bool exists(const std::string& path);
bool is_dir(const std::string& path);
// rm -rf; missing is fine.
Result<void> remove_all(const std::string& path);
Result<void> create_directories(const std::string& path);

// Lexical helpers on '/'-separated paths.
std::string join(std::string_view a, std::string_view b);
std::string dirname(std::string_view p);
std::string absolute(const std::string& p);  // against the cwd, normalised
std::string normalize(std::string_view p);
// Relative path from directory `from_dir` to `to`; both absolute or both relative to the same root.
std::string relative(std::string_view from_dir, std::string_view to);

std::string errno_text(int err);

// Marks a directory as an Orlov "top directory" (chattr +T) on ext2/3/4: each directory made
// in it is placed like one at the filesystem's root, in a group chosen among those with the
// fewest directories, instead of in its parent's group. Right after an `rm -rf` that parent
// group is the one the deleted tree vacated, and on ext4 without a journal each new inode
// there scans past every inode freed in the last minute (fs/ext4/ialloc.c,
// recently_deleted; docs/design.md, "Cold installs after a delete"). Elsewhere the ioctl
// fails and nothing changes.
void spread_children(int dir_fd);

}  // namespace tarn::fs
