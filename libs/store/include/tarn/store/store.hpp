#pragma once
// The content-addressable store. The address is the package tarball's verified integrity:
//   <root>/v<kLayoutVersion>/<hex[0:2]>/<hex[2:]>-<algo>/{index,0,1,2,...}
//   <root>/v<kLayoutVersion>/tmp/<pid>-<random>      staging directories (and damaged
//                                                    entries moved aside, "old-<random>")
// Files are kept flat, named by their position among the index's files: a package costs
// one directory in the store instead of a copy of its tree (about 4,800 fewer mkdir(2)
// on alotta-modules, where inode allocation dominates the cold install's system time).
// Keying whole packages by the tarball digest (already verified on download) avoids
// hashing every extracted file: on alotta-modules that per-file SHA-512 is ~1 s of CPU,
// against ~0.15 s for the tarballs. A package directory appears only by rename(2) of a
// fully written staging directory, so nothing partial or unverified is ever visible.
//
// The index (text, one line per entry, directories before their contents):
//   tarn-index 3
//   <d|f><x|-> <size>\t<path>
// 'x' is the blob's exec bit. Blob modes are final when the package is committed (0755 or
// 0644): the tar mode, plus exec for every file the package's own package.json (or a
// bundled dependency's) names in `bin` or under `directories.bin`. Nothing may change a
// blob afterwards: node_modules hard-links them, so a chmod through any link would change
// the file for every project. <size> lets a warm install check each blob cheaply
// (fstatat) before linking it, as pnpm's verifyStoreIntegrity does with size and mtime.
//
// Layout history: v2 had no sizes and left bin modes to the linker, which chmod-ed blobs
// through their links; its entries lack the v3 guarantees, so v3 starts empty beside it.
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tarn/core/types.hpp"
#include "tarn/fs/fs.hpp"

namespace tarn {

// The one place naming the store layout version: the directory name and the index header.
inline constexpr int kLayoutVersion = 3;

// Beside `index` in each package directory: what its files were when they were imported, for
// `tarn store status` (pnpm compares node_modules against the integrity its index records per
// file; node_modules files are hard links to the blobs, so only a record kept apart from them
// can tell that one changed). "tarn-sums 1\n", then the CRC-32 of each file, by file ordinal,
// as 8 hex digits a line. Entries committed before this file existed have none; a v3 index
// is unchanged, so older tarns read these entries as before.
inline constexpr const char* kSumsFile = "sums";
std::string serialize_sums(const std::vector<uint32_t>& crcs);
// nullopt when absent or not `files` well-formed lines.
std::optional<std::vector<uint32_t>> read_sums(int package_dir_fd, size_t files);
// CRC-32 of a whole file, and its size; errno when it cannot be read.
struct FileCrc {
  uint32_t crc = 0;
  uint64_t size = 0;
};
Result<FileCrc> crc32_file(int dir_fd, const std::string& path);

// The file list of a stored package, in creation order (directories before their contents).
struct PackageIndex {
  struct Entry {
    std::string path;  // relative, '/'-separated, never absolute, never with ".."
    bool dir = false;
    bool exec = false;
    uint64_t size = 0;  // of the blob; filled in by Store::commit()
    // CRC-32 of the file's bytes as they were stored: the extractor computes it as it writes
    // (libdeflate, ~5 GB/s), Store::commit() reads the blobs that lack one. Kept in the
    // entry's `sums` file, not in the index (see kSumsFile).
    std::optional<uint32_t> crc = std::nullopt;
    // The writer vouches that the blob is a regular file of `size` bytes with mode
    // exec ? 0755 : 0644, so Store::commit() need not stat it. With the extractor's
    // fchmod skipped when the umask keeps the mode, a cold alotta-modules install makes
    // ~39,000 fstatat and ~39,000 fchmod fewer: 0.94x the wall time on tmpfs (8 rotated
    // rounds); on ext4 after a delete the change is lost in the noise. Not serialized.
    bool as_written = false;
  };
  std::vector<Entry> entries;
  // The stored name of the n-th file entry (directories are not counted).
  static std::string blob_name(size_t file_ordinal) { return std::to_string(file_ordinal); }
  std::string serialize() const;
  static Result<PackageIndex> parse(std::string_view text);
};

class Store {
 public:
  explicit Store(std::string root);
  // This layout version's directory under `root` (<root>/v3); files the install keeps
  // beside the packages (the host node cache) live there too.
  static std::string layout_dir(const std::string& root);
  // Whether a store of this layout version exists at `root`.
  static bool exists(const std::string& root);
  // Creates the directories, opens their descriptors and removes staging directories left
  // by killed installs (see sweep_staging()).
  Result<void> open();
  const std::string& root() const { return root_; }

  // Present: the index parses and every blob is a regular file of the recorded size, and
  // executable if the index says so. Missing: no entry. Damaged: anything else (a partial or corrupted entry),
  // to be fetched again; commit() replaces it.
  enum class Health { Present, Missing, Damaged };
  Health check(const StoreKey& k) const;

  // A stored package: its directory (for dirfd-relative linking) and its index. Does not
  // check the blobs (check() does).
  struct Package {
    fs::Dir dir;
    PackageIndex index;
  };
  Result<Package> load(const StoreKey& k) const;

  // Every entry that is not Present: its path under the layout dir ("ab/cdef...-sha512")
  // and why. For `tarn store status`; reads every index and stats every blob.
  struct Damage {
    std::string rel;
    std::string why;
  };
  Result<std::vector<Damage>> verify() const;

  // A private directory to extract blobs into; becomes the package on commit().
  struct Staging {
    std::string path;
    fs::Dir dir;
  };
  Result<Staging> begin() const;
  // Finalises blob modes (package.json bins become executable), records sizes and exec
  // bits in `index`, writes it and renames the staging directory into place. A damaged
  // entry already there is moved aside and replaced. Returns the package's directory: the
  // staging one, or the intact copy another process committed first.
  Result<fs::Dir> commit(Staging& s, const StoreKey& k, PackageIndex& index) const;
  void abort(Staging& s) const;
  // begin(), `fill` writes the package into the staging directory (its fd) and returns its
  // index, then commit(); the staging directory is aborted on any failure. Every way a
  // package enters the store (tarballs, git checkouts, prefetch) goes through here.
  Result<Package> add(const StoreKey& k, const std::function<Result<PackageIndex>(int dirfd)>& fill) const;

  // Removes staging directories under tmp/ whose process is gone (and idle for a few
  // seconds, in case the pid belongs to another pid namespace) or that were idle for an
  // hour (pid reused); returns how many. Never one whose process is alive and writing.
  size_t sweep_staging() const;

  // The projects that installed from this store (registry.cpp): each install registers its
  // root; projects that no longer exist are dropped when listed.
  Result<void> register_project(const std::string& project_dir) const;
  std::vector<std::string> registered_projects() const;
  // Every entry, as "ab/cdef...-sha512".
  std::vector<std::string> entries() const;
  // Removes every entry whose StoreKey::rel() is not in `keep`; returns how many.
  Result<size_t> prune(const std::set<std::string>& keep) const;

 private:
  Result<fs::Dir> replace_damaged(Staging& s, const std::string& dest) const;

  std::string root_, pkg_dir_, tmp_dir_;
  fs::Dir pkg_fd_;
};

}  // namespace tarn
