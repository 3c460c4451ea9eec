#pragma once
// The on-disk metadata cache: one file per package and registry, in tarn's cache-dir
// beside pnpm's layout (<cache-dir>/metadata-v1/<host[+port]>/<name>.json; full documents
// under metadata-full-v1). A file is a header line with the validators, then the trimmed
// packument; written whole through a temporary file and a rename.
#include <optional>
#include <string>

#include "tarn/core/error.hpp"
#include "tarn/core/types.hpp"

namespace tarn::resolve::detail {

struct Validators {
  std::string etag;           // the response's ETag
  std::string last_modified;  // the response's Last-Modified
  std::string modified;       // the packument's `modified` (pnpm sends it as If-Modified-Since)
};

struct CachedDoc {
  Validators validators;
  std::string body;  // the trimmed packument's JSON
};

// Empty when `cache_dir` is empty or the registry URL has no host.
std::string cache_path(const std::string& cache_dir, bool full, const std::string& registry, const PkgName& name);
// Only the header line (a revalidation needs no more until the registry answers 304).
std::optional<Validators> read_validators(const std::string& path);
std::optional<CachedDoc> read_cached(const std::string& path);
Result<void> write_cached(const std::string& path, const Validators& v, std::string_view body);

}  // namespace tarn::resolve::detail
