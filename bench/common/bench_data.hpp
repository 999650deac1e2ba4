// Deterministic, realistic inputs for the benchmarks: one city of fictional children and their
// families, and writers for every native format the hub ingests. The same seed always gives the
// same bytes (the generator has its own PRNG rather than <random>'s distributions, whose results
// differ between standard libraries).
//
// Person i is the same child in every format, so linking across systems has something to find:
// the 宛名番号 where the system carries one, otherwise the kana name (spelt the system's way) and
// the birth date.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <tsunagu/event.hpp>

namespace tsunagu::bench {

// splitmix64: tiny, fast, and identical on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool chance(unsigned percent) { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

struct Date {
  int y = 2019;
  unsigned m = 6, d = 5;
};

struct Person {
  std::uint64_t index = 0;
  std::string resident_id;   // 10 digits, unique per person
  std::string family, given;  // kanji
  std::string family_kana, given_kana;  // full-width katakana
  Date birth;
  char sex = 'F';           // 'M' or 'F'
  unsigned ward = 0;        // 0..9 → 01101..01110
  std::uint64_t household = 0;
};

// The person `index` of the city of `seed`.
Person person(std::uint64_t seed, std::uint64_t index);

std::string ward_code(unsigned ward);
std::string_view ward_name(unsigned ward);

// ISO 2019-06-05; era forms as the systems write them.
std::string iso(const Date& d);
std::string era_letter(const Date& d, bool pad_year);  // R1.06.05 / R01.06.05
std::string era_kanji(const Date& d);                   // 令和元年6月5日
std::string era_digit(const Date& d);                   // 5010605
std::string compact(const Date& d);                     // 20190605

// Kana spellings of one name.
enum class KanaStyle { full_width, half_width, hiragana };
// "イケダ　シオリ" (full-width space), "ｲｹﾀﾞ ｼｵﾘ", "いけだ しおり".
std::string kana_name(const Person& p, KanaStyle style);
std::string katakana_to_half_width(std::string_view full_width);
std::string katakana_to_hiragana(std::string_view katakana);

// A random day between two dates (inclusive), for event dates.
Date random_date(Rng& rng, Date from, Date to);

struct GenOptions {
  std::uint64_t seed = 1;
  std::uint64_t records = 1000;
  std::uint64_t persons = 0;  // 0: records / 4 (each child appears about four times)
};

// Writers. Each streams its records to `out` (memory does not grow with the count).
// public_assistance: PA_EVENTS_<date>.csv — CP932, CRLF, the 15-column header, RFC 4180 quoting
// (some 備考 hold commas, quotes and line breaks), all three date forms, half- and full-width kana.
void write_public_assistance(std::ostream& out, const GenOptions& options);
// health_centre: HC_<date>.xml — HealthCentreExport of CDA ClinicalDocuments, every document code.
void write_health_centre(std::ostream& out, const GenOptions& options);
// child_guidance: CG_<date>.ndjson — one JSON object per line; a third without resident_id.
void write_child_guidance(std::ostream& out, const GenOptions& options);
// education: ED_<date>.dat — 200-byte CP932 fixed-width records + CRLF, encoded with the hub's
// own codec (tsunagu::codec::Cp932Encoder).
void write_education(std::ostream& out, const GenOptions& options);

// A canonical event as a system would report person p (for benchmarks that drive the core
// libraries directly). `with_resident_id` false and a non-full-width `style` make the hard case
// for identity linking.
CaseEvent event_for(const Person& p, const std::string& source, std::uint64_t n,
                    bool with_resident_id, KanaStyle style, Rng& rng);

}  // namespace tsunagu::bench
