// What the install tells the reporter beyond progress counts: pnpm's "Packages: +N -M"
// (against the slots of the last complete install, as pnpm diffs against its current
// lockfile) and the ndjson events pnpm logs around an install.
#include <boost/json.hpp>
#include <fmt/format.h>

#include <set>

#include "passes.hpp"
#include "tarn/linker/geometry.hpp"

namespace tarn {

namespace {

std::string esc(std::string_view s) { return Reporter::json_escape(s); }

}  // namespace

// pnpm 12.21's order: scope (install.cpp, before the up-to-date check), package-manifest,
// context, then the importing_started stage.
void report_start(InstallContext& cx) {
  Reporter& rep = cx.rep;
  if (rep.kind() != ReporterKind::Ndjson) return rep.start_progress(cx.root_dir);
  for (auto& p : cx.projects) {
    if (!p.this_run) continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(p.manifest_text, ec);
    if (!ec)
      rep.event("pnpm:package-manifest",
                fmt::format("\"prefix\":\"{}\",\"initial\":{}", esc(p.dir), boost::json::serialize(v)));
  }
  rep.event("pnpm:context", fmt::format("\"currentLockfileExists\":{},\"storeDir\":\"{}\",\"virtualStoreDir\":\"{}\"",
                                        fs::exists(fs::join(cx.root_dir, geometry::kLockCopy)) ? "true" : "false",
                                        esc(Store::layout_dir(cx.settings.store_dir)),
                                        esc(fs::join(cx.root_dir, geometry::kVirtualStore))));
  rep.start_progress(cx.root_dir);
}

void report_plan(InstallContext& cx) {
  Reporter& rep = cx.rep;
  rep.set_total(cx.plan.packages.size());
  if (rep.kind() != ReporterKind::Ndjson) return;
  std::string entries = std::to_string(cx.lockfile.snapshots.size());
  std::string path = esc(cx.lockfile_path);
  rep.event("pnpm:lockfile-verification", "\"status\":\"started\",\"entries\":" + entries + ",\"lockfilePath\":\"" + path + "\"");
  for (auto& p : cx.plan.packages) rep.resolved(p.snapshot->key.str());
  rep.event("pnpm:lockfile-verification",
            "\"status\":\"done\",\"entries\":" + entries + ",\"elapsedMs\":0,\"lockfilePath\":\"" + path + "\"");
  rep.event("pnpm:package-import-method", "\"method\":\"hardlink\"");
}

// Added and removed slots against the last complete install's (its workspace state
// records them, read before the install removed it).
void report_stats(InstallContext& cx) {
  std::set<std::string> before(cx.previous_slots.begin(), cx.previous_slots.end());
  size_t added = 0;
  for (auto& p : cx.plan.packages) added += before.erase(p.slot.str()) == 0;
  cx.rep.stats(added, before.size());
}

// After the summary's importing_done: pnpm's ignored-scripts, summary and execution-time.
void report_end(InstallContext& cx, long long started_ms) {
  if (cx.rep.kind() != ReporterKind::Ndjson) return;
  cx.rep.event("pnpm:ignored-scripts", "\"packageNames\":[]");
  cx.rep.event("pnpm:summary", fmt::format("\"prefix\":\"{}\"", esc(cx.root_dir)));
  long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  cx.rep.event("pnpm:execution-time", fmt::format("\"startedAt\":{},\"endedAt\":{}", started_ms, now));
}

}  // namespace tarn
