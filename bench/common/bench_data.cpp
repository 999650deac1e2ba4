#include "bench_data.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <codec/cp932.hpp>

namespace tsunagu::bench {
namespace {

struct Name {
  const char* kanji;
  const char* kana;
};

// Common names; every combination is fictional.
constexpr std::array<Name, 40> kFamilies{{
    {"佐藤", "サトウ"},   {"鈴木", "スズキ"},     {"高橋", "タカハシ"}, {"田中", "タナカ"},
    {"伊藤", "イトウ"},   {"渡辺", "ワタナベ"},   {"山本", "ヤマモト"}, {"中村", "ナカムラ"},
    {"小林", "コバヤシ"}, {"加藤", "カトウ"},     {"吉田", "ヨシダ"},   {"山田", "ヤマダ"},
    {"佐々木", "ササキ"}, {"山口", "ヤマグチ"},   {"松本", "マツモト"}, {"井上", "イノウエ"},
    {"木村", "キムラ"},   {"林", "ハヤシ"},       {"斎藤", "サイトウ"}, {"清水", "シミズ"},
    {"山﨑", "ヤマザキ"}, {"森", "モリ"},         {"池田", "イケダ"},   {"橋本", "ハシモト"},
    {"阿部", "アベ"},     {"石川", "イシカワ"},   {"山下", "ヤマシタ"}, {"中島", "ナカジマ"},
    {"石井", "イシイ"},   {"小川", "オガワ"},     {"前田", "マエダ"},   {"岡田", "オカダ"},
    {"長谷川", "ハセガワ"}, {"藤田", "フジタ"},   {"後藤", "ゴトウ"},   {"近藤", "コンドウ"},
    {"村上", "ムラカミ"}, {"遠藤", "エンドウ"},   {"青木", "アオキ"},   {"髙田", "タカダ"},
}};

constexpr std::array<Name, 40> kGivens{{
    {"陽菜", "ヒナ"},   {"蓮", "レン"},     {"結衣", "ユイ"},   {"湊", "ミナト"},   {"芽依", "メイ"},
    {"大翔", "ヒロト"}, {"美咲", "ミサキ"}, {"陽翔", "ハルト"}, {"凛", "リン"},     {"悠真", "ユウマ"},
    {"葵", "アオイ"},   {"蒼", "ソウ"},     {"結菜", "ユイナ"}, {"樹", "イツキ"},   {"紬", "ツムギ"},
    {"湊斗", "ミナト"}, {"心愛", "ココア"}, {"颯太", "ソウタ"}, {"莉子", "リコ"},   {"大和", "ヤマト"},
    {"杏", "アン"},     {"朝陽", "アサヒ"}, {"美羽", "ミウ"},   {"陸", "リク"},     {"詩織", "シオリ"},
    {"翔太", "ショウタ"}, {"琴音", "コトネ"}, {"悠斗", "ユウト"}, {"咲良", "サクラ"}, {"拓海", "タクミ"},
    {"七海", "ナナミ"}, {"健太", "ケンタ"}, {"優奈", "ユウナ"}, {"亮", "リョウ"},   {"千尋", "チヒロ"},
    {"颯", "ハヤテ"},   {"花", "ハナ"},     {"一輝", "カズキ"}, {"美月", "ミヅキ"}, {"翼", "ツバサ"},
}};

constexpr std::array<std::string_view, 10> kWardNames{
    "中央区", "北区", "東区", "白石区", "豊平区", "南区", "西区", "厚別区", "手稲区", "清田区"};

constexpr std::array<std::string_view, 8> kRemarks{
    "",
    "家庭訪問時、児童不在。母は「祖母宅に預けている」と説明",
    "担当CW変更（CW0214→CW0588）",
    "保育所入所申請中",
    "学校からの情報：5月中旬～欠席が続く",
    "施設入所のため廃止, 6月分支給済",          // a comma: quoted
    "訪問2回目も児童確認できず。\n母「保育所に行っている」→保育所に照会、\"6月は登園なし\"との回答",
    "同一区内転居",
};

// Day number ↔ civil date (Howard Hinnant's algorithms, via <chrono>).
std::chrono::sys_days to_days(const Date& d) {
  return std::chrono::sys_days{std::chrono::year{d.y} / std::chrono::month{d.m} / std::chrono::day{d.d}};
}
Date from_days(std::chrono::sys_days days) {
  const std::chrono::year_month_day ymd{days};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day())};
}

struct EraOf {
  char letter;
  const char* kanji;
  int digit;
  int first_year;  // Gregorian year of 元年
};

EraOf era_of(const Date& d) {
  const auto days = to_days(d);
  if (days >= to_days({2019, 5, 1})) return {'R', "令和", 5, 2019};
  if (days >= to_days({1989, 1, 8})) return {'H', "平成", 4, 1989};
  if (days >= to_days({1926, 12, 25})) return {'S', "昭和", 3, 1926};
  throw std::invalid_argument("bench data: no dates before 昭和");
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Visits the code points of valid UTF-8 (the generator's own literals).
template <typename F>
void each_code_point(std::string_view s, F f) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    char32_t c = b;
    std::size_t n = 1;
    if (b >= 0xF0) {
      c = b & 0x07;
      n = 4;
    } else if (b >= 0xE0) {
      c = b & 0x0F;
      n = 3;
    } else if (b >= 0xC0) {
      c = b & 0x1F;
      n = 2;
    }
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) {
      c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    f(c);
    i += n;
  }
}

// Full-width katakana → the half-width form a mainframe writes (voiced marks as separate ﾞ ﾟ).
void append_half_width(std::string& out, char32_t c) {
  constexpr char32_t kDakuten = 0xFF9E, kHandakuten = 0xFF9F;
  if (c == 0x3000) {
    out += ' ';
  } else if (c >= 0x30A1 && c <= 0x30AA) {  // ァア…ォオ
    const char32_t k = c - 0x30A1;
    append_utf8(out, (k % 2 == 0 ? 0xFF67 : 0xFF71) + k / 2);
  } else if (c >= 0x30AB && c <= 0x30C2) {  // カガ…チヂ
    const char32_t k = c - 0x30AB;
    append_utf8(out, 0xFF76 + k / 2);
    if (k % 2 == 1) append_utf8(out, kDakuten);
  } else if (c == 0x30C3) {
    append_utf8(out, 0xFF6F);  // ッ
  } else if (c >= 0x30C4 && c <= 0x30C9) {  // ツヅテデトド
    const char32_t k = c - 0x30C4;
    append_utf8(out, 0xFF82 + k / 2);
    if (k % 2 == 1) append_utf8(out, kDakuten);
  } else if (c >= 0x30CA && c <= 0x30CE) {  // ナ…ノ
    append_utf8(out, 0xFF85 + (c - 0x30CA));
  } else if (c >= 0x30CF && c <= 0x30DD) {  // ハバパ…ホボポ
    const char32_t k = c - 0x30CF;
    append_utf8(out, 0xFF8A + k / 3);
    if (k % 3 == 1) append_utf8(out, kDakuten);
    if (k % 3 == 2) append_utf8(out, kHandakuten);
  } else if (c >= 0x30DE && c <= 0x30E2) {  // マ…モ
    append_utf8(out, 0xFF8F + (c - 0x30DE));
  } else if (c >= 0x30E3 && c <= 0x30E8) {  // ャヤュユョヨ
    const char32_t k = c - 0x30E3;
    append_utf8(out, (k % 2 == 0 ? 0xFF6C : 0xFF94) + k / 2);
  } else if (c >= 0x30E9 && c <= 0x30ED) {  // ラ…ロ
    append_utf8(out, 0xFF97 + (c - 0x30E9));
  } else if (c == 0x30EF) {
    append_utf8(out, 0xFF9C);  // ワ
  } else if (c == 0x30F2) {
    append_utf8(out, 0xFF66);  // ヲ
  } else if (c == 0x30F3) {
    append_utf8(out, 0xFF9D);  // ン
  } else if (c == 0x30F4) {
    append_utf8(out, 0xFF73);  // ヴ
    append_utf8(out, kDakuten);
  } else if (c == 0x30FC) {
    append_utf8(out, 0xFF70);  // ー
  } else {
    append_utf8(out, c);
  }
}

std::string two(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u", v % 100);
  return buf;
}

// RFC 4180: quote a field holding a comma, a quote or a line break; double the quotes.
std::string csv_field(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    if (c == '\n') {
      out += "\r\n";  // the export writes CRLF inside quoted fields too
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string json_string(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

std::string xml_text(std::string_view v) {
  std::string out;
  for (char c : v) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string cp932(codec::Cp932Encoder& encoder, std::string_view utf8) {
  std::string out, error;
  if (!encoder.encode(utf8, out, error)) throw std::runtime_error("bench data: " + error);
  return out;
}

// CP932 `text` padded with half-width spaces to exactly `width` bytes; cut at a character
// boundary if it is longer.
std::string fixed_text(codec::Cp932Encoder& encoder, std::string_view utf8, std::size_t width) {
  std::string bytes = cp932(encoder, utf8);
  if (bytes.size() > width) {
    std::size_t cut = 0;
    while (cut < bytes.size()) {
      const auto b = static_cast<unsigned char>(bytes[cut]);
      const std::size_t n = ((b >= 0x81 && b <= 0x9F) || (b >= 0xE0 && b <= 0xFC)) ? 2 : 1;
      if (cut + n > width) break;
      cut += n;
    }
    bytes.resize(cut);
  }
  bytes.append(width - bytes.size(), ' ');
  return bytes;
}

std::string zero_padded(std::uint64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llu", width, static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t persons_of(const GenOptions& o) {
  return o.persons != 0 ? o.persons : std::max<std::uint64_t>(1, o.records / 4);
}

constexpr Date kEventsFrom{2019, 5, 1};
constexpr Date kEventsTo{2024, 12, 31};

}  // namespace

Person person(std::uint64_t seed, std::uint64_t index) {
  Rng rng(seed * 0x100000001B3ULL ^ (index + 1) * 0x9E3779B97F4A7C15ULL);
  Person p;
  p.index = index;
  p.resident_id = zero_padded(100000000 + index, 10);
  const Name& family = kFamilies[rng.below(kFamilies.size())];
  const Name& given = kGivens[rng.below(kGivens.size())];
  p.family = family.kanji;
  p.family_kana = family.kana;
  p.given = given.kanji;
  p.given_kana = given.kana;
  p.birth = random_date(rng, {2005, 1, 1}, {2023, 12, 31});
  p.sex = rng.chance(50) ? 'M' : 'F';
  p.ward = static_cast<unsigned>(rng.below(10));
  p.household = index / 3;
  return p;
}

std::string ward_code(unsigned ward) { return "011" + two(ward + 1); }
std::string_view ward_name(unsigned ward) { return kWardNames[ward % kWardNames.size()]; }

std::string iso(const Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", d.y, d.m, d.d);
  return buf;
}

std::string compact(const Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u", d.y, d.m, d.d);
  return buf;
}

std::string era_letter(const Date& d, bool pad_year) {
  const EraOf e = era_of(d);
  const int year = d.y - e.first_year + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, pad_year ? "%c%02d.%02u.%02u" : "%c%d.%02u.%02u", e.letter, year,
                d.m, d.d);
  return buf;
}

std::string era_kanji(const Date& d) {
  const EraOf e = era_of(d);
  const int year = d.y - e.first_year + 1;
  return std::string(e.kanji) + (year == 1 ? std::string("元") : std::to_string(year)) + "年" +
         std::to_string(d.m) + "月" + std::to_string(d.d) + "日";
}

std::string era_digit(const Date& d) {
  const EraOf e = era_of(d);
  return std::to_string(e.digit) + two(static_cast<unsigned>(d.y - e.first_year + 1)) + two(d.m) +
         two(d.d);
}

std::string katakana_to_half_width(std::string_view full_width) {
  std::string out;
  each_code_point(full_width, [&](char32_t c) { append_half_width(out, c); });
  return out;
}

std::string katakana_to_hiragana(std::string_view katakana) {
  std::string out;
  each_code_point(katakana, [&](char32_t c) {
    append_utf8(out, (c >= 0x30A1 && c <= 0x30F6) ? c - 0x60 : c);
  });
  return out;
}

std::string kana_name(const Person& p, KanaStyle style) {
  switch (style) {
    case KanaStyle::full_width:
      return p.family_kana + "\u3000" + p.given_kana;
    case KanaStyle::half_width:
      return katakana_to_half_width(p.family_kana + " " + p.given_kana);
    case KanaStyle::hiragana:
      return katakana_to_hiragana(p.family_kana + " " + p.given_kana);
  }
  return {};
}

Date random_date(Rng& rng, Date from, Date to) {
  const auto a = to_days(from), b = to_days(to);
  const auto span = static_cast<std::uint64_t>((b - a).count() + 1);
  return from_days(a + std::chrono::days{static_cast<long>(rng.below(span))});
}

void write_public_assistance(std::ostream& out, const GenOptions& o) {
  codec::Cp932Encoder encoder;
  const std::uint64_t persons = persons_of(o);
  Rng rng(o.seed ^ 0x5041ULL);
  out << cp932(encoder,
               "処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,生年月日,性別,続柄,区コード,"
               "住所,担当CW,備考")
      << "\r\n";
  static constexpr std::array<const char*, 10> kKinds{"01", "02", "03", "03", "03",
                                                      "04", "05", "06", "06", "06"};
  static constexpr std::array<const char*, 4> kRoles{"子", "子", "世帯主", "妻"};
  std::string line;
  for (std::uint64_t n = 0; n < o.records; ++n) {
    const Person p = person(o.seed, rng.below(persons));
    const Date occurred = random_date(rng, kEventsFrom, kEventsTo);
    std::string occurred_text;
    switch (n % 3) {
      case 0: occurred_text = era_letter(occurred, n % 2 == 0); break;
      case 1: occurred_text = era_kanji(occurred); break;
      default: occurred_text = iso(occurred);
    }
    std::string birth_text;
    switch (rng.below(3)) {
      case 0: birth_text = era_letter(p.birth, false); break;
      case 1: birth_text = era_kanji(p.birth); break;
      default: birth_text = iso(p.birth);
    }
    const bool on_register = p.index % 12 != 11;
    const std::string_view remarks = rng.chance(70) ? "" : kRemarks[rng.below(kRemarks.size())];
    line.clear();
    line += "PA" + two(static_cast<unsigned>(o.seed)) + zero_padded(n + 1, 11) + ",1,";
    line += kKinds[rng.below(kKinds.size())];
    line += "," + occurred_text + "," + zero_padded(20000000 + p.household, 8) + ",";
    if (on_register) line += p.resident_id;
    line += "," + p.family + "\u3000" + p.given + ",";
    line += kana_name(p, rng.chance(50) ? KanaStyle::half_width : KanaStyle::full_width);
    line += "," + birth_text + "," + (p.sex == 'M' ? "1" : "2") + ",";
    line += kRoles[p.index % kRoles.size()];
    line += "," + ward_code(p.ward) + ",札幌市" + std::string(ward_name(p.ward)) + "北" +
            std::to_string(1 + p.index % 40) + "条西" + std::to_string(1 + p.index % 20) + "丁目" +
            std::to_string(1 + p.index % 9) + "-" + std::to_string(1 + p.index % 30);
    line += ",CW" + zero_padded(100 + p.index % 900, 4) + "," + csv_field(remarks);
    out << cp932(encoder, line) << "\r\n";
  }
}

void write_health_centre(std::ostream& out, const GenOptions& o) {
  struct Kind {
    const char* code;
    const char* observations;  // pre-rendered <entry> elements
  };
  static constexpr std::array<Kind, 12> kKinds{{
      {"PREGNANCY_NOTIFICATION", "EDD TS 20200115"},
      {"PREGNANCY_QUESTIONNAIRE", "NEED CD FINANCIAL|NEED CD ISOLATION"},
      {"PREGNANCY_QUESTIONNAIRE", "NEED CD NONE"},
      {"SPECIFIED_EXPECTANT_MOTHER", "EDD TS 20191120|NOTE ST 要支援ケース会議で判断"},
      {"HOME_VISIT", "RESULT CD COMPLETED"},
      {"HOME_VISIT", "RESULT CD UNREACHABLE|NOTE ST 不在。不在票を投函。"},
      {"INFANT_CHECKUP", "CHECKUP_TYPE CD 4M|RESULT CD ATTENDED"},
      {"INFANT_CHECKUP", "CHECKUP_TYPE CD 10M|RESULT CD ATTENDED"},
      {"INFANT_CHECKUP", "CHECKUP_TYPE CD 18M|RESULT CD CONCERN|NOTE ST 体重増加不良。3か月後に再健診。"},
      {"INFANT_CHECKUP", "CHECKUP_TYPE CD 36M|RESULT CD MISSED"},
      {"INFANT_CHECKUP", "CHECKUP_TYPE CD FOLLOWUP|RESULT CD ATTENDED"},
      {"PSYCH_CONSULT", "NOTE ST 産後の抑うつ症状。継続支援。"},
  }};
  const std::uint64_t persons = persons_of(o);
  Rng rng(o.seed ^ 0x4843ULL);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<HealthCentreExport xmlns=\"urn:sapporo:health-centre:export:1\" "
         "created=\"2019-06-05T23:30:12+09:00\">\n"
      << "  <!-- 健康管理システム 日次連携 (" << o.records << "件, bench seed " << o.seed << ") -->\n";
  std::string doc;
  for (std::uint64_t n = 0; n < o.records; ++n) {
    const Person p = person(o.seed, rng.below(persons));
    const Kind& kind = kKinds[n % kKinds.size()];
    const Date effective = random_date(rng, kEventsFrom, kEventsTo);
    doc.clear();
    doc += "  <ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
           "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n";
    doc += "    <id root=\"urn:sapporo:health-centre:record\" extension=\"HC-" +
           two(static_cast<unsigned>(o.seed)) + "-" + zero_padded(n + 1, 9) + "\"/>\n";
    doc += "    <versionNumber value=\"1\"/>\n";
    doc += std::string("    <code code=\"") + kind.code +
           "\" codeSystem=\"urn:sapporo:health-centre:doc-type\"/>\n";
    doc += "    <effectiveTime value=\"" + compact(effective) +
           (n % 3 == 0 ? two(static_cast<unsigned>(8 + n % 12)) + two(static_cast<unsigned>(n % 60)) +
                             "00+0900"
                       : std::string()) +
           "\"/>\n";
    doc += "    <recordTarget><patientRole>\n";
    if (p.index % 7 != 0) {
      doc += "      <id root=\"urn:sapporo:resident-id\" extension=\"" + p.resident_id + "\"/>\n";
    }
    if (n % 11 != 0) {
      doc += "      <addr><streetAddressLine>札幌市" + std::string(ward_name(p.ward)) + "北" +
             std::to_string(1 + p.index % 40) + "条西" + std::to_string(1 + p.index % 20) +
             "丁目</streetAddressLine></addr>\n";
    }
    doc += "      <patient>\n";
    doc += "        <name use=\"IDE\"><family>" + p.family + "</family><given>" + p.given +
           "</given></name>\n";
    if (p.index % 5 != 0) {
      doc += "        <name use=\"SYL\"><family>" + p.family_kana + "</family><given>" +
             p.given_kana + "</given></name>\n";
    }
    doc += std::string("        <administrativeGenderCode code=\"") + (p.sex == 'M' ? "1" : "2") +
           "\"/>\n";
    doc += "        <birthTime value=\"" + compact(p.birth) + "\"/>\n";
    doc += "      </patient>\n";
    doc += "      <providerOrganization><id root=\"urn:sapporo:ward\" extension=\"" +
           ward_code(p.ward) + "\"/></providerOrganization>\n";
    doc += "    </patientRole></recordTarget>\n";
    doc += "    <component><structuredBody><component><section>\n";
    std::string_view obs = kind.observations;
    while (!obs.empty()) {
      const std::size_t bar = obs.find('|');
      std::string_view one = obs.substr(0, bar);
      obs = bar == std::string_view::npos ? std::string_view{} : obs.substr(bar + 1);
      const std::size_t s1 = one.find(' '), s2 = one.find(' ', s1 + 1);
      const std::string code(one.substr(0, s1)), type(one.substr(s1 + 1, s2 - s1 - 1)),
          value(one.substr(s2 + 1));
      doc += "      <entry><observation classCode=\"OBS\" moodCode=\"EVN\">\n        <code code=\"" +
             code + "\"/>";
      if (type == "CD") {
        doc += "<value xsi:type=\"CD\" code=\"" + value + "\"/>";
      } else if (type == "TS") {
        doc += "<value xsi:type=\"TS\" value=\"" + value + "\"/>";
      } else {
        doc += "<value xsi:type=\"ST\">" + xml_text(value) + "</value>";
      }
      doc += "</observation></entry>\n";
    }
    doc += "    </section></component></structuredBody></component>\n  </ClinicalDocument>\n";
    out << doc;
  }
  out << "</HealthCentreExport>\n";
}

void write_child_guidance(std::ostream& out, const GenOptions& o) {
  static constexpr std::array<const char*, 5> kTypes{"report_received", "safety_confirmed",
                                                     "case_opened", "risk_changed", "case_closed"};
  static constexpr std::array<const char*, 5> kSources{"警察", "学校", "近隣住民", "保育所", "家族"};
  static constexpr std::array<const char*, 4> kNotes{
      "泣き声通告。近隣住民から110番、警察が臨場", "家庭訪問で本人を目視確認。外傷なし",
      "左頬にあざ。担任が確認、本人は「転んだ」と説明", "要保護児童対策地域協議会で継続支援"};
  const std::uint64_t persons = persons_of(o);
  Rng rng(o.seed ^ 0x4347ULL);
  std::string line;
  for (std::uint64_t n = 0; n < o.records; ++n) {
    const Person p = person(o.seed, rng.below(persons));
    const Date when = random_date(rng, kEventsFrom, kEventsTo);
    const char* type = kTypes[n % kTypes.size()];
    const bool has_risk = n % kTypes.size() != 1;
    line.clear();
    line += "{\"event_id\": \"CG-" + two(static_cast<unsigned>(o.seed)) + "-" +
            zero_padded(n + 1, 9) + "\", \"revision\": 1, \"type\": \"" + type +
            "\", \"occurred_at\": \"" + iso(when) + "T" + two(static_cast<unsigned>(rng.below(24))) +
            ":" + two(static_cast<unsigned>(rng.below(60))) + ":00+09:00\", \"child\": {\"resident_id\": ";
    line += p.index % 3 == 0 ? std::string("null") : "\"" + p.resident_id + "\"";
    line += ", \"name\": " + json_string(p.family + " " + p.given) +
            ", \"name_kana\": " + json_string(p.family_kana + " " + p.given_kana) +
            ", \"birth_date\": \"" + iso(p.birth) + "\", \"sex\": \"" + p.sex + "\"}";
    line += ", \"ward_code\": \"" + ward_code(p.ward) + "\", \"risk_level\": ";
    line += has_risk ? std::string("\"") + "ABCD"[rng.below(4)] + "\"" : std::string("null");
    line += ", \"report_source\": ";
    line += n % kTypes.size() == 0 ? json_string(kSources[rng.below(kSources.size())])
                                   : std::string("null");
    line += ", \"address\": " + json_string("札幌市" + std::string(ward_name(p.ward)) + "北" +
                                            std::to_string(1 + p.index % 40) + "条西" +
                                            std::to_string(1 + p.index % 20) + "丁目");
    line += ", \"note\": " + json_string(kNotes[rng.below(kNotes.size())]) + "}\n";
    out << line;
  }
}

void write_education(std::ostream& out, const GenOptions& o) {
  static constexpr std::array<std::string_view, 6> kEdRemarks{
      "", "5月20日から欠席継続。担任の家庭訪問に応答なし。", "不登校傾向。SC面談を設定。",
      "腕と背中にあざ複数。本人は「転んだ」と説明。", "①朝起きられない②腹痛の訴え。",
      "転出届なし。郵便物が返送、近隣の話では3月頃に転居。"};
  codec::Cp932Encoder encoder;
  const std::uint64_t persons = persons_of(o);
  Rng rng(o.seed ^ 0x4544ULL);
  std::string record;
  for (std::uint64_t n = 0; n < o.records; ++n) {
    const Person p = person(o.seed, rng.below(persons));
    const unsigned type = 1 + static_cast<unsigned>(rng.below(4));
    const Date reported = random_date(rng, kEventsFrom, kEventsTo);
    record.clear();
    record += two(type);
    record += "ED" + zero_padded(n + 1, 10);
    record += "01";
    record += era_digit(reported);
    record += p.index % 4 == 0 ? std::string(10, ' ') : p.resident_id;
    record += fixed_text(encoder, p.family + "\u3000" + p.given, 30);
    record += fixed_text(encoder, kana_name(p, KanaStyle::half_width), 30);
    record += era_digit(p.birth);
    record += p.sex == 'M' ? "1" : "2";
    record += zero_padded(100000 + p.index % 900000, 6);
    record += ward_code(p.ward);
    record += zero_padded(type == 1 ? 10 + rng.below(20) : 0, 3);
    record += fixed_text(encoder, kEdRemarks[rng.below(kEdRemarks.size())], 85);
    if (record.size() != 200) throw std::logic_error("bench data: education record is not 200 bytes");
    out << record << "\r\n";
  }
}

CaseEvent event_for(const Person& p, const std::string& source, std::uint64_t n,
                    bool with_resident_id, KanaStyle style, Rng& rng) {
  CaseEvent e;
  e.source = source;
  e.source_ref = source.substr(0, 2) + "-" + zero_padded(n, 10);
  e.source_version = 1;
  e.kind = source == "public_assistance" ? "welfare.member_added" : "cg.report_received";
  e.sensitivity = Sensitivity::special_care;
  const Date when = random_date(rng, kEventsFrom, kEventsTo);
  e.occurred_at = iso(when) + "T00:00:00+09:00";
  if (with_resident_id) e.subject.resident_id = p.resident_id;
  e.subject.name = p.family + "\u3000" + p.given;
  e.subject.name_kana = kana_name(p, style);
  e.subject.birth_date = iso(p.birth);
  e.subject.sex = std::string(1, p.sex);
  e.subject.ward_code = ward_code(p.ward);
  e.subject.address = "札幌市" + std::string(ward_name(p.ward)) + "北" +
                      std::to_string(1 + p.index % 40) + "条西" + std::to_string(1 + p.index % 20) +
                      "丁目";
  if (source == "public_assistance") {
    e.household.household_id = zero_padded(20000000 + p.household, 8);
    e.household.role = "子";
  }
  e.attributes["remarks"] = "bench";
  return e;
}

}  // namespace tsunagu::bench
