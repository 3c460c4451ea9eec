#pragma once
// Hostile package bodies built by hand, for test_tarball and the e2e memory-limit runs:
// tar headers with any declared size (an 8 GB entry costs 512 bytes), gzip bombs built by
// repeating one deflate block (1 GiB of zeros in ~1 MB, in milliseconds), lying trailers.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace tarn::test::hostile {

using Bytes = std::vector<uint8_t>;

// One ustar header block. `type`: '0' file, '2' symlink, '1' hardlink, '5' dir, 'x' pax.
inline Bytes tar_header(const std::string& name, uint64_t size, char type = '0', const std::string& link = "") {
  Bytes h(512, 0);
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(reinterpret_cast<char*>(&h[100]), 8, "%07o", 0644);
  std::snprintf(reinterpret_cast<char*>(&h[108]), 8, "%07o", 0);
  std::snprintf(reinterpret_cast<char*>(&h[116]), 8, "%07o", 0);
  std::snprintf(reinterpret_cast<char*>(&h[124]), 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(reinterpret_cast<char*>(&h[136]), 12, "%011o", 0);
  h[156] = static_cast<uint8_t>(type);
  std::memcpy(&h[157], link.data(), std::min<size_t>(link.size(), 100));
  std::memcpy(&h[257], "ustar\0" "00", 8);
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (uint8_t c : h) sum += c;
  std::snprintf(reinterpret_cast<char*>(&h[148]), 8, "%06o", sum);
  return h;
}

// A header, its data and the padding to the next block.
inline void tar_file(Bytes& tar, const std::string& name, const std::string& data, char type = '0') {
  Bytes h = tar_header(name, data.size(), type);
  tar.insert(tar.end(), h.begin(), h.end());
  tar.insert(tar.end(), data.begin(), data.end());
  tar.resize((tar.size() + 511) / 512 * 512, 0);
}

inline void tar_end(Bytes& tar) { tar.resize(tar.size() + 1024, 0); }

inline Bytes gzip(const Bytes& data) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, data.size()) + 64);
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// gzip(prefix + `zero_mib` MiB of zeros), built without deflating the zeros: after 32 KiB
// of zeros, a sync-flushed deflate block of 1 MiB of zeros only refers back into zeros, so
// it can be repeated; the trailer's CRC and size are then computed for the whole.
inline Bytes gzip_then_zeros(const Bytes& prefix, uint64_t zero_mib) {
  const Bytes window(32 << 10, 0), mib(1 << 20, 0);
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  Bytes out;
  auto put = [&](const Bytes& in, int flush) {
    Bytes buf(deflateBound(&zs, in.size()) + 1024);
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = buf.data();
    zs.avail_out = static_cast<uInt>(buf.size());
    deflate(&zs, flush);
    buf.resize(buf.size() - zs.avail_out);
    return buf;
  };
  Bytes head = prefix;
  head.insert(head.end(), window.begin(), window.end());
  Bytes a = put(head, Z_SYNC_FLUSH), block = put(mib, Z_SYNC_FLUSH), fin = put({}, Z_FINISH);
  deflateEnd(&zs);
  out = a;
  for (uint64_t i = 0; i < zero_mib; ++i) out.insert(out.end(), block.begin(), block.end());
  out.insert(out.end(), fin.begin(), fin.end() - 8);  // the trailer is redone below
  uLong crc = crc32(0, head.data(), static_cast<uInt>(head.size()));
  uLong crc_mib = crc32(0, mib.data(), static_cast<uInt>(mib.size()));
  for (uint64_t i = 0; i < zero_mib; ++i) crc = crc32_combine(crc, crc_mib, 1 << 20);
  uint64_t total = head.size() + (zero_mib << 20);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(total >> (8 * i)));
  return out;
}

// A one-file package tar, ready for the cases below.
inline Bytes small_tar() {
  Bytes tar;
  tar_file(tar, "package/package.json", R"({"name":"evil","version":"1.0.0"})");
  return tar;
}

// Claims 3.75 GiB inflated in the gzip trailer (the size field only; the CRC is right).
inline Bytes lying_isize(uint32_t isize = 0xF0000000u) {
  Bytes tar = small_tar();
  tar_end(tar);
  Bytes gz = gzip(tar);
  for (int i = 0; i < 4; ++i) gz[gz.size() - 4 + i] = static_cast<uint8_t>(isize >> (8 * i));
  return gz;
}

// A header declaring an 8 GB file followed by a few real blocks: nothing near 8 GB exists.
inline Bytes declares_8gb() {
  Bytes tar = small_tar();
  Bytes h = tar_header("package/huge.bin", 8000000000ull);
  tar.insert(tar.end(), h.begin(), h.end());
  tar.resize(tar.size() + 4096, 0);
  return gzip(tar);
}

// A complete little package followed by 1.5 GiB of zeros inside the gzip stream.
inline Bytes zero_bomb(uint64_t zero_mib = 1536) {
  Bytes tar = small_tar();
  tar_end(tar);
  return gzip_then_zeros(tar, zero_mib);
}

inline Bytes html_page() {
  std::string s = "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>\n";
  return Bytes(s.begin(), s.end());
}

inline Bytes truncated_gzip() {
  Bytes tar = small_tar();
  tar_file(tar, "package/index.js", std::string(20000, 'x') + "module.exports = 1\n");
  tar_end(tar);
  Bytes gz = gzip(tar);
  gz.resize(gz.size() / 2);
  return gz;
}

}  // namespace tarn::test::hostile
