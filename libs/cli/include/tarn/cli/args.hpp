#pragma once
// Command-line parsing: one table of options, one table of commands. Global options may
// come before the command, as pnpm allows (`tarn -C dir install`).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/core/error.hpp"

namespace tarn::cli {

struct OptionSpec {
  std::string_view long_name;  // "--store-dir"
  std::string_view short_name;  // "-C" or ""
  std::string_view value_name;  // "<dir>" when the option takes a value, "" for a flag
  std::string_view help;
  bool repeatable = false;  // every occurrence is kept (--filter a --filter b)
};

struct Args {
  std::string command;                      // "" when none was given
  std::vector<std::string> positionals;     // after the command
  std::map<std::string, std::string> values;  // long name -> (last) value ("" for flags)
  std::map<std::string, std::vector<std::string>> lists;  // repeatable options: every value, in order
  bool has(std::string_view long_name) const { return values.count(std::string(long_name)) > 0; }
  std::optional<std::string> value(std::string_view long_name) const;
  std::vector<std::string> all(std::string_view long_name) const;
};

// The options every command accepts.
const std::vector<OptionSpec>& option_table();

// Parses argv (without argv[0]). Everything after a command word that is not an option is
// a positional; after `--`, everything is. Usage errors (Code::Usage) read like pnpm's.
// `passthrough_after_command`: for run/exec, options after the first positional belong to
// the script and are kept as positionals.
Result<Args> parse_args(const std::vector<std::string_view>& argv, bool (*passthrough)(std::string_view command));

}  // namespace tarn::cli
