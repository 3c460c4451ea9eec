#pragma once
// Verify a downloaded package tarball, inflate it and unpack it into a store staging dir.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tarn/core/types.hpp"
#include "tarn/store/store.hpp"

namespace tarn {

// Caps on what one tarball may unpack to; over any of them is ERR_PNPM_TARBALL_TOO_LARGE,
// raised from the tar headers before anything is allocated or written. pnpm has no such
// caps (it gunzips into one Node Buffer); these sit far above any npm package seen
// (typescript 5.9: 23 MB, 1 file per 4 KB) and far below what hurts a build machine.
struct UnpackLimits {
  uint64_t max_unpacked = uint64_t{1} << 30;  // sum of the entries' sizes
  uint64_t max_entry = uint64_t{1} << 30;     // one entry's declared size
  uint64_t max_entries = 200000;              // tar headers of any kind
  // Inflate in one buffer with libdeflate (faster, see tarball.cpp) when the gzip trailer
  // says the tar is at most this big and at most 64x the body; stream with zlib otherwise.
  // 0 always streams.
  uint64_t whole_buffer_max = uint64_t{8} << 20;
};

// ERR_PNPM_TARBALL_INTEGRITY naming the package, the expected and the actual digest.
Result<void> verify_integrity(std::span<const uint8_t> data, const Integrity& expected, std::string_view what);
// sha512 SRI of `data` (used when the lockfile names no integrity).
Integrity compute_sha512(std::span<const uint8_t> data);

// Unpacks a gzipped (or plain) tar into `dest_dirfd` as flat blobs (PackageIndex::blob_name),
// dropping the first path component ("package/"); the returned index maps them to their
// paths. The tar is never held whole: it is inflated chunk by chunk as libarchive reads it,
// and each entry streams to its blob. Only regular files are stored, as pnpm does; an entry
// whose path is absolute, contains "..", or is a link pointing outside the package fails
// with ERR_PNPM_TARBALL_EXTRACT, as does a body that is not a gzip/tar or is cut short.
Result<PackageIndex> extract_tar(std::span<const uint8_t> body, int dest_dirfd, std::string_view what,
                                 const UnpackLimits& limits = {});

// Where a streamed body's bytes come from, pulled by the unpacker as it needs them.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The next piece of the body, valid until the next call; empty at its end. An error
  // when the body was cut off: then every later call fails too.
  virtual Result<std::span<const uint8_t>> next() = 0;
  // The whole body when it is already in memory (inflated in one buffer when small).
  virtual std::optional<std::span<const uint8_t>> whole() const { return std::nullopt; }
};

// verify + extract.
Result<PackageIndex> unpack_tarball(std::span<const uint8_t> tgz, const Integrity* expected, int dest_dirfd,
                                    std::string_view what, const UnpackLimits& limits = {});

// verify + extract, reading the body piece by piece as `in` yields it (a download in
// progress): inflated and unpacked as it arrives, never held whole, with the integrity
// computed on the way and checked once the body has ended. An index comes back only for
// a body that matches `expected`; whatever a failed one wrote into dest_dirfd is the
// caller's to discard (Store::add aborts its staging directory).
Result<PackageIndex> unpack_tarball_stream(ByteSource& in, const Integrity* expected, int dest_dirfd,
                                           std::string_view what, const UnpackLimits& limits = {});

}  // namespace tarn
