#pragma once
// Verify a downloaded package tarball, inflate it and unpack it into a store staging dir.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tarn/core/types.hpp"
#include "tarn/store/store.hpp"

namespace tarn {

// ERR_PNPM_TARBALL_INTEGRITY naming the package, the expected and the actual digest.
Result<void> verify_integrity(std::span<const uint8_t> data, const Integrity& expected, std::string_view what);
// sha512 SRI of `data` (used when the lockfile names no integrity).
Integrity compute_sha512(std::span<const uint8_t> data);

// gzip -> tar bytes. Plain tar input is passed through.
Result<std::vector<uint8_t>> inflate_gzip(std::span<const uint8_t> gz, std::string_view what);

// Unpacks tar bytes into `dest_dirfd` as flat blobs (PackageIndex::blob_name), dropping
// the first path component ("package/"); the returned index maps them to their paths.
// Only regular files are stored, as pnpm does; an entry whose path is absolute, contains
// "..", or is a link pointing outside the package fails with ERR_PNPM_TARBALL_EXTRACT.
Result<PackageIndex> extract_tar(std::span<const uint8_t> tar, int dest_dirfd, std::string_view what);

// verify + inflate + extract.
Result<PackageIndex> unpack_tarball(std::span<const uint8_t> tgz, const Integrity* expected, int dest_dirfd,
                                    std::string_view what);

}  // namespace tarn
