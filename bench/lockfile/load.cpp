// Times tarn::Lockfile::load on one file: `tarn-bench-lockfile <pnpm-lock.yaml> [runs]`.
// Prints the median wall and process-CPU milliseconds; the first run warms the page cache.
// TARN_BENCH_THREADS=1 parses on one thread (less sensitive to other load on the machine).
#include <tbb/global_control.h>
#include <time.h>

#include <algorithm>
#include <memory>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tarn/lockfile/lockfile.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <pnpm-lock.yaml> [runs]\n", argv[0]);
    return 2;
  }
  int runs = argc > 2 ? std::atoi(argv[2]) : 21;
  std::unique_ptr<tbb::global_control> threads;
  if (const char* t = std::getenv("TARN_BENCH_THREADS"))
    threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, std::atoi(t));
  auto cpu_ms = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  };
  std::vector<double> ms, cpu;
  size_t packages = 0;
  for (int i = 0; i <= runs; ++i) {
    double c0 = cpu_ms();
    auto t0 = std::chrono::steady_clock::now();
    auto lf = tarn::Lockfile::load(argv[1]);
    auto t1 = std::chrono::steady_clock::now();
    double c1 = cpu_ms();
    if (!lf) {
      std::fprintf(stderr, "%s\n", lf.error().message.c_str());
      return 1;
    }
    packages = lf->packages.size();
    if (i > 0) {
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      cpu.push_back(c1 - c0);
    }
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("packages %zu runs %zu wall min %.2f median %.2f ms, cpu min %.2f median %.2f ms\n", packages,
              ms.size(), ms.front(), ms[ms.size() / 2], cpu.front(), cpu[cpu.size() / 2]);
  return 0;
}
