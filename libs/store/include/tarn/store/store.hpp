#pragma once
// The content-addressable store. The address is the package tarball's verified integrity:
//   <root>/v1/pkg/<hex[0:2]>/<hex[2:]>-<algo>/{index,files/...}
// Keying whole packages by the tarball digest (already verified on download) avoids
// hashing every extracted file: on alotta-modules that per-file SHA-512 is ~1 s of CPU,
// against ~0.15 s for the tarballs. A package directory appears only by rename(2) of a
// fully written staging directory, so nothing partial or unverified is ever visible.
#include <string>
#include <vector>

#include "tarn/fs/fs.hpp"
#include "tarn/lockfile/types.hpp"

namespace tarn {

// Store address of one package.
class StoreKey {
 public:
  StoreKey() = default;
  static StoreKey from_integrity(const Integrity& i);
  // For resolutions without an integrity (a bare tarball URL): keyed by the URL text.
  static StoreKey from_url(std::string_view url);
  const std::string& rel() const { return rel_; }  // "ab/cdef...-sha512"

 private:
  std::string rel_;
};

// The file list of a stored package, in creation order (directories before their contents).
struct PackageIndex {
  struct Entry {
    std::string path;  // relative, '/'-separated, never absolute, never with ".."
    bool dir = false;
    bool exec = false;
  };
  std::vector<Entry> entries;
  std::string serialize() const;
  static Result<PackageIndex> parse(std::string_view text);
};

class Store {
 public:
  explicit Store(std::string root);
  // Creates the directories and opens their descriptors.
  Result<void> open();
  const std::string& root() const { return root_; }

  bool has(const StoreKey& k) const;
  Result<PackageIndex> read_index(const StoreKey& k) const;
  // Directory holding a stored package's files (for dirfd-relative linking).
  std::string files_dir(const StoreKey& k) const;

  // A private directory to extract into; becomes the package on commit().
  struct Staging {
    std::string path;
    fs::Dir files;  // <path>/files
  };
  Result<Staging> begin() const;
  Result<void> commit(Staging& s, const StoreKey& k, const PackageIndex& index) const;
  void abort(Staging& s) const;

 private:
  std::string root_, pkg_dir_, tmp_dir_;
  fs::Dir pkg_fd_;
};

}  // namespace tarn
