#pragma once
// Tarballs that resolution starts downloading the moment a version is picked. The object
// outlives the resolve pass: fetch-and-link adopts the downloads still in flight instead of
// queueing them again, so a clean install links while the last tarballs arrive (issue 10:
// metadata, content and linking overlap) rather than after all of them.
#include <tbb/task_group.h>

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "tarball_stream.hpp"
#include "tarn/core/types.hpp"
#include "tarn/store/store.hpp"

namespace tarn {

struct InstallContext;
namespace resolve {
struct PackageVersion;
}

class TarballPrefetch {
 public:
  explicit TarballPrefetch(InstallContext& cx);
  ~TarballPrefetch();  // waits for every download and extraction it started
  TarballPrefetch(const TarballPrefetch&) = delete;
  TarballPrefetch& operator=(const TarballPrefetch&) = delete;

  // On the resolving thread: starts the tarball's download unless the store has it.
  void pick(const PkgName& name, const resolve::PackageVersion& pv);
  // After resolution (read-only from then on): whether `key`'s download was started.
  bool started(const StoreKey& key) const { return started_.count(key.rel()) != 0; }
  // `then(stored)` runs once the download of `key` (started() is true) is in the store
  // (true) or failed (false; the caller downloads it again to report why): on the thread
  // that finished it, or on this one when that already happened.
  void when_stored(const StoreKey& key, std::function<void(bool)> then);
  // Returns once every started download has been stored or has failed, and every
  // `then` has run.
  void drain();

 private:
  struct Entry {
    bool done = false, stored = false;
    std::vector<std::function<void(bool)>> waiters;
  };
  void finished(const std::string& key, bool stored);

  InstallContext& cx_;
  tbb::task_group tasks_;
  std::optional<TarballStreams> streams_;  // after tasks_: joined before it goes
  std::set<std::string> started_;  // written on the resolving thread only
  std::mutex mu_;                   // guards entries_
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace tarn
