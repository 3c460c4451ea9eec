// libFuzzer harness for the config readers: the input is read both as an .npmrc
// (tarn::apply_npmrc) and as a pnpm-workspace.yaml (tarn::apply_workspace_yaml), each into
// fresh default Settings. Neither may throw or crash; what they produce must keep the
// invariants the install relies on (absolute store dir, registries ending in '/', at least
// one connection, a usable slot-name length) and the derived strings must be computable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tarn/config/config.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_settings(const tarn::Settings& s) {
  check(s.store_dir.empty() || s.store_dir[0] == '/');
  // An empty value stays empty (the fetch then reports a bad URL); anything else ends in '/'.
  check(s.registry.empty() || s.registry.back() == '/');
  for (auto& [scope, url] : s.scoped_registries) check(url.empty() || url.back() == '/');
  check(s.network_concurrency >= 1);
  check(s.virtual_store_dir_max_length >= 40);
  // The derived strings the install computes from these settings.
  (void)s.fingerprint();
  (void)s.authorization_for(s.registry);
  tarn::Matcher(s.hoist_pattern).matches("@scope/name");
  tarn::Matcher(s.public_hoist_pattern).matches("eslint");
}

tarn::Settings fresh() {
  tarn::Settings s;
  s.project_dir = "/fuzz/project";
  s.store_dir = "/fuzz/store";
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  tarn::Settings rc = fresh();
  tarn::apply_npmrc(rc, in, "/fuzz/project");
  check_settings(rc);

  tarn::Settings ws = fresh();
  auto r = tarn::apply_workspace_yaml(ws, in, "/fuzz/project/pnpm-workspace.yaml");
  if (!r) check(r.error().message.find("pnpm-workspace.yaml") != std::string::npos);
  check_settings(ws);
  return 0;
}
