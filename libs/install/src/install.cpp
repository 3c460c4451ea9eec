// The install driver: a short sequence of named passes, each timed under its own name.
#include "tarn/install/install.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <tbb/parallel_for_each.h>
#include <tbb/task_group.h>
#include <thread>
#include <unordered_map>

#include "host_node.hpp"
#include "state.hpp"
#include "tarn/config/config.hpp"
#include "tarn/fs/fs.hpp"
#include "tarn/linker/layout.hpp"
#include "tarn/linker/plan.hpp"
#include "tarn/lockfile/lockfile.hpp"
#include "tarn/lockfile/manifest.hpp"
#include "tarn/net/fetcher.hpp"
#include "tarn/store/store.hpp"
#include "tarn/tarball/tarball.hpp"

namespace tarn {

namespace {

struct Inputs {
  Settings settings;
  std::string project_dir;
  std::string lockfile_path, lockfile_text;
  std::string manifest_path, manifest_text;
  std::string identity;
};


// ------------------------------------------------------------------------- passes

Result<Inputs> read_inputs(const InstallOptions& o) {
  Inputs in;
  in.project_dir = fs::absolute(o.dir);
  if (!fs::is_dir(in.project_dir))
    return Error::not_found(Code::NoSuchDir, "failed to open project " + in.project_dir + ": no such directory");
  auto s = load_settings(in.project_dir, CliOverrides{o.store_dir, o.registry});
  if (!s) return s.error();
  in.settings = std::move(*s);
  if (o.network_concurrency) in.settings.network_concurrency = o.network_concurrency;
  in.manifest_path = fs::join(in.project_dir, "package.json");
  auto m = fs::read_file(in.manifest_path);
  if (!m) {
    if (m.error().is_not_found())
      return Error::not_found(Code::NoImporterManifestFound, "No package.json was found in " + in.project_dir);
    return m.error();
  }
  in.manifest_text = std::move(*m);
  in.lockfile_path = fs::join(in.project_dir, "pnpm-lock.yaml");
  auto l = fs::read_file(in.lockfile_path);
  if (!l) {
    if (l.error().is_not_found())
      return Error::not_found(Code::NoLockfile, "Cannot install with \"frozen-lockfile\" because " +
                                                          in.lockfile_path + " is absent (tarn installs from a lockfile)");
    return l.error();
  }
  in.lockfile_text = std::move(*l);
  in.identity = install_identity(in.lockfile_text, in.manifest_text, in.settings, o);
  return in;
}

bool up_to_date(const Inputs& in) {
  auto state = fs::read_file(fs::join(in.project_dir, kStateFile));
  return state && workspace_state_matches(*state, in.identity);
}

struct Parsed {
  Lockfile lockfile;
  Manifest manifest;
};

Result<Parsed> parse_inputs(const Inputs& in) {
  Parsed p;
  auto m = Manifest::parse(in.manifest_text, in.manifest_path);
  if (!m) return m.error();
  p.manifest = std::move(*m);
  auto l = Lockfile::parse(in.lockfile_text, in.lockfile_path);
  if (!l) return l.error();
  p.lockfile = std::move(*l);
  return p;
}

Result<void> check_frozen(const Inputs& in, const Parsed& p, const InstallOptions& o) {
  static const Importer empty{".", {}};
  const Importer* root = p.lockfile.importer(".");
  auto diff = diff_importer(p.manifest, root ? *root : empty);
  if (diff.empty()) return {};
  std::string msg = "Cannot install with \"frozen-lockfile\" because " + in.lockfile_path +
                    " is not up to date with " + in.manifest_path;
  if (!o.frozen_lockfile) msg += " (tarn does not resolve dependencies yet; update the lockfile with pnpm)";
  for (auto& d : diff) msg += "\n  " + d;
  return Error::failed(Code::OutdatedLockfile, msg);
}

// Where each package comes from and whether the store already has it.
struct Sources {
  std::vector<StoreKey> keys;
  std::vector<char> cold;
  size_t cold_count = 0;
  // One download per missing tarball: the packages (slots) it fills. Two slots of one
  // package (different peers) share a tarball.
  std::vector<std::vector<size_t>> downloads;
};

Result<Sources> check_store(InstallPlan& plan, const Settings& s, const Store& store, bool offline) {
  Sources src;
  src.keys.resize(plan.packages.size());
  src.cold.assign(plan.packages.size(), 0);
  ErrorSink errs;
  tbb::parallel_for(size_t(0), plan.packages.size(), [&](size_t i) {
    auto& p = plan.packages[i];
    const PackageMeta& m = *p.meta;
    if (!m.resolution_type.empty() && m.resolution_type != "tarball") {
      errs.add(Error::failed(Code::UnsupportedResolution, "failed to fetch " + p.snapshot->key.str() + ": \"" +
                                                                     m.resolution_type + "\" resolutions are not supported yet"));
      return;
    }
    const PkgName& name = p.snapshot->key.name();
    p.tarball_url = !m.tarball.empty() ? m.tarball : s.tarball_url(name, p.snapshot->key.version());
    src.keys[i] = m.integrity ? StoreKey::from_integrity(*m.integrity) : StoreKey::from_url(p.tarball_url);
    p.store_rel = src.keys[i].rel();
    src.cold[i] = store.check(src.keys[i]) != Store::Health::Present;
  });
  if (!errs.empty()) return errs.merged("checking the store");
  std::unordered_map<std::string_view, size_t> download_of;
  for (size_t i = 0; i < plan.packages.size(); ++i) {
    if (!src.cold[i]) continue;
    ++src.cold_count;
    auto [it, fresh] = download_of.emplace(src.keys[i].rel(), src.downloads.size());
    if (fresh) src.downloads.emplace_back();
    src.downloads[it->second].push_back(i);
  }
  if (offline && src.cold_count) {
    Error e = Error::failed(Code::NoOfflineTarball, "");
    size_t shown = 0;
    for (size_t i = 0; i < plan.packages.size(); ++i)
      if (src.cold[i] && shown++ < 5) e.message += (shown > 1 ? ", " : "") + plan.packages[i].snapshot->key.str();
    e.message = "failed to install offline: " + std::to_string(src.cold_count) +
                " packages are not in the store (" + e.message + (src.cold_count > 5 ? ", ..." : "") + ")";
    return e;
  }
  return src;
}

// Downloaded bodies waiting for extraction. A fast registry (loopback, a LAN cache)
// outruns extraction; capping the wait keeps peak memory flat as lockfiles grow (the 10x
// synthetic lockfile peaked at 249 MB uncapped).
class Backlog {
 public:
  void add(size_t n) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return bytes_ < kMax; });
    bytes_ += n;
  }
  void remove(size_t n) {
    {
      std::lock_guard lk(mu_);
      bytes_ -= n;
    }
    cv_.notify_all();
  }

 private:
  static constexpr size_t kMax = 24u << 20;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t bytes_ = 0;
};

// The overlapped pass. Directories first; then, in parallel: every slot's symlinks and the
// import of stored packages (graph-only work, never waiting on the network), while the
// network thread streams missing tarballs into TBB tasks that verify, extract, commit to
// the store and import into their slot.
Result<void> fetch_and_link(const InstallPlan& plan, const Sources& src, const Settings& s, Store& store,
                            net::Fetcher* fetcher, int project_fd, Reporter& rep) {
  ErrorSink errs;
  errs.add_all(make_directories(plan, project_fd));
  if (!errs.empty()) return errs.merged("creating directories");

  tbb::task_group cold_tasks;
  Backlog backlog;
  for (const std::vector<size_t>& slots : src.downloads) {
    const PlannedPackage& first = plan.packages[slots.front()];
    net::Request req{first.tarball_url, s.authorization_for(first.tarball_url), first.snapshot->key.str()};
    fetcher->get(std::move(req), [&](Result<net::Body>&& body) {
      if (!body) return errs.add(body.error());
      rep.add_downloaded();
      backlog.add(body->size());  // blocks the network thread while extraction is far behind
      cold_tasks.run([&, b = std::make_shared<net::Body>(std::move(*body))] {
        struct Release {
          Backlog& backlog;
          size_t n;
          ~Release() { backlog.remove(n); }
        } release{backlog, b->size()};
        const PlannedPackage& p = plan.packages[slots.front()];
        auto staging = store.begin();
        if (!staging) return errs.add(staging.error());
        const Integrity* want = p.meta->integrity ? &*p.meta->integrity : nullptr;
        auto index = unpack_tarball(*b, want, staging->dir.fd(), p.snapshot->key.str());
        b->clear();
        b->shrink_to_fit();
        if (!index) {
          store.abort(*staging);
          return errs.add(index.error());
        }
        auto dir = store.commit(*staging, src.keys[slots.front()], *index);
        if (!dir) {
          store.abort(*staging);
          return errs.add(dir.error());
        }
        for (size_t i : slots) {
          if (auto r = import_package(dir->fd(), *index, project_fd, plan.packages[i]); !r) return errs.add(r.error());
          rep.add_added();
        }
      });
    });
  }

  tbb::parallel_for_each(plan.packages.begin(), plan.packages.end(), [&](const PlannedPackage& p) {
    if (auto r = link_slot(p, project_fd); !r) return errs.add(r.error());
    size_t i = static_cast<size_t>(&p - plan.packages.data());
    if (src.cold[i]) return;
    auto stored = store.load(src.keys[i]);
    if (!stored) return errs.add(stored.error());
    if (auto r = import_package(stored->dir.fd(), stored->index, project_fd, p); !r) return errs.add(r.error());
    rep.add_reused();
    rep.add_added();
  });
  errs.add_all(link_top_level(plan, project_fd));

  // While downloads run, this thread extracts too (TBB's other slot is one worker thread
  // on this 2-core machine); task_group::wait() returns as soon as the queue is empty.
  if (fetcher)
    while (!fetcher->wait_idle_for(std::chrono::milliseconds(2))) cold_tasks.wait();
  cold_tasks.wait();
  if (!errs.empty()) return errs.merged("fetching and linking packages");
  return {};
}

Result<void> write_state(const Inputs& in, const Parsed& parsed, const InstallPlan& plan, const InstallOptions& o) {
  const std::string nm = fs::join(in.project_dir, "node_modules");
  if (auto r = fs::write_file_atomic(fs::join(nm, ".pnpm/lock.yaml"), in.lockfile_text); !r) return r.error();
  if (auto r = fs::write_file_atomic(fs::join(nm, ".modules.yaml"), modules_yaml(plan, in.settings, o)); !r)
    return r.error();
  // Last: its presence says the tree is complete.
  return fs::write_file_atomic(fs::join(in.project_dir, kStateFile),
                               workspace_state(in.identity, in.project_dir, parsed.manifest.name, parsed.manifest.version));
}

// The files whose presence says "this node_modules is complete".
void remove_completion_markers(const std::string& project_dir) {
  ::unlink(fs::join(project_dir, kStateFile).c_str());
  ::unlink(fs::join(project_dir, "node_modules/.modules.yaml").c_str());
}

// Leaves nothing that looks complete: a fresh node_modules goes away entirely; an older
// one loses its completion markers, so the next run redoes the work.
void discard_partial(const std::string& project_dir, bool existed_before) {
  std::string nm = fs::join(project_dir, "node_modules");
  if (!existed_before) {
    (void)fs::remove_all(nm);
    return;
  }
  remove_completion_markers(project_dir);
}

template <class F>
auto timed(Reporter& r, const char* name, F&& f) {
  PassTimer t(r, name);
  return f();
}

}  // namespace

Result<void> install(const InstallOptions& o, Reporter& rep) {
  auto t0 = std::chrono::steady_clock::now();
  auto in = timed(rep, "read-inputs", [&] { return read_inputs(o); });
  if (!in) return in.error();
  if (timed(rep, "up-to-date-check", [&] { return up_to_date(*in); })) {
    rep.info("Lockfile is up to date, resolution step is skipped");
    rep.info("Already up to date");
    return {};
  }
  // With no store yet everything will be downloaded: connections open while the lockfile
  // is parsed. With a store, most installs are hot: the TLS context and 24 handshakes
  // would only take CPU from linking, so they wait for the store check.
  std::optional<net::Fetcher> fetcher;
  auto start_fetcher = [&] {
    if (fetcher || o.offline) return;
    fetcher.emplace(in->settings.network_concurrency);
    fetcher->preconnect(in->settings.registry);
  };
  if (!Store::exists(in->settings.store_dir)) start_fetcher();
  NodeProbe node(fs::join(Store::layout_dir(in->settings.store_dir), "host-node"));
  auto parsed = timed(rep, "parse-lockfile", [&] { return parse_inputs(*in); });
  if (!parsed) return parsed.error();
  if (auto r = timed(rep, "frozen-check", [&] { return check_frozen(*in, *parsed, o); }); !r) return r.error();

  PlanOptions popt;
  popt.include = Include{o.prod, o.dev, o.optional};
  popt.project_dir = in->project_dir;
  popt.node_version = [&] { return node.get(); };
  auto plan = timed(rep, "plan", [&] { return make_plan(parsed->lockfile, in->settings, popt); });
  if (!plan) return plan.error();
  rep.set_total(plan->packages.size());

  Store store(in->settings.store_dir);
  if (auto r = store.open(); !r) return r.error();
  auto sources = timed(rep, "store-check", [&] { return check_store(*plan, in->settings, store, o.offline); });
  if (!sources) return sources.error();
  if (sources->cold_count) start_fetcher();
  else fetcher.reset();  // hot: nothing to download

  const std::string nm = fs::join(in->project_dir, "node_modules");
  bool existed = fs::exists(nm);
  if (existed) remove_completion_markers(in->project_dir);
  auto project = fs::Dir::open(in->project_dir);
  if (!project) return project.error();

  auto result = [&]() -> Result<void> {
    if (auto r = timed(rep, "fetch-and-link", [&] {
          return fetch_and_link(*plan, *sources, in->settings, store, fetcher ? &*fetcher : nullptr, project->fd(), rep);
        });
        !r)
      return r.error();
    Errors bin_errs = timed(rep, "link-bins", [&] { return link_bins(*plan, project->fd(), in->project_dir); });
    if (!bin_errs.empty()) return bin_errs.items[0];
    return timed(rep, "write-state", [&] { return write_state(*in, *parsed, *plan, o); });
  }();
  if (!result) {
    discard_partial(in->project_dir, existed);
    return result.error();
  }
  rep.flush_progress(true);
  std::vector<AddedDependency> added;
  for (auto& d : plan->direct) added.push_back({std::string(group_field(d.group)), d.alias, d.version});
  rep.summary(added, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return {};
}

}  // namespace tarn
