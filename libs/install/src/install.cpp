// The install driver: a table of contents of named passes over one InstallContext, each
// timed under its own name (--perf). Passes run in sequence and are parallel inside.
#include "tarn/install/install.hpp"

#include <malloc.h>

#include <chrono>

#include "passes.hpp"
#include "state.hpp"
#include "tarn/linker/geometry.hpp"

namespace tarn {

void InstallContext::start_fetcher() {
  if (fetcher || opts.offline) return;
  net::Fetcher::Options fo;
  fo.connections = settings.network_concurrency;
  fo.fetch_retries = settings.fetch_retries;
  fo.fetch_retry_factor = settings.fetch_retry_factor;
  fo.fetch_retry_mintimeout = std::chrono::milliseconds(settings.fetch_retry_mintimeout);
  fo.fetch_retry_maxtimeout = std::chrono::milliseconds(settings.fetch_retry_maxtimeout);
  fo.fetch_timeout = std::chrono::milliseconds(settings.fetch_timeout);
  // Packuments and tarballs share this one fetcher, so both go through the same proxy
  // and trust the same certificates.
  auto proxy = settings.proxy();
  fo.network = {proxy.https, proxy.http, proxy.no_proxy, settings.strict_ssl, settings.ca_certs()};
  fetcher.emplace(fo);
  fetcher->preconnect(settings.registry);
}

namespace {

template <class F>
auto timed(Reporter& r, const char* name, F&& f) {
  PassTimer t(r, name);
  return f();
}

// Everything after the plan writes into node_modules; a failure there leaves nothing
// that looks complete.
Result<void> write_tree(InstallContext& cx) {
  Reporter& rep = cx.rep;
  if (auto r = timed(rep, "prune", [&] { return prune_links(cx); }); !r) return r;
  if (auto r = timed(rep, "fetch-and-link", [&] { return fetch_and_link(cx); }); !r) return r;
  // pnpm reports "Packages: +N -M" (pnpm:stats) once every package is imported.
  report_stats(cx);
  if (auto r = timed(rep, "link-bins", [&] { return link_bin_shims(cx); }); !r) return r;
  if (auto r = timed(rep, "scripts", [&] { return run_project_scripts(cx); }); !r) return r;
  return timed(rep, "write-state", [&] { return write_state(cx); });
}

void report_summary(const InstallContext& cx, std::chrono::steady_clock::time_point t0) {
  cx.rep.flush_progress(true);
  std::vector<AddedDependency> added;
  for (auto& imp : cx.plan.importers)
    if (imp.id.is_root())
      for (auto& d : imp.direct) added.push_back({std::string(group_field(d.group)), d.alias.str(), d.version});
  cx.rep.summary(added, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// pnpm resolves when there is no lockfile, when it is out of date with a package.json or
// the settings it records, or when a command changes package.json; --frozen-lockfile (the
// default when CI is set) refuses instead.
Result<void> settle_lockfile(InstallContext& cx) {
  Reporter& rep = cx.rep;
  bool must = !cx.has_lockfile || cx.opts.change.kind != ManifestChange::Kind::None || cx.opts.lockfile_only;
  Result<void> frozen = must ? Result<void>() : timed(rep, "frozen-check", [&] { return check_frozen(cx); });
  if (!must && frozen) {
    rep.info("Lockfile is up to date, resolution step is skipped");
    return {};
  }
  if (cx.opts.frozen_lockfile) {
    if (!frozen) return frozen;
    return Error::failed(Code::OutdatedLockfile, "Cannot change " + cx.lockfile_path + " with \"frozen-lockfile\"");
  }
  return timed(rep, "resolve", [&] { return resolve_lockfile(cx); });
}

// A fixed mmap threshold: glibc otherwise raises it to the largest block freed (up to
// 32 MiB), so tarball and packument buffers land in the heap, fragment it and are never
// returned. Cold alotta-modules peak RSS 65.4-65.8 MB -> 56-59 MB at 256 KiB (55 MB at
// 128 KiB, 63 MB at 1 MiB), by GLIBC_TUNABLES on the same build.
void return_big_blocks() { mallopt(M_MMAP_THRESHOLD, 256 * 1024); }

// Resolution opened the store already, and its prefetch may still be writing to it.
Result<void> open_store(InstallContext& cx) {
  if (cx.store) return {};
  cx.store.emplace(cx.settings.store_dir);
  return cx.store->open();
}

}  // namespace

Result<void> install(const InstallOptions& o, Reporter& rep) {
  auto t0 = std::chrono::steady_clock::now();
  return_big_blocks();
  InstallContext cx(o, rep);
  long long started_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (auto r = timed(rep, "read-inputs", [&] { return read_inputs(cx); }); !r) return r;
  rep.scope(cx.selected_count, cx.projects.size(),
            fs::exists(fs::join(cx.root_dir, "pnpm-workspace.yaml")) ? cx.root_dir : std::string());
  if (cx.selected_count == 0) {  // a --filter that selects nothing: pnpm installs nothing
    rep.summary({}, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return {};
  }
  bool changing = o.change.kind != ManifestChange::Kind::None;
  if (!changing && !o.lockfile_only && timed(rep, "up-to-date-check", [&] { return up_to_date(cx); })) {
    rep.info("Lockfile is up to date, resolution step is skipped");
    rep.info("Already up to date");
    return {};
  }
  if (auto r = load_lockfile_text(cx); !r) return r;
  report_start(cx);
  // With no store yet everything will be downloaded: connections open while the lockfile
  // is parsed. With a store, most installs are hot: the TLS context and the handshakes
  // would only take CPU from linking, so they wait for the store check.
  if (!Store::exists(cx.settings.store_dir)) cx.start_fetcher();
  cx.node.emplace(fs::join(Store::layout_dir(cx.settings.store_dir), "host-node"));
  if (auto r = timed(rep, "parse-inputs", [&] { return parse_inputs(cx); }); !r) return r;
  if (auto r = settle_lockfile(cx); !r) return r;
  if (o.lockfile_only) return {};
  if (auto r = timed(rep, "supported-check", [&] { return check_supported(cx); }); !r) return r;
  if (auto r = timed(rep, "plan", [&] { return plan_layout(cx); }); !r) return r;
  if (auto r = open_store(cx); !r) return r;
  if (auto r = timed(rep, "store-check", [&] { return check_store(cx); }); !r) return r;
  if (cx.sources.cold_count) cx.start_fetcher();
  else if (!cx.prefetch) cx.fetcher.reset();  // hot: nothing to download

  cx.modules_existed = fs::exists(fs::join(cx.root_dir, geometry::kModules));
  if (cx.modules_existed) {
    PreviousInstall prev = previous_install(cx.root_dir);
    cx.pruned_at = std::move(prev.pruned_at);
    cx.previous_slots = std::move(prev.slots);
    remove_completion_markers(cx.root_dir);
  }
  auto root = fs::Dir::open(cx.root_dir);
  if (!root) return root.error();
  cx.root_fd = std::move(*root);
  if (auto r = write_tree(cx); !r) {
    rep.stop_progress();
    discard_partial(cx);
    return r;
  }
  report_summary(cx, t0);
  report_end(cx, started_ms);
  return {};
}

}  // namespace tarn
