#include "tarn/cli/args.hpp"

namespace tarn::cli {

std::optional<std::string> Args::value(std::string_view long_name) const {
  auto it = values.find(std::string(long_name));
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Args::all(std::string_view long_name) const {
  auto it = lists.find(std::string(long_name));
  return it == lists.end() ? std::vector<std::string>{} : it->second;
}

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> t = {
      {"--frozen-lockfile", "", "", "fail instead of resolving when the lockfile is out of date"},
      {"--no-frozen-lockfile", "", "", "resolve an out-of-date lockfile even when CI is set"},
      {"--lockfile-only", "", "", "resolve and write pnpm-lock.yaml; leave node_modules alone"},
      {"--save-dev", "", "", "add: save to devDependencies (also -D)"},
      {"--save-prod", "", "", "add: save to dependencies (also -P)"},
      {"--save-optional", "-O", "", "add: save to optionalDependencies"},
      {"--save-exact", "-E", "", "add: save the exact version, not a ^ range"},
      {"--save-peer", "", "", "add: also save to peerDependencies"},
      {"--latest", "-L", "", "update: move ranges to the newest version"},
      {"--store-dir", "", "<dir>", "the content-addressable store to use"},
      {"--ignore-scripts", "", "", "run no lifecycle scripts"},
      {"--ignore-pnpmfile", "", "", "disregard .pnpmfile.cjs (tarn runs no pnpmfile hooks)"},
      {"--dir", "-C", "<dir>", "run as if started in <dir>"},
      {"--reporter", "", "<name>", "default | append-only | ndjson | silent"},
      {"--prod", "-P", "", "install dependencies and optionalDependencies only"},
      {"--production", "", "", "same as --prod"},
      {"--dev", "-D", "", "install devDependencies only"},
      {"--no-optional", "", "", "skip optionalDependencies"},
      {"--offline", "", "", "use only the store; never touch the network"},
      {"--prefer-offline", "", "", "use the store first (tarn always does)"},
      {"--registry", "", "<url>", "the default registry"},
      {"--network-concurrency", "", "<n>", "parallel downloads"},
      {"--recursive", "-r", "", "every project of the workspace (run and exec: but its root)"},
      {"--filter", "-F", "<selector>", "select workspace projects: name, name..., ...name, ./dir, {dir}, !sel", true},
      {"--filter-prod", "", "<selector>", "like --filter, following production dependencies only", true},
      {"--no-bail", "", "", "run and exec -r: keep going after a project fails"},
      {"--workspace-concurrency", "", "<n>", "run and exec -r: projects at a time (default min(4, cores))"},
      {"--silent", "-s", "", "print nothing but errors"},
      {"--loglevel", "", "<level>", "debug | info | warn | error"},
      {"--perf", "", "", "print how long each pass took"},
      {"--help", "-h", "", "print help"},
      {"--version", "-v", "", "print the version"},
  };
  return t;
}

namespace {

const OptionSpec* find_option(std::string_view name) {
  for (auto& o : option_table())
    if (o.long_name == name || (!o.short_name.empty() && o.short_name == name)) return &o;
  return nullptr;
}

Error usage(std::string msg) { return Error::failed(Code::Usage, std::move(msg)); }

// One option at argv[i]; advances i past its value.
Result<void> take_option(const std::vector<std::string_view>& argv, size_t& i, Args& out) {
  std::string_view a = argv[i], value;
  bool inline_value = false;
  if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string_view::npos) {
    value = a.substr(eq + 1), a = a.substr(0, eq), inline_value = true;
  }
  const OptionSpec* spec = find_option(a);
  if (!spec) return usage("unexpected argument '" + printable(argv[i]) + "' found");
  std::string key(spec->long_name);
  if (spec->value_name.empty()) {
    if (inline_value) return usage("unexpected value '" + printable(value) + "' for '" + key + "' found");
    out.values[key] = "";
    return {};
  }
  if (!inline_value) {
    if (i + 1 >= argv.size() || (argv[i + 1].size() > 1 && argv[i + 1][0] == '-'))
      return usage("a value is required for '" + key + " " + std::string(spec->value_name) +
                   "' but none was supplied");
    value = argv[++i];
  }
  out.values[key] = std::string(value);
  if (spec->repeatable) out.lists[key].emplace_back(value);
  return {};
}

}  // namespace

Result<Args> parse_args(const std::vector<std::string_view>& argv, bool (*passthrough)(std::string_view)) {
  Args out;
  bool rest = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    bool script_args = !out.command.empty() && !out.positionals.empty() && passthrough && passthrough(out.command);
    if (rest || script_args || a.empty() || a[0] != '-' || a == "-") {
      if (!rest && out.command.empty()) out.command = std::string(a);
      else out.positionals.emplace_back(a);
      continue;
    }
    if (a == "--") {
      rest = true;
      continue;
    }
    if (auto r = take_option(argv, i, out); !r) return r.error();
  }
  return out;
}

}  // namespace tarn::cli
