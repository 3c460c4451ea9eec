#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "hostile.hpp"
#include "tarn/fs/fs.hpp"
#include "tarn/tarball/tarball.hpp"
#include "testing.hpp"

using namespace tarn;
using test::TarEntry;
namespace hostile = test::hostile;
using Bytes = std::vector<uint8_t>;

namespace {

// Every case runs both ways: libdeflate into one small buffer, and zlib streaming.
constexpr uint64_t kWholeDefault = UnpackLimits{}.whole_buffer_max;
const uint64_t kModes[] = {kWholeDefault, 0};

Result<PackageIndex> unpack(const Bytes& body, const std::string& dir, UnpackLimits lim = {}) {
  auto d = fs::Dir::open(dir);
  REQUIRE(d);
  return unpack_tarball(body, nullptr, d->fd(), "evil@1.0.0", lim);
}

std::vector<std::string> file_list(const PackageIndex& idx) {
  std::vector<std::string> files;
  for (auto& e : idx.entries)
    if (!e.dir) files.push_back(e.path + (e.exec ? " x" : " -"));
  return files;
}

}  // namespace

TEST_CASE("tarball: verify, inflate and extract, dropping the top folder and keeping exec bits") {
  auto tgz = test::make_tgz({{"package/package.json", R"({"name":"a"})"},
                             {"package/bin/cli.js", "#!/usr/bin/env node\n", 0755},
                             {"package/lib/deep/x.js", "x"},
                             {"package/lib/", "", 0755, 'd'},
                             {"package/lib/inner-link", "deep/x.js", 0777, 'l'}});
  auto want = Integrity::parse(test::sri_sha512(tgz));
  REQUIRE(want);
  for (uint64_t whole : kModes) {
    CAPTURE(whole);
    test::TempDir t;
    auto d = fs::Dir::open(t.path());
    REQUIRE(d);
    auto idx = unpack_tarball(tgz, &*want, d->fd(), "a@1.0.0", {.whole_buffer_max = whole});
    REQUIRE(idx);
    // The symlink is dropped: pnpm stores regular files only.
    CHECK(file_list(*idx) == std::vector<std::string>{"package.json -", "bin/cli.js x", "lib/deep/x.js -"});
    // Stored flat, numbered by position among the files.
    CHECK(test::read_file(t.path() + "/" + PackageIndex::blob_name(2)) == "x");
    struct stat st;
    REQUIRE(::stat((t.path() + "/" + PackageIndex::blob_name(1)).c_str(), &st) == 0);
    CHECK((st.st_mode & 0111) != 0);
    CHECK(::stat((t.path() + "/lib").c_str(), &st) != 0);  // no directories in the store
  }
}

TEST_CASE("tarball: integrity mismatch names the package and both digests") {
  auto tgz = test::make_tgz({{"package/index.js", "1"}});
  auto other = Integrity::parse(test::sri_sha512(test::make_tgz({{"package/index.js", "2"}})));
  auto r = verify_integrity(tgz, *other, "left-pad@1.3.0");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Code::TarballIntegrity);
  CHECK(r.error().message.find("left-pad@1.3.0") != std::string::npos);
  CHECK(r.error().message.find(other->str()) != std::string::npos);
  CHECK(r.error().message.find(test::sri_sha512(tgz)) != std::string::npos);
}

TEST_CASE("tarball: bodies that are not plain gzip tars but are fine") {
  // A file bigger than several inflate chunks, with content that differs along its length.
  std::string big;
  for (int i = 0; big.size() < (3u << 20); ++i) big += std::to_string(i * 7919LL) + (i % 13 ? "," : "\n");
  Bytes tar;
  hostile::tar_file(tar, "package/package.json", "{}");
  hostile::tar_end(tar);
  struct Row {
    const char* name;
    Bytes body;
    std::vector<std::string> files;
  };
  Bytes trailing = hostile::gzip(tar);
  for (char c : std::string("\0\0garbage", 9)) trailing.push_back(static_cast<uint8_t>(c));
  Bytes split = hostile::gzip(Bytes(tar.begin(), tar.begin() + 512));
  Bytes rest = hostile::gzip(Bytes(tar.begin() + 512, tar.end()));
  split.insert(split.end(), rest.begin(), rest.end());
  Bytes zeros_pkg;  // ~1000x ratio: a ratio alone must not reject a package
  hostile::tar_file(zeros_pkg, "package/zeros.bin", std::string(24u << 20, '\0'));
  hostile::tar_end(zeros_pkg);
  for (auto& r : {Row{"plain tar, not gzipped", tar, {"package.json -"}},
                  Row{"tar split over two gzip members", split, {"package.json -"}},
                  Row{"bytes after the gzip stream that start no member (ignored, as Node does)", trailing,
                      {"package.json -"}},
                  Row{"a file spanning many chunks", hostile::gzip([&] {
                        Bytes t;
                        hostile::tar_file(t, "package/big.txt", big);
                        hostile::tar_end(t);
                        return t;
                      }()),
                      {"big.txt -"}},
                  Row{"24 MiB of zeros in 24 KiB", hostile::gzip(zeros_pkg), {"zeros.bin -"}}}) {
    for (uint64_t whole : kModes) {
      CAPTURE(r.name, whole);
      test::TempDir t;
      auto idx = unpack(r.body, t.path(), {.whole_buffer_max = whole});
      REQUIRE(idx);
      CHECK(file_list(*idx) == r.files);
      if (r.files[0] == "big.txt -") CHECK(test::read_file(t.path() + "/0") == big);
      if (r.files[0] == "zeros.bin -") CHECK(std::filesystem::file_size(t.path() + "/0") == (24u << 20));
    }
  }
}

namespace {

struct Hostile {
  const char* name;
  Bytes body;
  Code code;
  const char* says;  // part of the message
  UnpackLimits limits = {};
};

std::vector<Hostile> hostile_cases(const std::string& outside) {
  using hostile::tar_file;
  Bytes many;
  for (int i = 0; i < 20; ++i) tar_file(many, "package/f" + std::to_string(i), "x");
  hostile::tar_end(many);
  Bytes sum;  // each entry under the per-entry cap, together over the total
  tar_file(sum, "package/a.bin", std::string(600 << 10, 'a'));
  tar_file(sum, "package/b.bin", std::string(600 << 10, 'b'));
  hostile::tar_end(sum);
  Bytes names;  // GNU long-name headers (each under libarchive's 1 MiB limit) are no entries
  for (int i = 0; i < 3; ++i) {
    Bytes h = hostile::tar_header("././@LongLink", 1000 << 10, 'L');
    names.insert(names.end(), h.begin(), h.end());
    names.resize(names.size() + (1000 << 10), 'a');
    names.back() = 0;
  }
  tar_file(names, "package/x.js", "x");
  hostile::tar_end(names);
  auto tgz = [](std::vector<TarEntry> e) { return test::make_tgz(e); };
  // The small lying trailers below are believed by the whole-buffer path (<= 64x the body).
  CHECK(hostile::lying_isize(4096).size() * 64 >= 4096);
  std::string ctl = "package/\x1b[31mred/../../x";
  return {
      {"dot-dot path", tgz({{"package/ok.js", "ok"}, {"package/../../etc/x", "evil"}}), Code::TarballExtract, "leaves"},
      {"absolute path", tgz({{"package/ok.js", "ok"}, {"/etc/x", "evil"}}), Code::TarballExtract, "leaves"},
      {"top-level dot-dot", tgz({{"../x", "evil"}}), Code::TarballExtract, "\"../x\" leaves"},
      {"control bytes in a name", tgz({{ctl, "evil"}}), Code::TarballExtract, "\\x1b[31mred"},
      {"symlink outside", tgz({{"package/link", "../../outside", 0777, 'l'}}), Code::TarballExtract, "points outside"},
      {"absolute symlink", tgz({{"package/link", "/etc/passwd", 0777, 'l'}}), Code::TarballExtract, "points outside"},
      {"hardlink outside", tgz({{"package/hl", "../x", 0644, 'h'}}), Code::TarballExtract, "points outside"},
      {"symlink to a dir outside, then a file through it",
       tgz({{"package/d", outside, 0777, 'l'}, {"package/d/x", "evil"}}), Code::TarballExtract, "points outside"},
      {"relative symlink to a dir outside, then a file through it",
       tgz({{"package/d", "../..", 0777, 'l'}, {"package/d/x", "evil"}}), Code::TarballExtract, "points outside"},
      {"gzip bomb: 64 MiB of zeros after the archive", hostile::zero_bomb(64), Code::TarballTooLarge, "follow the end"},
      {"entries adding up over the cap", hostile::gzip(sum), Code::TarballTooLarge, "add up to more than",
       {.max_unpacked = 1 << 20}},
      {"declared 8 GB entry", hostile::declares_8gb(), Code::TarballTooLarge, "\"package/huge.bin\" declares 8000000000"},
      {"too many entries", hostile::gzip(many), Code::TarballTooLarge, "more than 10 entries", {.max_entries = 10}},
      {"long-name headers that are no entries: the stream cap", hostile::gzip(names), Code::TarballTooLarge, "inflates to more",
       {.max_unpacked = 1 << 20, .max_entries = 10}},
      {"lying ISIZE: 3.75 GiB", hostile::lying_isize(), Code::TarballExtract, "incorrect length check"},
      {"lying ISIZE, small: libdeflate's buffer too small, then zlib", hostile::lying_isize(1000),
       Code::TarballExtract, "incorrect length check"},
      {"lying ISIZE, small: libdeflate's output short of it, then zlib", hostile::lying_isize(4096),
       Code::TarballExtract, "incorrect length check"},
      {"HTML page instead of a tarball", hostile::html_page(), Code::TarballExtract,
       "neither gzip nor tar; it starts with \"<html><head><title>502"},
      {"truncated gzip", hostile::truncated_gzip(), Code::TarballExtract, "ends too early"},
      {"empty body", {}, Code::TarballExtract, "empty"},
      {"corrupt gzip", {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Code::TarballExtract,
       "gzip data"},
  };
}

}  // namespace

TEST_CASE("tarball: hostile bodies are refused with their code, naming the package") {
  test::TempDir outside;
  for (auto& c : hostile_cases(outside.path())) {
    for (uint64_t whole : kModes) {
      CAPTURE(c.name, whole);
      test::TempDir t;
      UnpackLimits lim = c.limits;
      lim.whole_buffer_max = whole;
      auto idx = unpack(c.body, t.path(), lim);
      REQUIRE_FALSE(idx);
      INFO(idx.error().message);
      CHECK(idx.error().code == c.code);
      CHECK(idx.error().message.find("failed to unpack evil@1.0.0: ") == 0);
      CHECK(idx.error().message.find(c.says) != std::string::npos);
      CHECK(idx.error().message.find('\x1b') == std::string::npos);
      CHECK_FALSE(fs::exists(outside.path() + "/x"));
      CHECK_FALSE(fs::exists("/etc/x"));
    }
  }
}

namespace {

// A body handed over `piece` bytes at a time, as network reads bring it; with `cut_at`,
// the source fails there, as a download cut off mid-body does.
class PieceSource final : public ByteSource {
 public:
  PieceSource(const Bytes& b, size_t piece, size_t cut_at = SIZE_MAX) : body_(b), piece_(piece), cut_(cut_at) {}
  Result<std::span<const uint8_t>> next() override {
    if (at_ >= cut_) return Error::failed(Code::FetchFailed, "failed to fetch evil@1.0.0: connection reset");
    size_t n = std::min({piece_, body_.size() - at_, cut_ - at_});
    std::span<const uint8_t> s(body_.data() + at_, n);
    at_ += n;
    return s;
  }
  size_t pulled() const { return at_; }

 private:
  const Bytes& body_;
  size_t piece_, cut_, at_ = 0;
};

Result<PackageIndex> unpack_pieces(const Bytes& body, const std::string& dir, size_t piece, UnpackLimits lim = {},
                                   const Integrity* want = nullptr) {
  auto d = fs::Dir::open(dir);
  REQUIRE(d);
  PieceSource src(body, piece);
  return unpack_tarball_stream(src, want, d->fd(), "evil@1.0.0", lim);
}

}  // namespace

// A download streamed into the unpacker arrives in reads of any size, the first one
// included (fewer than the two bytes that tell gzip from tar).
TEST_CASE("tarball: streamed in pieces, bodies unpack as they do from memory, and hostile ones fail the same") {
  const size_t pieces[] = {1, 7, 4093, 65536};
  Bytes tar;
  hostile::tar_file(tar, "package/package.json", "{}");
  hostile::tar_file(tar, "package/lib/a.js", std::string(300000, 'a'));
  hostile::tar_end(tar);
  for (const Bytes& body : {hostile::gzip(tar), tar}) {
    for (size_t piece : pieces) {
      CAPTURE(piece, body.size());
      test::TempDir mem, streamed;
      auto want = unpack(body, mem.path());
      auto got = unpack_pieces(body, streamed.path(), piece);
      REQUIRE(want);
      REQUIRE(got);
      CHECK(file_list(*got) == file_list(*want));
      CHECK(test::read_file(streamed.path() + "/1") == test::read_file(mem.path() + "/1"));
    }
  }
  test::TempDir outside;
  for (auto& c : hostile_cases(outside.path())) {
    for (size_t piece : pieces) {
      if (piece == 1 && c.body.size() > (64u << 10)) continue;  // a byte per pull: slow, and covered by 7
      CAPTURE(c.name, piece);
      test::TempDir t;
      auto idx = unpack_pieces(c.body, t.path(), piece, c.limits);
      REQUIRE_FALSE(idx);
      INFO(idx.error().message);
      CHECK(idx.error().code == c.code);
      CHECK(idx.error().message.find(c.says) != std::string::npos);
      CHECK_FALSE(fs::exists(outside.path() + "/x"));
    }
  }
}

TEST_CASE("tarball: a streamed body is checked against its integrity once it has ended") {
  auto tgz = test::make_tgz({{"package/index.js", "1"}, {"package/package.json", "{}"}});
  auto right = Integrity::parse(test::sri_sha512(tgz));
  auto wrong = Integrity::parse(test::sri_sha512(test::make_tgz({{"package/index.js", "2"}})));
  Bytes trailing = tgz;  // bytes after the gzip stream count toward the digest
  trailing.push_back(0);
  Bytes cut(tgz.begin(), tgz.begin() + static_cast<std::ptrdiff_t>(tgz.size() / 2));
  struct Row {
    const char* name;
    const Bytes& body;
    const Integrity* want;
    size_t cut_at;
    std::optional<Code> fails;  // nullopt: unpacks
  };
  for (auto& r : {Row{"the right digest", tgz, &*right, SIZE_MAX, std::nullopt},
                  Row{"no digest to check", tgz, nullptr, SIZE_MAX, std::nullopt},
                  Row{"another package's digest", tgz, &*wrong, SIZE_MAX, Code::TarballIntegrity},
                  Row{"the right digest, one byte more", trailing, &*right, SIZE_MAX, Code::TarballIntegrity},
                  Row{"a truncated body is reported by its digest, as from memory", cut, &*right, SIZE_MAX,
                      Code::TarballIntegrity},
                  Row{"a download cut off: the source's error", tgz, &*right, tgz.size() - 5, Code::FetchFailed},
                  Row{"cut off in the header bytes", tgz, &*right, 1, Code::FetchFailed}}) {
    CAPTURE(r.name);
    test::TempDir t;
    auto d = fs::Dir::open(t.path());
    REQUIRE(d);
    PieceSource src(r.body, 3, r.cut_at);
    auto idx = unpack_tarball_stream(src, r.want, d->fd(), "left-pad@1.3.0", {});
    CHECK(idx.has_value() == !r.fails);
    if (r.fails) {
      CHECK(idx.error().code == *r.fails);
      CHECK(idx.error().message.find(*r.fails == Code::FetchFailed ? "evil@1.0.0" : "left-pad@1.3.0") != std::string::npos);
    } else {
      CHECK(file_list(*idx) == std::vector<std::string>{"index.js -", "package.json -"});
      CHECK(src.pulled() == r.body.size());  // read to the end, digest or not
    }
  }
}

TEST_CASE("tarball: the declared-size checks come before any data is written") {
  test::TempDir t;
  auto idx = unpack(hostile::declares_8gb(), t.path(), {.whole_buffer_max = 0});
  REQUIRE_FALSE(idx);
  CHECK(idx.error().code == Code::TarballTooLarge);
  CHECK(fs::exists(t.path() + "/0"));       // package.json, before it
  CHECK_FALSE(fs::exists(t.path() + "/1"));  // huge.bin never opened
}

// Not a test: TARN_BENCH_TGZ="a.tgz b.tgz" test_tarball "[.bench]" prints the best time of
// whole-buffer libdeflate and of zlib streaming, each including the blob writes, into
// TARN_BENCH_DIR (e.g. /dev/shm, so the filesystem is not what is measured).
static double cpu_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST_CASE("tarball: bench whole-buffer against streaming", "[.bench]") {
  const char* list = std::getenv("TARN_BENCH_TGZ");
  const char* dir = std::getenv("TARN_BENCH_DIR");
  if (!list) return;
  std::istringstream in(list);
  for (std::string path; in >> path;) {
    std::string s = test::read_file(path);
    Bytes body(s.begin(), s.end());
    for (uint64_t whole : {uint64_t{1} << 40, kWholeDefault, uint64_t{0}}) {
      constexpr int kRuns = 30;
      double best = 1e9;
      uint64_t tar = 0;
      for (int i = 0; i < kRuns; ++i) {
        std::string d = std::string(dir ? dir : "/tmp") + "/tarn-bench-" + std::to_string(i);
        std::filesystem::create_directories(d);
        // CPU time of this thread: the machine is shared, wall time swings 2x between runs.
        auto t0 = cpu_ms();
        auto idx = unpack(body, d, {.whole_buffer_max = whole});
        double ms = cpu_ms() - t0;
        REQUIRE(idx);
        tar = 0;
        for (auto& e : std::filesystem::directory_iterator(d)) tar += e.file_size();
        std::filesystem::remove_all(d);
        best = std::min(best, ms);
      }
      std::printf("%-28s %-12s body %6.2f MB  files %6.2f MB  %8.2f ms  %6.2f ms/MB-of-files\n",
                  std::filesystem::path(path).filename().c_str(), whole == kWholeDefault ? "default" : whole ? "whole-buffer" : "streaming", body.size() / 1e6,
                  tar / 1e6, best, best / (tar / 1e6));
    }
  }
}
