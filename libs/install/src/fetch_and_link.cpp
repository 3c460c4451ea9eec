// Pass fetch-and-link: one overlapped pass in four timed sub-passes.
//   directories  every directory the plan names (parents first, parallel over slots)
//   cold         missing tarballs stream from the network thread into TBB tasks that
//                verify, extract, commit to the store and import into their slots
//   slot-links   meanwhile, in parallel: each slot's dependency links (graph-only work
//                that never waits for the network) and the import of stored packages
//   drain        this thread helps extract until the last download is imported
// Then link-bins writes the shims.
#include <tbb/parallel_for_each.h>
#include <tbb/task_group.h>

#include <condition_variable>
#include <mutex>

#include "builds.hpp"
#include "passes.hpp"
#include "tarn/linker/layout.hpp"
#include "tarn/tarball/tarball.hpp"

namespace tarn {

namespace {

struct LinkRun {
  InstallContext& cx;
  ErrorSink errs;
  tbb::task_group cold_tasks;
  int fd() const { return cx.root_fd->fd(); }
};

// A package whose build will run gets private files (builds.hpp); the rest hard links.
ImportMethod import_method(const InstallContext& cx, size_t i) {
  return cx.builds.approved[i] ? ImportMethod::CloneOrCopy : ImportMethod::Link;
}

// Extracts one downloaded tarball into the store and imports it into every slot it fills.
void store_and_import(LinkRun& run, const std::vector<size_t>& slots, const net::Body& body) {
  InstallContext& cx = run.cx;
  const PlannedPackage& p = cx.plan.packages[slots.front()];
  auto staging = cx.store->begin();
  if (!staging) return run.errs.add(staging.error());
  const Integrity* want = p.meta->integrity ? &*p.meta->integrity : nullptr;
  auto index = unpack_tarball(body, want, staging->dir.fd(), p.snapshot->key.str());
  if (!index) {
    cx.store->abort(*staging);
    return run.errs.add(index.error());
  }
  auto dir = cx.store->commit(*staging, p.store_key, *index);
  if (!dir) {
    cx.store->abort(*staging);
    return run.errs.add(dir.error());
  }
  for (size_t i : slots) {
    if (auto r = import_package(dir->fd(), *index, run.fd(), cx.plan.packages[i], import_method(cx, i)); !r)
      return run.errs.add(r.error());
    cx.rep.add_added();
  }
}

// Queues every download; each finished body becomes a TBB task. The fetcher holds back
// new requests while delivered-but-unextracted bodies exceed its pending-bytes cap, so the
// network thread never waits on extraction.
void start_cold(LinkRun& run) {
  InstallContext& cx = run.cx;
  for (const std::vector<size_t>& slots : cx.sources.downloads) {
    const PlannedPackage& first = cx.plan.packages[slots.front()];
    net::Request req{first.tarball_url.str(), cx.settings.authorization_for(first.tarball_url.str()),
                     first.snapshot->key.str()};
    cx.fetcher->get(std::move(req), [&run, &slots](Result<net::Body>&& body) {
      if (!body) return run.errs.add(body.error());
      run.cx.rep.add_downloaded();
      run.cold_tasks.run([&run, &slots, b = std::make_shared<net::Body>(std::move(*body))] {
        size_t n = b->size();
        store_and_import(run, slots, *b);
        b->clear();
        b->shrink_to_fit();
        run.cx.fetcher->release(n);
      });
    });
  }
}

void link_slots_and_warm(LinkRun& run) {
  InstallContext& cx = run.cx;
  tbb::parallel_for_each(cx.plan.packages.begin(), cx.plan.packages.end(), [&](const PlannedPackage& p) {
    if (auto r = link_slot(p, run.fd()); !r) return run.errs.add(r.error());
    size_t i = static_cast<size_t>(&p - cx.plan.packages.data());
    if (cx.sources.cold[i]) return;
    auto stored = cx.store->load(p.store_key);
    if (!stored) return run.errs.add(stored.error());
    if (auto r = import_package(stored->dir.fd(), stored->index, run.fd(), p, import_method(cx, i)); !r)
      return run.errs.add(r.error());
    cx.rep.add_reused();
    cx.rep.add_added();
  });
  run.errs.add_all(link_top_level(cx.plan, run.fd()));
}

// While downloads run, this thread extracts too (TBB's other slot is one worker thread on
// a 2-core machine); task_group::wait() returns as soon as the queue is empty.
void drain_cold(LinkRun& run) {
  if (run.cx.fetcher)
    while (!run.cx.fetcher->wait_idle_for(std::chrono::milliseconds(2))) run.cold_tasks.wait();
  run.cold_tasks.wait();
}

}  // namespace

Result<void> fetch_and_link(InstallContext& cx) {
  LinkRun run{cx, {}, {}};
  // Callbacks and tasks hold references to `run`: however this function is left, every
  // one of them has finished first.
  struct Drain {
    LinkRun& run;
    ~Drain() {
      try {
        drain_cold(run);
      } catch (...) {
      }
    }
  } drain_on_exit{run};
  if (cx.builds.approved_count) {
    PassTimer t(cx.rep, "fetch-and-link/reset-build-dirs");
    if (auto r = reset_build_dirs(cx); !r) return r;
  }
  {
    PassTimer t(cx.rep, "fetch-and-link/directories");
    run.errs.add_all(make_directories(cx.plan, run.fd()));
  }
  if (!run.errs.empty()) return run.errs.merged("creating directories");
  if (cx.sources.cold_count) {
    PassTimer t(cx.rep, "fetch-and-link/queue-downloads");
    start_cold(run);
  }
  {
    PassTimer t(cx.rep, "fetch-and-link/slot-links+warm-import");
    link_slots_and_warm(run);
  }
  {
    PassTimer t(cx.rep, "fetch-and-link/drain-cold");
    drain_cold(run);
  }
  if (!run.errs.empty()) return run.errs.merged("fetching and linking packages");
  return {};
}

Result<void> link_bin_shims(InstallContext& cx) {
  Errors errs = link_bins(cx.plan, cx.root_fd->fd(), cx.root_dir);
  if (errs.empty()) return {};
  ErrorSink sink;
  sink.add_all(std::move(errs));
  return sink.merged("linking bins");
}

}  // namespace tarn
