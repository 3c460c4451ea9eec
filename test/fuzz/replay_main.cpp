// Replays inputs through a libFuzzer harness without libFuzzer, so the normal (GCC) build
// runs every corpus and regression input in ctest (label fuzz-replay). Arguments are files
// or directories (their regular files, recursively, in sorted order for stable output).
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace stdfs = std::filesystem;

// Missing paths fail the run: a corpus that silently disappeared would make the test vacuous.
bool collect(const stdfs::path& p, std::vector<stdfs::path>& out) {
  std::error_code ec;
  if (stdfs::is_regular_file(p, ec)) {
    out.push_back(p);
    return true;
  }
  if (!stdfs::is_directory(p, ec)) {
    std::fprintf(stderr, "replay: %s is neither a file nor a directory\n", p.c_str());
    return false;
  }
  std::vector<stdfs::path> found;
  for (auto& e : stdfs::recursive_directory_iterator(p, ec))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') found.push_back(e.path());
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
#ifndef TARN_SANITIZED
  // A regressed runaway-memory bug (regressions/lockfile took 22 GB) must fail this test
  // with bad_alloc, not make the kernel kill something else. (Sanitizers reserve terabytes
  // of address space; scripts/sanitize.sh caps their RSS instead.)
  rlimit cap{rlim_t{4} << 30, rlim_t{4} << 30};
  setrlimit(RLIMIT_AS, &cap);
#endif
  std::vector<stdfs::path> inputs;
  for (int i = 1; i < argc; ++i)
    if (!collect(argv[i], inputs)) return 2;
  if (inputs.empty()) {
    std::fprintf(stderr, "replay: no inputs\n");
    return 2;
  }
  for (auto& p : inputs) {
    std::ifstream in(p, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // libFuzzer never passes a null pointer; an empty vector's data() may be one.
    uint8_t empty = 0;
    LLVMFuzzerTestOneInput(bytes.empty() ? &empty : bytes.data(), bytes.size());
  }
  std::printf("replay: %zu inputs, no failure\n", inputs.size());
  return 0;
}
