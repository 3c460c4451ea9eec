#pragma once
// The install's passes, in the order the driver runs them (install.cpp). One file each.
#include "context.hpp"

namespace tarn {

Result<void> read_inputs(InstallContext& cx);         // read_inputs.cpp
bool up_to_date(const InstallContext& cx);            // read_inputs.cpp
Result<void> load_lockfile_text(InstallContext& cx);  // read_inputs.cpp: after the up-to-date check
void compute_identity(InstallContext& cx);            // read_inputs.cpp: hash of what decides the tree
Result<void> select_importers(InstallContext& cx);    // select.cpp: --filter
Result<void> parse_inputs(InstallContext& cx);        // parse_inputs.cpp
Result<void> check_frozen(const InstallContext& cx);  // frozen_check.cpp
Result<void> resolve_lockfile(InstallContext& cx);    // resolve.cpp
Result<void> check_supported(const InstallContext& cx);  // frozen_check.cpp: refuse what tarn cannot do yet
Result<void> plan_layout(InstallContext& cx);         // plan_layout.cpp
Result<void> check_store(InstallContext& cx);         // store_check.cpp
Result<void> prune_links(InstallContext& cx);         // prune.cpp
Result<void> fetch_and_link(InstallContext& cx);      // fetch_and_link.cpp
Result<void> link_bin_shims(InstallContext& cx);      // fetch_and_link.cpp
Result<void> run_project_scripts(InstallContext& cx); // scripts.cpp
Result<void> write_state(const InstallContext& cx);   // write_state.cpp

// pnpm:fetching-progress for one tarball download (fetch_and_link.cpp): each attempt's
// response, and a big one's bytes as they arrive. Runs on the network thread.
std::shared_ptr<const net::Progress> download_progress(Reporter& rep, std::string_view id);

// Reporter events around the passes (report_events.cpp).
void report_start(InstallContext& cx);
void report_plan(InstallContext& cx);
void report_stats(InstallContext& cx);
void report_end(InstallContext& cx, long long started_ms);

// Leaves nothing that looks complete after a failure (write_state.cpp).
void discard_partial(const InstallContext& cx);
void remove_completion_markers(const std::string& root_dir);

}  // namespace tarn
