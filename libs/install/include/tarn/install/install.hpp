#pragma once
#include <optional>
#include <string>

#include "tarn/report/reporter.hpp"

namespace tarn {

struct InstallOptions {
  std::string dir = ".";
  bool frozen_lockfile = false;
  bool ignore_scripts = false;
  std::optional<std::string> store_dir;
  std::optional<std::string> registry;
  bool prod = true, dev = true, optional = true;
  bool offline = false, prefer_offline = false;
  size_t network_concurrency = 0;  // 0: from config
};

// The whole install; every failure comes back as one or more errors.
Result<void> install(const InstallOptions& opt, Reporter& reporter);

}  // namespace tarn
