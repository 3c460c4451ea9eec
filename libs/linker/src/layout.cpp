#include "tarn/linker/layout.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <tbb/parallel_for_each.h>

#include "tarn/fs/fs.hpp"
#include "tarn/linker/geometry.hpp"

namespace tarn {

namespace {

Error io_error(const std::string& verb, const std::string& what, int err) {
  return Error::failed(Code::LinkFailed, "failed to " + verb + " " + what + ": " + fs::errno_text(err));
}


// A private copy of `src` at `dst` with the blob's mode: first a reflink (FICLONE: the
// filesystem shares the extents copy-on-write, so a write to the copy never reaches the
// blob), else a byte copy. `try_clone` is cleared once the filesystem refuses a clone.
int copy_file_at(int src_fd, const char* src, int dst_fd, const char* dst, bool* try_clone = nullptr) {
  int in = ::openat(src_fd, src, O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno;
  struct stat st;
  ::fstat(in, &st);
  // O_TRUNC on an existing destination would write through a hard link into whatever it
  // shares an inode with (a store blob): a fresh inode is made instead.
  if (::unlinkat(dst_fd, dst, 0) != 0 && errno != ENOENT) {
    int e = errno;
    ::close(in);
    return e;
  }
  int out = ::openat(dst_fd, dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
  if (out < 0) {
    int e = errno;
    ::close(in);
    return e;
  }
  int e = 0;
  bool cloned = false;
  if (try_clone && *try_clone) {
    if (::ioctl(out, FICLONE, in) == 0) cloned = true;
    else *try_clone = false;  // EOPNOTSUPP, EXDEV, EINVAL...: copy from now on
  }
  off_t off = 0;
  while (!cloned && off < st.st_size) {
    ssize_t n = ::sendfile(out, in, &off, static_cast<size_t>(st.st_size - off));
    if (n <= 0) {
      e = n < 0 ? errno : EIO;
      break;
    }
  }
  ::fchmod(out, st.st_mode & 0777);
  ::close(in);
  if (::close(out) != 0 && e == 0) e = errno;
  return e;
}

}  // namespace

Errors make_directories(const InstallPlan& plan, int project_fd) {
  Errors errs;
  // Parents first: after one fails, the rest would only fail with ENOENT and bury the cause.
  for (auto& d : plan.top_dirs)
    if (int e = fs::mkdir_at(project_fd, d.c_str()); e != 0) {
      errs.items.push_back(io_error("create", d, e));
      return errs;
    }
  // The slot directories spread over the filesystem's groups (fs::spread_children): a hot
  // install right after `rm -rf node_modules` (alotta-modules, alternating runs in one
  // folder) took 1.61-2.87 s with them in .pnpm's group, 0.85-1.16 s spread. pnpm's
  // listing does not see the flag.
  if (auto vs = fs::Dir::open(std::string(geometry::kVirtualStore), project_fd)) fs::spread_children(vs->fd());
  ErrorSink sink;
  tbb::parallel_for_each(plan.packages.begin(), plan.packages.end(), [&](const PlannedPackage& p) {
    for (auto& d : p.dirs)
      if (int e = fs::mkdir_at(project_fd, d.c_str()); e != 0) {
        sink.add(io_error("create", d, e));
        return;
      }
  });
  return sink.take();
}

Result<void> link_slot(const PlannedPackage& p, int project_fd) {
  for (auto& l : p.links)
    if (int e = fs::symlink_at(l.target.c_str(), project_fd, l.path.c_str()); e != 0)
      return io_error("symlink", l.path + " -> " + l.target, e);
  return {};
}

Errors link_top_level(const InstallPlan& plan, int project_fd) {
  ErrorSink sink;
  tbb::parallel_for_each(plan.top_links.begin(), plan.top_links.end(), [&](const LinkSpec& l) {
    if (int e = fs::symlink_at(l.target.c_str(), project_fd, l.path.c_str()); e != 0)
      sink.add(io_error("symlink", l.path + " -> " + l.target, e));
  });
  return sink.take();
}

Result<void> import_package(int pkg_fd, const PackageIndex& index, int project_fd, const PlannedPackage& p,
                            ImportMethod method, const std::vector<std::string>* sources) {
  int dst = ::openat(project_fd, p.pkg_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dst < 0) return io_error("open", p.pkg_dir, errno);
  fs::Dir guard(dst);
  bool copy = method == ImportMethod::CloneOrCopy;
  bool try_clone = copy;
  size_t file_no = 0;
  for (auto& e : index.entries) {
    const char* rel = e.path.c_str();
    int err;
    if (e.dir) {
      err = fs::mkdir_at(dst, rel);
    } else {
      size_t n = file_no++;
      std::string blob = sources ? (*sources)[n] : PackageIndex::blob_name(n);  // short: no allocation
      if (!copy) {
        err = fs::link_at(pkg_fd, blob.c_str(), dst, rel);
        if (err == EXDEV || err == EPERM || err == EMLINK) {
          copy = true;  // store on another device (or linking refused): copy from now on
          err = copy_file_at(pkg_fd, blob.c_str(), dst, rel);
        }
      } else {
        err = copy_file_at(pkg_fd, blob.c_str(), dst, rel, &try_clone);
      }
    }
    if (err != 0) return io_error(e.dir ? "create" : copy ? "copy" : "link", p.pkg_dir + "/" + e.path, err);
  }
  return {};
}

}  // namespace tarn
