// Fetches the packument of every package named in a lockfile through PackumentClient, as
// the resolver will, and prints wall time, bytes, requests and peak RSS. Needs the network:
// it is a bench (bench/metadata.sh), not a test.
//
//   tarn-metadata-bench LOCKFILE CACHE_DIR [revalidate|prefer-offline|offline] [full|abbreviated]
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>

#include "tarn/config/config.hpp"
#include "tarn/lockfile/lockfile.hpp"
#include "tarn/net/fetcher.hpp"
#include "tarn/resolve/packument.hpp"

using namespace tarn;

namespace {

std::set<std::string> names_in(const Lockfile& lf) {
  std::set<std::string> out;
  for (auto& [key, meta] : lf.packages)
    if (auto p = DepPath::parse(key); p && meta.resolution == ResolutionKind::Registry) out.insert(p->name().str());
  return out;
}

resolve::CacheMode mode_of(std::string_view s) {
  if (s == "prefer-offline") return resolve::CacheMode::PreferOffline;
  if (s == "offline") return resolve::CacheMode::Offline;
  return resolve::CacheMode::Revalidate;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s LOCKFILE CACHE_DIR [revalidate|prefer-offline|offline] [full|abbreviated]\n", argv[0]);
    return 2;
  }
  auto lf = Lockfile::load(argv[1]);
  if (!lf) return std::fprintf(stderr, "%s\n", lf.error().render().c_str()), 1;
  auto settings = load_settings(".", {});
  if (!settings) return std::fprintf(stderr, "%s\n", settings.error().render().c_str()), 1;
  std::set<std::string> names = names_in(*lf);
  std::string mode = argc > 3 ? argv[3] : "revalidate";
  bool full = argc > 4 && std::string_view(argv[4]) == "full";

  auto t0 = std::chrono::steady_clock::now();
  net::Fetcher::Options fo;
  fo.connections = settings->network_concurrency;
  net::Fetcher fetcher(fo);
  fetcher.preconnect(settings->registry);
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0, failed = 0, versions = 0;
  uint64_t bytes = 0, requests = 0, not_modified = 0, hits = 0;
  {
    resolve::PackumentClient client(
        fetcher, {settings->registry, argv[2], mode_of(mode), full,
                  [&](const std::string& url) { return settings->authorization_for(url); }});
    for (auto& n : names)
      client.get(*PkgName::parse(n), full, [&, n](Result<std::shared_ptr<const resolve::Packument>> r) {
        std::lock_guard lk(mu);
        if (!r && failed++ < 5) std::fprintf(stderr, "%s\n", r.error().render().c_str());
        if (r) versions += (*r)->versions.size();
        if (++done == names.size()) cv.notify_all();
      });
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return done == names.size(); });
    bytes = client.metadata_bytes(), requests = client.requests();
    not_modified = client.not_modified(), hits = client.cache_hits();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("mode=%s metadata=%s packages=%zu failed=%zu versions=%zu wall_s=%.2f body_MB=%.1f requests=%llu "
              "not_modified=%llu cache_hits=%llu connections=%llu peak_rss_MB=%.0f cpu_user_s=%.2f cpu_sys_s=%.2f\n",
              mode.c_str(), full ? "full" : "abbreviated", names.size(), failed, versions, secs, bytes / 1e6,
              static_cast<unsigned long long>(requests), static_cast<unsigned long long>(not_modified),
              static_cast<unsigned long long>(hits), static_cast<unsigned long long>(fetcher.connections_opened()),
              ru.ru_maxrss / 1024.0, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
              ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
  return failed ? 1 : 0;
}
