#pragma once
// `store status`, as pnpm 12.21 runs it (its TypeScript storeStatus, which the Rust CLI
// calls): every package of the wanted lockfile that the last install did not skip, and that
// the store has, is compared file by file with what the store recorded when it imported
// it. pnpm checks the integrity and size its index records per file (dint.check); tarn the
// size and the CRC-32 of its sums file. A package is modified when a recorded file is
// missing from its node_modules directory, or differs in size or content; files added
// there do not count, a touched but unchanged file does not either. node_modules files are
// hard links to the store's blobs, so an edit changes both: only the record tells.
#include <string>
#include <vector>

#include "tarn/config/config.hpp"

namespace tarn {

struct StoreStatus {
  std::string store_dir;              // the store's layout directory (<store>/v3)
  std::vector<std::string> modified;  // lockfile keys ("c@1.1.0", peers included), lockfile order
  size_t checked = 0;                 // packages compared
};

// `dir`: where the command runs; its workspace root holds the lockfile. No lockfile, or no
// store: nothing to compare (pnpm prints "untouched" then too).
Result<StoreStatus> store_status(const std::string& dir, const CliOverrides& cli);

}  // namespace tarn
