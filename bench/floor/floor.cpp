// The linking floor for the hot install (issue 9): the fewest directories, symlinks and
// hard links a finished node_modules needs, made by a plain parallel program that does
// nothing else (no lockfile, no store index, no stat or exists checks).
//   tarn-floor record TEMPLATE STORE MANIFEST   not timed: walks TEMPLATE (a node_modules
//       tarn made from STORE) and writes the list of operations; each regular file that
//       shares an inode with a store file becomes a hard link from that store path, any
//       other file (.modules.yaml, .pnpm/lock.yaml, .bin shims) a plain write of its bytes
//   tarn-floor make MANIFEST DEST [THREADS=4] [units|levels]
//       recreates the tree at DEST (which must not exist) and prints the syscall phase's
//       time and counts to stderr
// Schedules for make:
//   units   (default) every directory down to depth 2 first (node_modules/.pnpm/<slot>),
//           level by level; then each depth-2 subtree is one unit, made by one thread in
//           walk order (parents first, and one thread per directory: no contention on the
//           parent's inode lock); units largest first, taken from an atomic counter
//   levels  all directories level by level (a barrier between levels), then every link
//           and file in walk order, in chunks of 64 from an atomic counter
//   sorted  as units, the units in path order (tarn's plan order) rather than largest first
//   sorted-dirs-first  as sorted, but every unit's directories before any link (as tarn)
//   alloc1  as units, but one thread makes every new inode (mkdir, symlink, plain file),
//           unit after unit, while the other THREADS-1 threads hard-link each unit once
//           its directories exist: concurrent inode allocations in one ext4 group race
//           for the same free bit and the loser scans on (see bench/floor.sh)
// Measured on alotta-modules (2 loaded cores, bench/results/floor-alotta-modules-*): right
// after `rm -rf node_modules && sync`, units x2 4.04 s, x4 4.10, x8 4.26, x16 4.28 (tarn
// 4.21); every variant spends ~65% of its kernel time in ext4's scan past recently freed
// inodes, so neither more threads, nor alloc1, nor dirs-first orders (levels, sorted-dirs-
// first: 10-40% slower in separate-folder rounds) buy anything. With no recent delete:
// units x2 0.46 s, x4 0.41, x16 0.44 (tarn 0.51).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tarn/fs/fs.hpp"

namespace fsys = std::filesystem;

namespace {

enum class Kind : char { Dir = 'd', Symlink = 'l', Link = 'h', Write = 'f' };

struct Op {
  Kind kind;
  std::string path;  // relative to DEST
  std::string arg;   // symlink target, link source (absolute), or file bytes
  unsigned mode = 0644;
  int depth = 0;     // components in path
};

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "tarn-floor: " << msg << "\n";
  std::exit(1);
}

int depth_of(const std::string& p) { return 1 + static_cast<int>(std::count(p.begin(), p.end(), '/')); }

std::string slurp(const fsys::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// inode -> one store path holding it.
std::unordered_map<ino_t, std::string> store_inodes(const fsys::path& store) {
  std::unordered_map<ino_t, std::string> m;
  for (auto& e : fsys::recursive_directory_iterator(store)) {
    struct stat st;
    if (e.is_regular_file() && !e.is_symlink() && ::lstat(e.path().c_str(), &st) == 0)
      m.emplace(st.st_ino, fsys::absolute(e.path()).string());
  }
  return m;
}

// Walk order: a directory before its contents (recursive_directory_iterator's order).
std::vector<Op> record(const fsys::path& tmpl, const std::unordered_map<ino_t, std::string>& inodes) {
  std::vector<Op> ops;
  for (auto& e : fsys::recursive_directory_iterator(tmpl)) {
    Op op;
    op.path = e.path().lexically_relative(tmpl).string();  // relative() would follow symlinks
    if (op.path.find_first_of("\t\n") != std::string::npos) die("tab or newline in " + op.path);
    op.depth = depth_of(op.path);
    struct stat st;
    if (::lstat(e.path().c_str(), &st) != 0) die("cannot stat " + e.path().string());
    if (S_ISDIR(st.st_mode)) {
      op.kind = Kind::Dir;
    } else if (S_ISLNK(st.st_mode)) {
      op.kind = Kind::Symlink;
      op.arg = fsys::read_symlink(e.path()).string();
    } else if (auto it = inodes.find(st.st_ino); it != inodes.end()) {
      op.kind = Kind::Link;
      op.arg = it->second;
    } else {
      op.kind = Kind::Write;
      op.arg = slurp(e.path());
      op.mode = st.st_mode & 07777;
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

// One record a line: kind, mode, byte length of arg, path, then arg's bytes and '\n'.
void save(const std::vector<Op>& ops, const std::string& file) {
  std::ofstream out(file, std::ios::binary);
  for (auto& o : ops)
    out << static_cast<char>(o.kind) << '\t' << o.mode << '\t' << o.arg.size() << '\t' << o.path << '\n'
        << o.arg << '\n';
}

std::vector<Op> load(const std::string& file) {
  std::string text = slurp(file);
  std::vector<Op> ops;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    std::istringstream head(text.substr(at, nl - at));
    Op o;
    char kind = 0;
    size_t len = 0;
    head >> kind >> o.mode >> len;
    head.ignore(1);
    std::getline(head, o.path);
    o.kind = static_cast<Kind>(kind);
    o.depth = depth_of(o.path);
    o.arg = text.substr(nl + 1, len);
    at = nl + 1 + len + 1;
    ops.push_back(std::move(o));
  }
  return ops;
}

// As tarn's make_directories: the slot directories are placed like directories at the
// filesystem's root, not in .pnpm's group, which the deleted tree vacated. Without it tarn's
// own hot install ran 2x faster than this floor.
void spread_children(int dst, const std::string& rel) {
  int fd = ::openat(dst, rel.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  tarn::fs::spread_children(fd);
  ::close(fd);
}

struct Counts {
  std::atomic<long> mkdir{0}, symlink{0}, link{0}, write{0}, failed{0};
};

void apply(int dst, const Op& o, Counts& c) {
  int r = 0;
  switch (o.kind) {
    case Kind::Dir:
      r = ::mkdirat(dst, o.path.c_str(), 0777), ++c.mkdir;
      if (r == 0 && o.path == ".pnpm") spread_children(dst, o.path);
      break;
    case Kind::Symlink: r = ::symlinkat(o.arg.c_str(), dst, o.path.c_str()), ++c.symlink; break;
    case Kind::Link: r = ::linkat(AT_FDCWD, o.arg.c_str(), dst, o.path.c_str(), 0), ++c.link; break;
    case Kind::Write: {
      ++c.write;
      int fd = ::openat(dst, o.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, o.mode);
      if (fd < 0 || ::write(fd, o.arg.data(), o.arg.size()) != static_cast<ssize_t>(o.arg.size())) r = -1;
      if (fd >= 0) ::close(fd);
      break;
    }
  }
  if (r != 0 && c.failed++ == 0) std::cerr << "tarn-floor: " << o.path << ": " << std::strerror(errno) << "\n";
}

// Runs fn(thread_index) on n threads and joins them.
template <class F>
void on_threads(int n, F fn) {
  std::vector<std::thread> ts;
  for (int t = 0; t < n; ++t) ts.emplace_back(fn, t);
  for (auto& t : ts) t.join();
}

// Directories of depth <= max_depth, a level at a time, the level split across threads.
void make_levels(int dst, const std::vector<Op>& ops, int max_depth, int threads, Counts& c) {
  std::map<int, std::vector<const Op*>> levels;
  for (auto& o : ops)
    if (o.kind == Kind::Dir && o.depth <= max_depth) levels[o.depth].push_back(&o);
  for (auto& level : levels) {
    const std::vector<const Op*>& v = level.second;  // clang 14 cannot capture a structured binding
    std::atomic<size_t> next{0};
    on_threads(threads, [&](int) {
      for (size_t i; (i = next.fetch_add(16)) < v.size();)
        for (size_t k = i; k < std::min(v.size(), i + 16); ++k) apply(dst, *v[k], c);
    });
  }
}

// by_size: largest first; else by path (as tarn's plan orders its slots).
std::vector<std::vector<const Op*>> units_of(const std::vector<Op>& ops, bool by_size = true) {
  // Unit key: the depth-2 ancestor, or the parent directory of a shallower entry.
  std::map<std::string, std::vector<const Op*>> by_key;
  for (auto& o : ops) {
    if (o.kind == Kind::Dir && o.depth <= 2) continue;
    size_t cut = std::string::npos;
    if (o.depth >= 3) cut = o.path.find('/', o.path.find('/') + 1);
    else cut = o.path.rfind('/');
    by_key[cut == std::string::npos ? "" : o.path.substr(0, cut)].push_back(&o);
  }
  std::vector<std::vector<const Op*>> units;
  for (auto& [k, v] : by_key) units.push_back(std::move(v));
  if (by_size) std::stable_sort(units.begin(), units.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
  return units;
}

// dirs_first: every unit's directories, then (after a join) every unit's other entries.
void make_by_units(int dst, const std::vector<Op>& ops, int threads, Counts& c, bool by_size = true,
                   bool dirs_first = false) {
  make_levels(dst, ops, 2, threads, c);
  auto units = units_of(ops, by_size);
  for (int pass : dirs_first ? std::vector<int>{0, 1} : std::vector<int>{2}) {  // 0 dirs, 1 the rest, 2 all
    std::atomic<size_t> next{0};
    on_threads(threads, [&](int) {
      for (size_t i; (i = next++) < units.size();)
        for (const Op* o : units[i])
          if (pass == 2 || (pass == 0) == (o->kind == Kind::Dir)) apply(dst, *o, c);
    });
  }
}

void make_alloc1(int dst, const std::vector<Op>& ops, int threads, Counts& c) {
  make_levels(dst, ops, 2, 1, c);
  auto units = units_of(ops);
  std::atomic<size_t> ready{0}, next{0};
  on_threads(std::max(threads, 2), [&](int t) {
    if (t == 0) {
      for (size_t i = 0; i < units.size(); ready.store(++i, std::memory_order_release))
        for (const Op* o : units[i])
          if (o->kind != Kind::Link) apply(dst, *o, c);
      return;
    }
    for (size_t i; (i = next++) < units.size();) {
      while (ready.load(std::memory_order_acquire) <= i) std::this_thread::sleep_for(std::chrono::microseconds(200));
      for (const Op* o : units[i])
        if (o->kind == Kind::Link) apply(dst, *o, c);
    }
  });
}

void make_by_levels(int dst, const std::vector<Op>& ops, int threads, Counts& c) {
  make_levels(dst, ops, 1 << 20, threads, c);
  std::vector<const Op*> rest;
  for (auto& o : ops)
    if (o.kind != Kind::Dir) rest.push_back(&o);
  std::atomic<size_t> next{0};
  on_threads(threads, [&](int) {
    for (size_t i; (i = next.fetch_add(64)) < rest.size();)
      for (size_t k = i; k < std::min(rest.size(), i + 64); ++k) apply(dst, *rest[k], c);
  });
}

int run_make(int argc, char** argv) {
  if (argc < 4) die("usage: tarn-floor make MANIFEST DEST [THREADS] [units|levels]");
  std::vector<Op> ops = load(argv[2]);
  int threads = argc > 4 ? std::atoi(argv[4]) : 4;
  std::string mode = argc > 5 ? argv[5] : "units";
  auto t0 = std::chrono::steady_clock::now();
  if (::mkdir(argv[3], 0777) != 0) die(std::string("cannot create ") + argv[3] + ": " + std::strerror(errno));
  int dst = ::open(argv[3], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  Counts c;
  if (mode == "levels") make_by_levels(dst, ops, threads, c);
  else if (mode == "alloc1") make_alloc1(dst, ops, threads, c);
  else if (mode == "sorted") make_by_units(dst, ops, threads, c, false);
  else if (mode == "sorted-dirs-first") make_by_units(dst, ops, threads, c, false, true);
  else make_by_units(dst, ops, threads, c);
  ::close(dst);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "floor %s x%d: %.1f ms; mkdir %ld symlink %ld link %ld write %ld failed %ld\n",
               mode.c_str(), threads, ms, c.mkdir.load(), c.symlink.load(), c.link.load(), c.write.load(),
               c.failed.load());
  return c.failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "record" && argc == 5) {
    auto ops = record(argv[2], store_inodes(argv[3]));
    save(ops, argv[4]);
    std::map<char, long> n;
    for (auto& o : ops) ++n[static_cast<char>(o.kind)];
    std::fprintf(stderr, "recorded %zu ops: %ld dirs, %ld symlinks, %ld hard links, %ld plain files\n", ops.size(),
                 n['d'], n['l'], n['h'], n['f']);
    return 0;
  }
  if (cmd == "make") return run_make(argc, argv);
  die("usage: tarn-floor record TEMPLATE STORE MANIFEST | make MANIFEST DEST [THREADS] [units|levels]");
}
