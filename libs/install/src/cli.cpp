#include <fmt/format.h>

#include <cstring>
#include <string_view>

#include "tarn/install/install.hpp"

#ifndef TARN_VERSION
#define TARN_VERSION "0.0.0"
#endif

namespace tarn {

static const char* kHelp = R"(tarn: installs node_modules from pnpm-lock.yaml, as pnpm does

Usage: tarn install [options]      (alias: tarn i)
       tarn --version
       tarn help

Options:
      --frozen-lockfile     fail instead of resolving when the lockfile is out of date
      --store-dir <dir>     the content-addressable store to use
      --ignore-scripts      do not run lifecycle scripts (tarn runs none yet)
  -C, --dir <dir>           run in <dir> instead of the current directory
      --reporter <name>     default | append-only | ndjson | silent
  -P, --prod                install dependencies and optionalDependencies only
  -D, --dev                 install devDependencies only
      --no-optional         skip optionalDependencies
      --offline             use only the store; never touch the network
      --prefer-offline      use the store first (tarn always does)
      --registry <url>      the default registry
      --network-concurrency <n>  parallel downloads
      --perf                print how long each pass took
)";

int run_cli(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    fmt::print("{}", kHelp);
    return args.empty() ? 1 : 0;
  }
  if (args[0] == "--version" || args[0] == "-v" || args[0] == "version") {
    fmt::print("{}\n", TARN_VERSION);
    return 0;
  }
  if (args[0] != "install" && args[0] != "i") {
    fmt::print(stderr, "error: unrecognized subcommand '{}'\n\nFor more information, try 'tarn help'.\n", args[0]);
    return info(Code::Usage).exit_status;
  }
  InstallOptions opt;
  ReporterKind kind = ReporterKind::Default;
  bool perf = false;
  bool only_prod = false, only_dev = false;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    std::string_view value;
    bool has_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string_view::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto take = [&](std::string_view& out) {
      if (has_value) return out = value, true;
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string_view v;
    if (a == "--frozen-lockfile") opt.frozen_lockfile = true;
    else if (a == "--no-frozen-lockfile") opt.frozen_lockfile = false;
    else if (a == "--ignore-scripts") opt.ignore_scripts = true;
    else if (a == "--offline") opt.offline = true;
    else if (a == "--prefer-offline") opt.prefer_offline = true;
    else if (a == "--no-optional") opt.optional = false;
    else if (a == "-P" || a == "--prod" || a == "--production") only_prod = true;
    else if (a == "-D" || a == "--dev") only_dev = true;
    else if (a == "--perf") perf = true;
    else if (a == "--store-dir" && take(v)) opt.store_dir = std::string(v);
    else if (a == "--registry" && take(v)) opt.registry = std::string(v);
    else if ((a == "-C" || a == "--dir") && take(v)) opt.dir = std::string(v);
    else if (a == "--network-concurrency" && take(v)) opt.network_concurrency = std::strtoul(std::string(v).c_str(), nullptr, 10);
    else if (a == "--reporter" && take(v)) {
      if (!parse_reporter_kind(v, kind)) {
        fmt::print(stderr, "error: invalid value '{}' for '--reporter <REPORTER>' (default, append-only, ndjson, silent)\n", v);
        return info(Code::Usage).exit_status;
      }
    } else {
      fmt::print(stderr, "error: unexpected argument '{}' found\n", args[i]);
      return info(Code::Usage).exit_status;
    }
  }
  if (only_prod && !only_dev) opt.dev = false;
  if (only_dev && !only_prod) opt.prod = false, opt.optional = false;
  Reporter reporter(kind, perf);
  auto r = install(opt, reporter);
  reporter.print_perf();
  if (!r) {
    reporter.error(r.error());
    return 1;
  }
  return 0;
}

}  // namespace tarn
