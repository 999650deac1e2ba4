// CP932 (Windows-31J, Microsoft's Shift_JIS) ⇄ UTF-8, over the C library's iconv.
//
// The municipal systems export CP932; the hub works in UTF-8. CP932 rather than plain Shift_JIS
// matters: the exports contain NEC special characters (①, ㈱), IBM extension kanji (髙, 﨑) and the
// Microsoft mappings of 0x815F (＼) and 0x8160 (～) that a Shift_JIS converter rejects or maps
// differently.
//
// Each converter owns one iconv descriptor: cheap to reuse for every field of a file, not safe to
// share between threads. Convert one whole value per call; no state carries over between calls.
// This header deliberately does not include <iconv.h>, so users do not inherit its macros.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tsunagu::codec {

// True when every byte is below 0x80. ASCII means the same in CP932 and UTF-8, which is what
// makes the converters' fast path (a plain copy) correct.
bool is_ascii(std::string_view bytes) noexcept;

// "0x81 0x20": bytes as people read them in an error message.
std::string hex_bytes(std::string_view bytes);

class Cp932Decoder {
 public:
  // Throws std::system_error if the C library has no CP932 converter (a broken glibc-gconv
  // installation): better to fail when the adapter is created than on the first file.
  Cp932Decoder();
  ~Cp932Decoder();
  Cp932Decoder(Cp932Decoder&& other) noexcept;
  Cp932Decoder& operator=(Cp932Decoder&& other) noexcept;
  Cp932Decoder(const Cp932Decoder&) = delete;
  Cp932Decoder& operator=(const Cp932Decoder&) = delete;

  // Replaces `out` with the UTF-8 text of the CP932 bytes `in` and returns true. On an invalid or
  // incomplete byte sequence returns false, leaves in `out` what was decoded before it, and sets
  // `error` to the reason, the offending bytes and their 0-based offset in `in`, e.g.
  // "invalid CP932 byte sequence 0x81 0x20 at byte offset 12".
  bool decode(std::string_view in, std::string& out, std::string& error);

 private:
  void* descriptor_;  // iconv_t; (iconv_t)-1 only in a moved-from object
};

class Cp932Encoder {
 public:
  // Throws std::system_error if the C library has no CP932 converter.
  Cp932Encoder();
  ~Cp932Encoder();
  Cp932Encoder(Cp932Encoder&& other) noexcept;
  Cp932Encoder& operator=(Cp932Encoder&& other) noexcept;
  Cp932Encoder(const Cp932Encoder&) = delete;
  Cp932Encoder& operator=(const Cp932Encoder&) = delete;

  // Replaces `out` with the CP932 bytes of the UTF-8 text `in` and returns true. Returns false for
  // a character CP932 has no code for (e.g. "character U+1F600 at byte offset 4 has no CP932
  // encoding") or for invalid UTF-8, leaving in `out` what was encoded before it.
  //
  // Not every encoding round-trips: like Windows, glibc maps several Unicode characters onto one
  // CP932 code (U+301C 〜 and U+FF5E ～ both become 0x8160), and decoding yields the Microsoft one.
  bool encode(std::string_view in, std::string& out, std::string& error);

 private:
  void* descriptor_;  // iconv_t
};

}  // namespace tsunagu::codec
