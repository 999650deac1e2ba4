#include "codec/cp932.hpp"

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include <iconv.h>

namespace tsunagu::codec {
namespace {

// iconv's own "no descriptor" value, (iconv_t)-1.
const iconv_t kNoDescriptor = reinterpret_cast<iconv_t>(-1);  // NOLINT(performance-no-int-to-ptr)
const std::size_t kIconvFailed = static_cast<std::size_t>(-1);

iconv_t open_descriptor(const char* to, const char* from) {
  iconv_t descriptor = iconv_open(to, from);
  if (descriptor == kNoDescriptor) {
    throw std::system_error(errno, std::generic_category(),
                            std::string("iconv cannot convert from ") + from + " to " + to +
                                " (are the glibc gconv modules installed?)");
  }
  return descriptor;
}

void close_descriptor(void* descriptor) noexcept {
  if (descriptor != kNoDescriptor) iconv_close(static_cast<iconv_t>(descriptor));
}

// Where and why a conversion stopped.
struct ConversionFailure {
  std::size_t offset = 0;  // of the first byte that could not be converted
  int error = 0;           // EILSEQ: invalid or unmappable; EINVAL: incomplete at the end
};

// Converts all of `in` into `out` (replacing it). `max_growth` bounds the output per input byte so
// that one iconv call nearly always suffices; E2BIG is still handled in case the bound is wrong.
bool convert(void* descriptor, std::string_view in, std::string& out, std::size_t max_growth,
             ConversionFailure& failure) {
  iconv_t cd = static_cast<iconv_t>(descriptor);
  // Both directions are stateless, but a previous failed call may have left a partial character
  // behind; resetting makes every call independent of the one before.
  iconv(cd, nullptr, nullptr, nullptr, nullptr);

  out.resize(in.size() * max_growth + 16);
  // iconv's interface is not const-correct; it never writes through the input pointer.
  char* in_ptr = const_cast<char*>(in.data());
  std::size_t in_left = in.size();
  std::size_t out_used = 0;
  while (in_left > 0) {
    char* out_ptr = out.data() + out_used;
    std::size_t out_left = out.size() - out_used;
    const std::size_t result = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    const int error = errno;
    out_used = out.size() - out_left;
    if (result != kIconvFailed) break;
    if (error == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    out.resize(out_used);
    failure.offset = in.size() - in_left;
    failure.error = error;
    return false;
  }
  out.resize(out_used);
  return true;
}

bool is_cp932_lead_byte(unsigned char byte) noexcept {
  return (byte >= 0x81 && byte <= 0x9F) || (byte >= 0xE0 && byte <= 0xFC);
}

// The bytes to show for a CP932 failure at `offset`: a lead byte with its trail byte, since it is
// usually the pair that is wrong (0x81 0x20), otherwise the single byte (0xA0, 0xFD, 0x80).
std::string_view cp932_offending_bytes(std::string_view in, std::size_t offset) {
  const auto byte = static_cast<unsigned char>(in[offset]);
  const std::size_t length = (is_cp932_lead_byte(byte) && offset + 1 < in.size()) ? 2 : 1;
  return in.substr(offset, length);
}

// Decodes one UTF-8 sequence strictly (no overlongs, surrogates or values above U+10FFFF).
// Returns its length, or 0 if the bytes at `offset` are not a valid sequence; `available` is then
// how many of them look like a sequence (the lead byte and the continuation bytes after it).
std::size_t decode_utf8_sequence(std::string_view in, std::size_t offset, char32_t& code_point,
                                 std::size_t& available) noexcept {
  const auto lead = static_cast<unsigned char>(in[offset]);
  std::size_t length = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    code_point = lead;
    available = 1;
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1F;
    minimum = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0F;
    minimum = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07;
    minimum = 0x10000;
  } else {
    available = 1;
    return 0;
  }
  available = 1;
  for (std::size_t i = 1; i < length; ++i) {
    if (offset + i >= in.size()) return 0;
    const auto next = static_cast<unsigned char>(in[offset + i]);
    if ((next & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (next & 0x3F);
    ++available;
  }
  if (code_point < minimum || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return length;
}

std::string code_point_name(char32_t code_point) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string hex;
  for (int shift = 20; shift >= 0; shift -= 4) {
    const char digit = kDigits[(code_point >> shift) & 0xF];
    if (!hex.empty() || digit != '0' || shift < 16) hex += digit;
  }
  return "U+" + hex;
}

}  // namespace

bool is_ascii(std::string_view bytes) noexcept {
  // OR-ing everything is branch-free and vectorises; inputs are field values, so scanning all of
  // a non-ASCII value costs nothing worth an early exit.
  unsigned char seen = 0;
  for (const char c : bytes) seen |= static_cast<unsigned char>(c);
  return seen < 0x80;
}

std::string hex_bytes(std::string_view bytes) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string text;
  text.reserve(bytes.size() * 5);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (!text.empty()) text += ' ';
    text += "0x";
    text += kDigits[byte >> 4];
    text += kDigits[byte & 0xF];
  }
  return text;
}

Cp932Decoder::Cp932Decoder() : descriptor_(open_descriptor("UTF-8", "CP932")) {}

Cp932Decoder::~Cp932Decoder() {
  close_descriptor(descriptor_);
}

Cp932Decoder::Cp932Decoder(Cp932Decoder&& other) noexcept
    : descriptor_(std::exchange(other.descriptor_, kNoDescriptor)) {}

Cp932Decoder& Cp932Decoder::operator=(Cp932Decoder&& other) noexcept {
  if (this != &other) {
    close_descriptor(descriptor_);
    descriptor_ = std::exchange(other.descriptor_, kNoDescriptor);
  }
  return *this;
}

bool Cp932Decoder::decode(std::string_view in, std::string& out, std::string& error) {
  if (is_ascii(in)) {
    out.assign(in);
    return true;
  }
  // The worst case is a half-width katakana: one CP932 byte, three UTF-8 bytes.
  ConversionFailure failure;
  if (convert(descriptor_, in, out, 3, failure)) return true;
  const std::string offset = std::to_string(failure.offset);
  if (failure.error == EINVAL) {
    error = "incomplete CP932 character " + hex_bytes(in.substr(failure.offset)) +
            " at the end (byte offset " + offset + ")";
  } else if (failure.error == EILSEQ) {
    error = "invalid CP932 byte sequence " + hex_bytes(cp932_offending_bytes(in, failure.offset)) +
            " at byte offset " + offset;
  } else {
    error = "CP932 conversion failed at byte offset " + offset + ": " +
            std::generic_category().message(failure.error);
  }
  return false;
}

Cp932Encoder::Cp932Encoder() : descriptor_(open_descriptor("CP932", "UTF-8")) {}

Cp932Encoder::~Cp932Encoder() {
  close_descriptor(descriptor_);
}

Cp932Encoder::Cp932Encoder(Cp932Encoder&& other) noexcept
    : descriptor_(std::exchange(other.descriptor_, kNoDescriptor)) {}

Cp932Encoder& Cp932Encoder::operator=(Cp932Encoder&& other) noexcept {
  if (this != &other) {
    close_descriptor(descriptor_);
    descriptor_ = std::exchange(other.descriptor_, kNoDescriptor);
  }
  return *this;
}

bool Cp932Encoder::encode(std::string_view in, std::string& out, std::string& error) {
  if (is_ascii(in)) {
    out.assign(in);
    return true;
  }
  // No UTF-8 sequence becomes more than two CP932 bytes, and those are at least two bytes long.
  ConversionFailure failure;
  if (convert(descriptor_, in, out, 1, failure)) return true;
  const std::string offset = std::to_string(failure.offset);
  char32_t code_point = 0;
  std::size_t available = 0;
  const std::size_t length = decode_utf8_sequence(in, failure.offset, code_point, available);
  if (length > 0) {
    // Valid UTF-8 that iconv refused: the character has no CP932 code (emoji, most non-Japanese
    // scripts, kanji outside JIS X 0208 and the IBM extensions).
    error = "character " + code_point_name(code_point) + " at byte offset " + offset +
            " has no CP932 encoding";
  } else if (failure.offset + available == in.size() && failure.error == EINVAL) {
    error = "incomplete UTF-8 sequence " + hex_bytes(in.substr(failure.offset)) +
            " at the end (byte offset " + offset + ")";
  } else {
    error = "invalid UTF-8 byte sequence " + hex_bytes(in.substr(failure.offset, available)) +
            " at byte offset " + offset;
  }
  return false;
}

}  // namespace tsunagu::codec
