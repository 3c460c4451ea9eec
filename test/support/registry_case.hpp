#pragma once
// A resolver test case's registry (test/resolve/cases/<case>/registry.json) served by a
// RegistryServer: full packuments and reproducible tarballs at npm's URL layout. The same
// code backs the tests and tarn-test-registry, which scripts/gen-resolve-cases.sh points
// pnpm at, so the integrity pnpm writes into expected/pnpm-lock.yaml is the integrity the
// tests serve.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "testing.hpp"

namespace tarn::test {

struct CaseTarball {
  std::string name, version;
  std::string path;       // URL path on the server, "/@s/n/-/n-1.0.0.tgz"
  std::string integrity;  // "sha512-..."
  std::string shasum;     // sha1, hex
  std::vector<uint8_t> bytes;
};

struct CasePackument {
  std::string name;
  std::string path;  // canonical URL path: "/n" or "/@s%2fn" (also served as %2F and /@s/n)
  std::string json;  // the full packument served
};

struct RegistryCase {
  std::vector<CasePackument> packuments;  // by name, ascending
  std::vector<CaseTarball> tarballs;      // by name, then version as registry.json lists them
  std::set<std::string> served;           // every URL path put on the server
};

// Reads <case_dir>/registry.json and puts every packument and tarball on `server`.
// Throws std::runtime_error naming the case and the entry when the file is malformed.
RegistryCase load_registry_case(RegistryServer& server, const std::string& case_dir);

// A .tgz that depends on nothing but `entries`: tar headers with mtime 0, uid/gid 0 and no
// user names, and a gzip stream of stored (uncompressed) deflate blocks written here, so
// neither the zlib build nor its level changes a byte (zlib-ng and zlib 1.3 deflate the
// same input differently; stored blocks are fixed by RFC 1951).
std::vector<uint8_t> make_reproducible_tgz(const std::vector<TarEntry>& entries);

std::string sha1_hex(const std::vector<uint8_t>& data);

// npm's URL paths: "/lodash", "/@types%2fnode"; "/lodash/-/lodash-4.17.21.tgz",
// "/@types/node/-/node-20.0.0.tgz".
std::string packument_path(const std::string& name);
std::string tarball_path(const std::string& name, const std::string& version);

}  // namespace tarn::test
