#pragma once
// The content-addressable store. The address is the package tarball's verified integrity:
//   <root>/v2/<hex[0:2]>/<hex[2:]>-<algo>/{index,0,1,2,...}
// Files are kept flat, named by their position among the index's files: a package costs
// one directory in the store instead of a copy of its tree (about 4,800 fewer mkdir(2)
// on alotta-modules, where inode allocation dominates the cold install's system time).
// Keying whole packages by the tarball digest (already verified on download) avoids
// hashing every extracted file: on alotta-modules that per-file SHA-512 is ~1 s of CPU,
// against ~0.15 s for the tarballs. A package directory appears only by rename(2) of a
// fully written staging directory, so nothing partial or unverified is ever visible.
#include <string>
#include <vector>

#include "tarn/fs/fs.hpp"
#include "tarn/core/types.hpp"

namespace tarn {

// The file list of a stored package, in creation order (directories before their contents).
struct PackageIndex {
  struct Entry {
    std::string path;  // relative, '/'-separated, never absolute, never with ".."
    bool dir = false;
    bool exec = false;
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
  // This layout version's directory under `root` (<root>/v2); files the install keeps
  // beside the packages (the host node cache) live there too.
  static std::string layout_dir(const std::string& root);
  // Whether a store of this layout version exists at `root`.
  static bool exists(const std::string& root);
  // Creates the directories and opens their descriptors.
  Result<void> open();
  const std::string& root() const { return root_; }

  bool has(const StoreKey& k) const;

  // A stored package: its directory (for dirfd-relative linking) and its index.
  struct Package {
    fs::Dir dir;
    PackageIndex index;
  };
  Result<Package> load(const StoreKey& k) const;

  // A private directory to extract blobs into; becomes the package on commit().
  struct Staging {
    std::string path;
    fs::Dir dir;
  };
  Result<Staging> begin() const;
  // Writes the index and renames the staging directory into place. Returns the package's
  // directory: the staging one, or the copy another process committed first.
  Result<fs::Dir> commit(Staging& s, const StoreKey& k, const PackageIndex& index) const;
  void abort(Staging& s) const;

 private:
  std::string root_, pkg_dir_, tmp_dir_;
  fs::Dir pkg_fd_;
};

}  // namespace tarn
