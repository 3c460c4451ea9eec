// Pass fetch-and-link: one overlapped pass in four timed sub-passes.
//   queue        every missing tarball is queued first, so the network runs from here on;
//                bodies arrive on the network thread and become TBB tasks that verify,
//                extract and commit them to the store (a body of 1 MiB or more unpacks
//                on a stream thread as it arrives, tarball_stream.hpp)
//   directories  every directory the plan names (parents first, parallel over slots);
//                a package stored before they exist waits for them, then is imported
//   slot-links   in parallel: each slot's dependency links (graph-only work that never
//                waits for the network) and the import of packages already stored
//   drain        this thread helps extract until the last download is imported
// Then link-bins writes the shims.
#include <tbb/parallel_for_each.h>
#include <tbb/task_group.h>

#include <condition_variable>
#include <mutex>

#include <set>

#include "builds.hpp"
#include "git_fetch.hpp"
#include "passes.hpp"
#include "tarball_prefetch.hpp"
#include "tarball_stream.hpp"
#include "tarn/linker/layout.hpp"
#include "tarn/linker/patch.hpp"
#include "tarn/store/packlist.hpp"
#include "tarn/tarball/tarball.hpp"

namespace tarn {

namespace {

struct LinkRun {
  explicit LinkRun(InstallContext& c) : cx(c) {
    if (cx.fetcher) streams.emplace(*cx.fetcher, *cx.store);
  }
  InstallContext& cx;
  ErrorSink errs;
  tbb::task_group cold_tasks;
  std::optional<TarballStreams> streams;  // after cold_tasks: joined before it goes
  // Downloads start before the directories are made; a package stored before then waits
  // here for its import.
  struct Deferred {
    const std::vector<size_t>* slots;
    Result<Store::Package> stored;
  };
  std::mutex dirs_mu;
  bool dirs_made = false;  // guarded by dirs_mu
  std::vector<Deferred> deferred;
  std::mutex retry_mu;
  std::vector<const std::vector<size_t>*> retry;  // adopted downloads that failed
  int fd() const { return cx.root_fd->fd(); }
};

// A package whose build will run, or that a patch edits, gets private files (builds.hpp);
// the rest hard links.
ImportMethod import_method(const InstallContext& cx, size_t i) {
  return cx.builds.private_copy(i) ? ImportMethod::CloneOrCopy : ImportMethod::Link;
}

// Imports one slot's files, then applies its patch: pnpm patches the slot's copy, the
// store keeps the package as published.
Result<void> import_slot(LinkRun& run, size_t i, int pkg_fd, const PackageIndex& index,
                         const std::vector<std::string>* sources = nullptr) {
  InstallContext& cx = run.cx;
  const PlannedPackage& p = cx.plan.packages[i];
  if (auto r = import_package(pkg_fd, index, run.fd(), p, import_method(cx, i), sources); !r) return r;
  if (int k = cx.builds.patch[i]; k >= 0) {
    const PatchFile& patch = cx.patches[static_cast<size_t>(k)];
    if (auto r = apply_patch(patch.text, patch.path, fs::join(cx.root_dir, p.pkg_dir)); !r) return r;
  }
  cx.rep.added(p.pkg_dir);
  return {};
}

// A directory dependency: its packlist, hard-linked from the directory itself, as pnpm's
// directory fetcher hands the source files to the importer. pnpm makes bins executable
// through those links, so the source files get the exec bit too.
Result<void> import_directory(LinkRun& run, size_t i) {
  InstallContext& cx = run.cx;
  const std::string& rel = cx.plan.packages[i].meta->directory;
  std::string dir = fs::normalize(rel.starts_with("/") ? rel : fs::join(cx.root_dir, rel));
  auto files = packlist(dir);
  if (!files) return files.error();
  auto src = fs::Dir::open(dir);
  if (!src) return src.error();
  PackageIndex index;
  std::vector<std::string> sources;
  std::set<std::string> dirs;
  for (auto& f : *files) {
    for (size_t k = f.path.find('/'); k != std::string::npos; k = f.path.find('/', k + 1))
      if (dirs.insert(f.path.substr(0, k)).second) index.entries.push_back({f.path.substr(0, k), true, false, 0});
    if (f.bin)
      if (int e = fs::add_exec_bits_at(src->fd(), f.source.c_str()); e)
        return Error::failed(Code::DirectoryFetch, "failed to make " + fs::join(dir, f.source) + " executable: " +
                                                       fs::errno_text(e));
    index.entries.push_back({f.path, false, false, 0});
    sources.push_back(f.source);
  }
  return import_slot(run, i, src->fd(), index, &sources);
}

// Imports a package just added to the store into every slot it fills, or keeps it for
// directories_made() when the slots' directories do not exist yet.
void import_stored(LinkRun& run, const std::vector<size_t>& slots, Result<Store::Package>&& stored) {
  if (!stored) return run.errs.add(stored.error());
  {
    std::lock_guard lock(run.dirs_mu);
    if (!run.dirs_made) return run.deferred.push_back({&slots, std::move(stored)});
  }
  for (size_t i : slots)
    if (auto r = import_slot(run, i, stored->dir.fd(), stored->index); !r) return run.errs.add(r.error());
}

void store_and_import(LinkRun& run, const std::vector<size_t>& slots, const net::Body& body) {
  InstallContext& cx = run.cx;
  const PlannedPackage& p = cx.plan.packages[slots.front()];
  const Integrity* want = p.meta->integrity ? &*p.meta->integrity : nullptr;
  auto stored = cx.store->add(p.store_key, [&](int fd) { return unpack_tarball(body, want, fd, p.snapshot->key.str()); });
  import_stored(run, slots, std::move(stored));
}

// Clones one git package into the store (git_fetch.cpp), then imports it into its slots.
void fetch_git_and_import(LinkRun& run, const std::vector<size_t>& slots) {
  InstallContext& cx = run.cx;
  const PlannedPackage& p = cx.plan.packages[slots.front()];
  import_stored(run, slots, cx.store->add(p.store_key, [&](int fd) { return fetch_git(cx, p, fd); }));
}


// pnpm 12.21 reports a tarball's error status as ERR_PNPM_TARBALL_HTTP_STATUS (its
// TarballError::HttpStatus, checked against the binary with a 404), where the same status
// on metadata is ERR_PNPM_FETCH_<status>.
Error tarball_error(Error e) {
  if (e.code == Code::FetchStatus) e.code = Code::TarballHttpStatus;
  return e;
}

// A big body unpacks on its stream's thread as it arrives (tarball_stream.hpp); its
// import then runs on TBB like any other.
std::shared_ptr<StreamSink> stream_sink(LinkRun& run, const std::vector<size_t>& slots) {
  const PlannedPackage& p = run.cx.plan.packages[slots.front()];
  return run.streams->sink(p.store_key, p.meta->integrity, p.snapshot->key.str(),
                           [&run, &slots](Result<Store::Package>&& stored) {
                             auto s = std::make_shared<Result<Store::Package>>(std::move(stored));
                             run.cold_tasks.run([&run, &slots, s] { import_stored(run, slots, std::move(*s)); });
                           });
}

// Queues one download; a body collected whole becomes a TBB task. The fetcher holds back
// new requests while delivered-but-unextracted bytes exceed its pending-bytes cap, so
// the network thread never waits on extraction.
void queue_download(LinkRun& run, const std::vector<size_t>& slots) {
  InstallContext& cx = run.cx;
  const PlannedPackage& first = cx.plan.packages[slots.front()];
  net::Request req{first.tarball_url.str(), cx.settings.authorization_for(first.tarball_url.str()),
                   first.snapshot->key.str()};
  req.progress = download_progress(cx.rep, first.snapshot->key.without_peers());
  auto sink = stream_sink(run, slots);
  req.sink = sink;
  cx.fetcher->get(std::move(req), [&run, &slots, sink](Result<net::Body>&& body) {
    if (!body) return run.errs.add(tarball_error(body.error()));
    run.cx.rep.downloaded(run.cx.plan.packages[slots.front()].snapshot->key.without_peers());
    if (sink->took()) return;
    run.cold_tasks.run([&run, &slots, b = std::make_shared<net::Body>(std::move(*body))] {
      size_t n = b->size();
      store_and_import(run, slots, *b);
      b->clear();
      b->shrink_to_fit();
      run.cx.fetcher->release(n);
    });
  });
}

// A download resolution started is imported the moment it is stored; one that failed is
// downloaded again after the others (drain_cold), so its error is reported as any other's.
void adopt_prefetched(LinkRun& run) {
  InstallContext& cx = run.cx;
  for (const std::vector<size_t>& slots : cx.sources.adopted)
    cx.prefetch->when_stored(cx.plan.packages[slots.front()].store_key, [&run, &slots](bool stored) {
      if (!stored) {
        std::lock_guard lock(run.retry_mu);
        run.retry.push_back(&slots);
        return;
      }
      run.cold_tasks.run([&run, &slots] {
        import_stored(run, slots, run.cx.store->load(run.cx.plan.packages[slots.front()].store_key));
      });
    });
}

void start_cold(LinkRun& run) {
  InstallContext& cx = run.cx;
  for (const std::vector<size_t>& slots : cx.sources.git_fetches)
    run.cold_tasks.run([&run, &slots] { fetch_git_and_import(run, slots); });
  if (!cx.sources.adopted.empty()) adopt_prefetched(run);
  for (const std::vector<size_t>& slots : cx.sources.downloads) queue_download(run, slots);
}

// The directories exist: the packages stored meanwhile are imported.
void directories_made(LinkRun& run) {
  std::vector<LinkRun::Deferred> ready;
  {
    std::lock_guard lock(run.dirs_mu);
    run.dirs_made = true;
    ready.swap(run.deferred);
  }
  for (auto& d : ready)
    run.cold_tasks.run([&run, d = std::make_shared<LinkRun::Deferred>(std::move(d))] {
      import_stored(run, *d->slots, std::move(d->stored));
    });
}

void link_slots_and_warm(LinkRun& run) {
  InstallContext& cx = run.cx;
  tbb::parallel_for_each(cx.plan.packages.begin(), cx.plan.packages.end(), [&](const PlannedPackage& p) {
    if (auto r = link_slot(p, run.fd()); !r) return run.errs.add(r.error());
    size_t i = static_cast<size_t>(&p - cx.plan.packages.data());
    if (p.meta->resolution == ResolutionKind::Directory) {
      if (auto r = import_directory(run, i); !r) run.errs.add(r.error());
      return;
    }
    if (cx.sources.cold[i]) return;
    auto stored = cx.store->load(p.store_key);
    if (!stored) return run.errs.add(stored.error());
    cx.rep.reused(p.snapshot->key.str());
    if (auto r = import_slot(run, i, stored->dir.fd(), stored->index); !r) return run.errs.add(r.error());
  });
  run.errs.add_all(link_top_level(cx.plan, run.fd()));
}

// While downloads run, this thread extracts too (TBB's other slot is one worker thread on
// a 2-core machine); task_group::wait() returns as soon as the queue is empty. The
// prefetch's tasks are the ones that queue adopted imports, so they finish first.
void wait_cold(LinkRun& run) {
  if (run.cx.fetcher)
    while (!run.cx.fetcher->wait_idle_for(std::chrono::milliseconds(2))) run.cold_tasks.wait();
  if (run.streams) run.streams->join();
  if (run.cx.prefetch) run.cx.prefetch->drain();
  run.cold_tasks.wait();
}

void drain_cold(LinkRun& run) {
  wait_cold(run);
  std::vector<const std::vector<size_t>*> retry;
  {
    std::lock_guard lock(run.retry_mu);
    retry.swap(run.retry);
  }
  if (retry.empty()) return;
  for (auto* slots : retry) {
    if (!run.cx.fetcher) {  // unreachable: a prefetch only starts with a fetcher
      run.errs.add(Error::failed(Code::Io, "failed to fetch " + run.cx.plan.packages[slots->front()].snapshot->key.str() +
                                               ": no network fetcher"));
      continue;
    }
    queue_download(run, *slots);
  }
  wait_cold(run);
}

}  // namespace

// pnpm:fetching-progress for one tarball: each attempt's response, and the bytes of a big
// one as they arrive (the reporter decides which are shown). Runs on the network thread.
std::shared_ptr<const net::Progress> download_progress(Reporter& rep, std::string_view id) {
  auto shown = std::make_shared<Reporter::Download*>(nullptr);
  auto p = std::make_shared<net::Progress>();
  p->started = [&rep, shown, id = std::string(id)](unsigned attempt, std::optional<uint64_t> size) {
    *shown = rep.fetch_started(id, attempt, size);
    return *shown != nullptr;
  };
  p->received = [&rep, shown](uint64_t n) { rep.fetch_progress(*shown, n); };
  return p;
}

Result<void> fetch_and_link(InstallContext& cx) {
  LinkRun run(cx);
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
  if (cx.builds.approved_count || cx.builds.patched_count) {
    PassTimer t(cx.rep, "fetch-and-link/reset-build-dirs");
    if (auto r = reset_build_dirs(cx); !r) return r;
  }
  // Downloads first, so the network runs while the directories are made: on a machine
  // whose page cache does not hold the filesystem's bitmaps, that sub-pass alone took
  // 0.96-1.14 s of a cold alotta-modules install.
  if (cx.sources.cold_count) {
    PassTimer t(cx.rep, "fetch-and-link/queue-downloads");
    start_cold(run);
  }
  {
    PassTimer t(cx.rep, "fetch-and-link/directories");
    run.errs.add_all(make_directories(cx.plan, run.fd()));
  }
  if (!run.errs.empty()) return run.errs.merged("creating directories");
  directories_made(run);
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
