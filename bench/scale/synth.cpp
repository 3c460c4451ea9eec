// Synthetic projects for the scaling benchmark: N packages shaped like alotta-modules'
// (about 30 files in nested folders, a few dependencies each, some shared by many), a
// pnpm-lock.yaml v9 that pins them, and a loopback registry serving their tarballs.
//   tarn-synth-registry N PROJECT_DIR   writes the project, serves until stdin closes
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include "testing.hpp"

using namespace tarn::test;

namespace {

std::string name_of(size_t i) { return i % 7 == 0 ? "@synth/p" + std::to_string(i) : "synth-" + std::to_string(i); }

std::string text(std::mt19937& rng, size_t bytes) {
  static const char* words[] = {"module", "exports", "function", "return", "const", "require", "value", "index",
                                "options", "callback", "prototype", "length", "string", "object", "undefined"};
  std::string s;
  while (s.size() < bytes) {
    s += words[rng() % 15];
    s += (rng() % 9 == 0) ? ";\n" : " ";
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: tarn-synth-registry N PROJECT_DIR\n");
    return 2;
  }
  size_t n = std::stoul(argv[1]);
  std::string dir = argv[2];
  std::mt19937 rng(42);
  RegistryServer server;

  // Dependencies point to lower indices, so the graph is acyclic; a quarter of the edges
  // go to the first 5% of packages, which gives the shared hubs real lockfiles have.
  std::vector<std::vector<size_t>> deps(n);
  for (size_t i = 1; i < n; ++i) {
    size_t k = rng() % 5;
    for (size_t d = 0; d < k; ++d) {
      size_t hub = std::max<size_t>(1, n / 20);
      size_t j = (rng() % 4 == 0) ? rng() % std::min(hub, i) : rng() % i;
      if (std::find(deps[i].begin(), deps[i].end(), j) == deps[i].end()) deps[i].push_back(j);
    }
  }
  std::string packages, snapshots, importer, manifest_deps;
  for (size_t i = 0; i < n; ++i) {
    std::string name = name_of(i);
    std::vector<TarEntry> files;
    std::string pj = "{\"name\":\"" + name + "\",\"version\":\"1.0.0\",\"main\":\"lib/index.js\"}";
    files.push_back({"package/package.json", pj});
    files.push_back({"package/README.md", text(rng, 2000)});
    files.push_back({"package/LICENSE", text(rng, 1000)});
    size_t count = 10 + rng() % 40;
    for (size_t f = 0; f < count; ++f) {
      std::string folder = f % 3 == 0 ? "lib/" : f % 3 == 1 ? "lib/util/" : "dist/esm/";
      files.push_back({"package/" + folder + "f" + std::to_string(f) + ".js", text(rng, 200 + rng() % 6000)});
    }
    auto tgz = make_tgz(files);
    std::string bare = name.substr(name.find('/') == std::string::npos ? 0 : name.find('/') + 1);
    std::string integrity = sri_sha512(tgz);
    server.put("/" + name + "/-/" + bare + "-1.0.0.tgz", std::move(tgz));
    std::string key = name[0] == '@' ? "'" + name + "@1.0.0'" : name + "@1.0.0";
    packages += "  " + key + ":\n    resolution: {integrity: " + integrity + "}\n\n";
    snapshots += "  " + key + ":";
    if (deps[i].empty()) {
      snapshots += " {}\n\n";
    } else {
      snapshots += "\n    dependencies:\n";
      for (size_t j : deps[i]) {
        std::string dn = name_of(j);
        snapshots += "      " + (dn[0] == '@' ? "'" + dn + "'" : dn) + ": 1.0.0\n";
      }
      snapshots += "\n";
    }
  }
  // Direct dependencies: every package nothing else depends on, so all N are installed.
  std::vector<bool> used(n);
  for (auto& d : deps)
    for (size_t j : d) used[j] = true;
  for (size_t i = 0; i < n; ++i) {
    if (used[i]) continue;
    std::string dn = name_of(i);
    std::string q = dn[0] == '@' ? "'" + dn + "'" : dn;
    importer += "      " + q + ":\n        specifier: 1.0.0\n        version: 1.0.0\n";
    manifest_deps += std::string(manifest_deps.empty() ? "" : ",") + "\"" + dn + "\":\"1.0.0\"";
  }
  write_file(dir + "/package.json", "{\"name\":\"synth\",\"version\":\"1.0.0\",\"dependencies\":{" + manifest_deps + "}}\n");
  write_file(dir + "/pnpm-lock.yaml", "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n"
                                      "  excludeLinksFromLockfile: false\n\nimporters:\n\n  .:\n    dependencies:\n" +
                                          importer + "\npackages:\n\n" + packages + "snapshots:\n\n" + snapshots);
  write_file(dir + "/.npmrc", "registry=" + server.url() + "\n");
  std::cout << server.url() << std::endl;
  // Serve until the caller closes our stdin.
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}
