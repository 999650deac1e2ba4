// Makes the hub under test route one notice the way production would: public-assistance CSV
// files (CP932) dropped into the spool. A household in 東区 (01103) opens; then the caseworker's
// visit does not see the child (異動区分 05, welfare.visit_child_not_seen), which the shipped
// route pa_visit_child_not_seen sends to 東区's liaisons (higashi-liaison-1, higashi-liaison-2).
// Every name is fictional.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include "codec/cp932.hpp"
#include "support/daemon.hpp"

namespace tsunagu_test {

inline constexpr const char* kHigashiChildName = "佐藤　ひかり";
inline constexpr const char* kHigashiChildKana = "ｻﾄｳ ﾋｶﾘ";

inline std::string to_cp932(const std::string& utf8) {
  tsunagu::codec::Cp932Encoder encoder;
  std::string out, error;
  if (!encoder.encode(utf8, out, error)) throw std::runtime_error(error);
  return out;
}

// Drops the two files into `spool` (the public_assistance spool of a running hub) and waits
// until the hub has processed each.
inline void route_a_higashi_notice(const std::filesystem::path& spool) {
  const std::string header =
      "処理番号,版,異動区分,発生日,世帯番号,宛名番号,氏名,氏名カナ,生年月日,性別,続柄,区コード,"
      "住所,担当CW,備考\r\n";
  const std::string mother =
      ",40000077,0088000001,佐藤　花子,ｻﾄｳ ﾊﾅｺ,H07.08.01,2,世帯主,01103,"
      "札幌市東区北15条東3丁目,CW0417,\r\n";
  const std::string child = std::string(",40000077,0088000002,") + kHigashiChildName + "," +
                            kHigashiChildKana +
                            ",H29.06.20,2,子,01103,札幌市東区北15条東3丁目,CW0417,\r\n";
  const auto drop = [&](const std::string& name, const std::string& rows) {
    drop_into_spool(spool, name, to_cp932(header + rows));
    if (!wait_until([&] { return std::filesystem::exists(spool / "done" / name); })) {
      throw std::runtime_error("the hub did not process " + name);
    }
  };
  drop("PA_EVENTS_20190408.csv",
       "PA2019040800001,1,01,H31.04.08" + mother + "PA2019040800002,1,03,H31.04.08" + child);
  drop("PA_EVENTS_20190410.csv", "PA2019041000001,1,05,H31.04.10" + child);
}

}  // namespace tsunagu_test
