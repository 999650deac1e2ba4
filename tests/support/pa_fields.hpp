// The native fields of one valid public_assistance record (世帯開始 of a child in 北区's
// format), for tests whose fake adapters hand records to the hub without a CSV file.
#pragma once

#include <map>
#include <string>

namespace tsunagu_test {

// `ref` becomes 処理番号 (the record's id at the source), `ward` its 区コード.
inline std::map<std::string, std::string> pa_native_fields(const std::string& ref,
                                                           const std::string& ward) {
  return {{"処理番号", ref},
          {"版", "1"},
          {"異動区分", "01"},
          {"発生日", "2019-06-05"},
          {"世帯番号", "12345678"},
          {"宛名番号", ""},
          {"氏名", "山田　花子"},
          {"氏名カナ", "ヤマダ ハナコ"},
          {"生年月日", "2017-11-30"},
          {"性別", "2"},
          {"続柄", "子"},
          {"区コード", ward},
          {"住所", "札幌市北区"},
          {"担当CW", "CW0312"},
          {"備考", ""}};
}

}  // namespace tsunagu_test
