#pragma once
// Blob modes and sizes, made final in the staging directory before a package is committed.
#include <string_view>

#include "tarn/store/store.hpp"

namespace tarn::store_detail {

// Marks executable every file a package.json of the package (its own, or a bundled
// dependency's under node_modules/) names as a bin, then records each blob's size and exec
// bit in `index`. Errors name `staging_path`.
Result<void> finalize_blobs(int staging_fd, PackageIndex& index, std::string_view staging_path);

}  // namespace tarn::store_detail
