#pragma once
// The packument's JSON both ways: the registry's document (full or abbreviated) into the
// trimmed model, and the trimmed model into the cache file's body, in the registry's own
// shape so the one parser reads both.
#include <string>
#include <string_view>

#include "tarn/resolve/packument.hpp"

namespace tarn::resolve::detail {

// Registry documents are read as pnpm reads them. The cache body also carries "hasBin",
// which the trimmed model keeps in place of `bin` and `directories`; it is honoured only
// there, so a registry cannot claim bins the manifest does not declare.
enum class Source { Registry, Cache };

Result<Packument> parse(std::string_view json, const PkgName& what, Source source);

// A package.json as a version entry: its name and the manifest (no dist). Errors name `what`.
Result<std::pair<std::string, PackageVersion>> parse_manifest(std::string_view text, const std::string& what);

// The trimmed model as a registry-shaped JSON document (for the cache).
std::string serialize(const Packument& p);

// "Tue, 03 Dec 2024 18:34:18 GMT" from an ISO-8601 time ("2024-12-03T18:34:18.449Z" or
// with a "+hh:mm" offset), as pnpm turns a packument's `modified` into If-Modified-Since;
// empty when it does not parse.
std::string http_date_from_iso(std::string_view iso);

}  // namespace tarn::resolve::detail
