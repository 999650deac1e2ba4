#!/usr/bin/env python3
"""Regenerates the 学齢簿・校務システム sample exports ED_<YYYYMMDD>.dat and copies them into
the demo spool. The CP932 files are committed; run this only after editing it:

    python3 tests/data/education/make_samples.py

Records are 200 bytes of CP932 followed by CR LF (SYSTEMS.md, "education"): text left-aligned and
padded with half-width spaces, numbers right-aligned and zero-padded, dates in the 7-digit era form
(5010605 = 令和元年6月5日). Deterministic: the same script always writes the same bytes. All
names, numbers and remarks are fictional.
"""

import pathlib
import shutil

HERE = pathlib.Path(__file__).resolve().parent
DEMO_SPOOL = HERE.parents[2] / "config" / "demo" / "spool" / "education"

RECORD_LENGTH = 200
CRLF = b"\r\n"

# (name, width in bytes) in record order; must agree with mappings/education.xml.
LAYOUT = [
    ("record_type", 2),
    ("report_number", 12),
    ("revision", 2),
    ("report_date", 7),
    ("resident_id", 10),
    ("name", 30),
    ("name_kana", 30),
    ("birth_date", 7),
    ("sex", 1),
    ("school_code", 6),
    ("ward_code", 5),
    ("absence_days", 3),
    ("remarks", 85),
]
assert sum(width for _, width in LAYOUT) == RECORD_LENGTH


def cp932(text):
    return text.encode("cp932")


def text_field(value, width):
    """Left-aligned, padded with half-width spaces; refuses what does not fit."""
    data = value if isinstance(value, bytes) else cp932(value)
    if len(data) > width:
        raise ValueError(f"{value!r} is {len(data)} bytes, the field has {width}")
    return data + b" " * (width - len(data))


def number_field(value, width):
    """Right-aligned, zero-padded."""
    data = str(value).zfill(width).encode("ascii")
    if len(data) != width:
        raise ValueError(f"{value!r} does not fit in {width} digits")
    return data


NUMERIC = {"record_type", "revision", "absence_days"}


def record(record_type, number, revision, report_date, resident_id, name, kana, birth_date, sex,
           school_code, ward_code, absence_days, remarks):
    """One record from its values, each field encoded and padded to its width."""
    values = dict(record_type=record_type, report_number=number, revision=revision,
                  report_date=report_date, resident_id=resident_id, name=name, name_kana=kana,
                  birth_date=birth_date, sex=sex, school_code=school_code, ward_code=ward_code,
                  absence_days=absence_days, remarks=remarks)
    out = b""
    for field, width in LAYOUT:
        value = values[field]
        if field in NUMERIC:
            out += number_field(value, width)
        else:
            out += text_field(value, width)
    assert len(out) == RECORD_LENGTH
    return out


# A good night: every record type, every ward, 令和 and 平成 dates, revisions, children without a
# 宛名番号, IBM extension kanji (髙, 﨑), NEC special characters (①) and CP932's own tilde (～).
# 池田 結衣 and 加藤 芽衣 are also in the public assistance sample (same 宛名番号), for the demo of
# joined signals.
GOOD = [
    record("01", "ED1906050001", 1, "5010605", "0103125501", "佐々木　陽翔", "ｻｻｷ ﾊﾙﾄ", "4200714",
           "1", "101103", "01103", 14, "5月20日から欠席継続。担任の家庭訪問に応答なし。"),
    record("01", "ED1906050002", 1, "5010605", "0105087712", "山﨑　美羽", "ﾔﾏｻﾞｷ ﾐｳ", "4180322",
           "2", "201502", "01105", 21, "不登校傾向。SC面談を6/10に設定、保護者同席の予定。"),
    record("02", "ED1906050003", 1, "5010604", "0101093344", "中島　蒼", "ﾅｶｼﾞﾏ ｱｵｲ", "4240905",
           "1", "101106", "01101", 0, "4月入学予定も未登校。住民票の住所に居住実態なし。"),
    record("03", "ED1906050004", 1, "5010603", "0102345679", "池田　結衣", "ｲｹﾀﾞ ﾕｲ", "4270819",
           "2", "302214", "01102", 0, "5月31日付退園。保護者から「転居予定」と連絡、転居先不明。"),
    record("04", "ED1906050005", 1, "5010605", "0107220918", "前田　悠斗", "ﾏｴﾀﾞ ﾕｳﾄ", "4210118",
           "1", "101711", "01107", 3, "腕と背中にあざ複数。本人は「転んだ」と説明。"),
    record("01", "ED1906050006", 1, "5010605", "", "石井　結菜", "ｲｼｲ ﾕｲﾅ", "4191130",
           "2", "101809", "01108", 16, "区域外就学（市外から通学）。5月中旬～欠席が続く。"),
    record("03", "ED1906050007", 1, "5010604", "0105667786", "加藤　芽衣", "ｶﾄｳ ﾒｲ", "4281010",
           "2", "305120", "01105", 0, "6月は登園なし。保護者と連絡が取れず退園扱い。"),
    record("01", "ED1906050008", 2, "5010605", "0110442017", "藤原　凛", "ﾌｼﾞﾜﾗ ﾘﾝ", "4170602",
           "2", "202005", "01110", 19, "版2：欠席日数を訂正（17→19）。"),
    record("04", "ED1906050009", 1, "5010604", "", "小川　湊斗", "ｵｶﾞﾜ ﾐﾅﾄ", "4221207",
           "1", "101210", "01102", 0, "給食以外の食事が取れていない様子。衣服の汚れが続く。"),
    record("02", "ED1906050010", 1, "5010605", "0109300125", "岡本　心結", "ｵｶﾓﾄ ﾐﾕ", "4190417",
           "2", "101912", "01109", 0, "転出届なし。郵便物が返送、近隣の話では3月頃に転居。"),
    record("01", "ED1906050011", 1, "4310426", "0106551890", "長谷川　颯", "ﾊｾｶﾞﾜ ﾊﾔﾃ", "4160910",
           "1", "201603", "01106", 18, "中学3年。4月からほぼ全日欠席。"),
    record("03", "ED1906050012", 1, "5010605", "0104556012", "村上　芽依", "ﾑﾗｶﾐ ﾒｲ", "4290301",
           "2", "304415", "01104", 0, "保護者の就労終了により退園。"),
    record("04", "ED1906050013", 1, "5010605", "0103771204", "近藤　大和", "ｺﾝﾄﾞｳ ﾔﾏﾄ", "4200228",
           "1", "101330", "01103", 2, "夜間に一人で外出している姿を複数回目撃との報告。"),
    record("01", "ED1906050014", 1, "5010605", "0108209951", "坂口　杏", "ｻｶｸﾞﾁ ｱﾝ", "4240815",
           "2", "101811", "01108", 11, "①朝起きられない②腹痛の訴え。保健室登校を検討。"),
    record("03", "ED1906050015", 1, "5010604", "", "髙田　蓮", "ﾀｶﾀﾞ ﾚﾝ", "4300402",
           "1", "306101", "01101", 0, "認可外保育施設へ転園。市外から転入手続中。"),
    record("01", "ED1906050016", 1, "5010605", "0101448230", "遠藤　紗良", "ｴﾝﾄﾞｳ ｻﾗ", "4230118",
           "2", "101115", "01101", 13, ""),
    record("04", "ED1906050017", 2, "5010605", "0106210077", "青木　樹", "ｱｵｷ ｲﾂｷ", "4180925",
           "1", "201620", "01106", 0, "版2：児童相談所へ情報提供済みを追記。"),
    record("02", "ED1906050018", 1, "5010603", "", "福田　陽菜", "ﾌｸﾀﾞ ﾋﾅ", "4241103",
           "9", "101407", "01104", 0, "住民登録なし。就学通知が宛先不明で返送。"),
    record("01", "ED1906050019", 1, "5010605", "0107903316", "西田　朝陽", "ﾆｼﾀﾞ ｱｻﾋ", "4200612",
           "1", "101733", "01107", 18, "全日欠席。保護者は「体調不良」と説明、受診歴は不明。"),
    record("03", "ED1906050020", 1, "5010605", "0109551230", "太田　莉子", "ｵｵﾀ ﾘｺ", "4280707",
           "2", "309018", "01109", 0, "市外転出に伴う退園。"),
]


def bad_night():
    """Good records and one record of each kind the adapter or the mapping must reject."""
    good_first = record("01", "ED1906060001", 1, "5010606", "0102118830", "菅原　陸斗",
                        "ｽｶﾞﾜﾗ ﾘｸﾄ", "4201021", "1", "101240", "01102", 15, "5月27日から欠席。")
    good_second = record("03", "ED1906060002", 1, "5010606", "0110332011", "吉村　葵", "ﾖｼﾑﾗ ｱｵｲ",
                         "4290612", "2", "310102", "01110", 0, "転居により退園。")

    # A record that lost its last byte in transfer: 199 bytes.
    short = record("01", "ED1906060003", 1, "5010606", "0104220981", "松田　智也", "ﾏﾂﾀﾞ ﾄﾓﾔ",
                   "4211111", "1", "101402", "01104", 9, "欠席理由未確認。")[:-1]
    # Remarks written 3 bytes past their 85: 203 bytes.
    long = record("04", "ED1906060004", 1, "5010606", "0105339812", "竹内　愛", "ﾀｹｳﾁ ｱｲ",
                  "4220505", "2", "101550", "01105", 0, "")
    long = long[:115] + text_field("6/4、保護者からの暴言について本人が担任に相談。学年会で"
                                   "共有し、要対協への報告を検討中。", 88)
    # 氏名 shifted by a leading half-width space: its 15th character, 子, starts at byte 63 (the
    # last of 氏名) and ends at byte 64 (the first of 氏名カナ), which has only 29 bytes left.
    name = b" " + cp932("五十嵐　エリザベート　さくら子")
    assert len(name) == 31
    split = record("01", "ED1906060005", 1, "5010606", "0101662043", "x", "x", "4190709", "2",
                   "101118", "01101", 12, "保護者と連絡が取れない。")
    split = split[:33] + name + text_field("ｲｶﾞﾗｼ ｴﾘｻﾞﾍﾞｰﾄ ｻｸﾗｺ", 29) + split[93:]
    # 0xA0 where a conversion put a no-break space into 氏名カナ: not a CP932 byte.
    invalid = record("01", "ED1906060006", 1, "5010606", "0103550127", "田中　優希", "x",
                     "4231224", "1", "101360", "01103", 7, "")
    invalid = invalid[:63] + text_field(b"\xc0\xc5\xb6\xa0\xd5\xb3\xb7", 30) + invalid[93:]
    # A good record whose line ends in LF without CR.
    bare_lf = record("01", "ED1906060007", 1, "5010606", "0106118205", "岩崎　大翔", "ｲﾜｻｷ ﾋﾛﾄ",
                     "4190202", "1", "101645", "01106", 10, "")
    # Decode, but the mapping rejects them: ward 01199 does not exist, 令和元年2月30日 neither
    # (and 令和 began in May), and record type 09 is not in the specification.
    unknown_ward = record("02", "ED1906060008", 1, "5010606", "0107884412", "北村　七海",
                          "ｷﾀﾑﾗ ﾅﾅﾐ", "4200920", "2", "101760", "01199", 0, "")
    impossible_date = record("01", "ED1906060009", 1, "5010230", "0108334520", "関　颯太",
                             "ｾｷ ｿｳﾀ", "4181018", "1", "101850", "01108", 8, "")
    unknown_type = record("09", "ED1906060010", 1, "5010606", "0109012387", "野口　美桜",
                          "ﾉｸﾞﾁ ﾐｵ", "4210808", "2", "101950", "01109", 0, "")

    good_third = record("04", "ED1906060011", 1, "5010606", "", "上田　悠真", "ｳｴﾀﾞ ﾕｳﾏ", "4240130",
                        "1", "101170", "01101", 0, "登校時に空腹を訴えることが多い。")
    # The last record has no CR LF: still a record, and a good one since it is 200 bytes.
    good_last = record("02", "ED1906060012", 1, "5010606", "0107114562", "森本　結愛",
                       "ﾓﾘﾓﾄ ﾕｱ", "4220615", "2", "101720", "01107", 0, "転居先不明。")

    lines = [good_first, good_second, short, long, split, invalid]
    data = b"".join(line + CRLF for line in lines)
    data += bare_lf + b"\n"
    data += b"".join(line + CRLF for line in [unknown_ward, impossible_date, unknown_type,
                                              good_third])
    return data + good_last


def main():
    good = b"".join(line + CRLF for line in GOOD)
    bad = bad_night()
    (HERE / "ED_20190605.dat").write_bytes(good)
    (HERE / "ED_20190606_bad.dat").write_bytes(bad)
    DEMO_SPOOL.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "ED_20190605.dat", DEMO_SPOOL / "ED_20190605.dat")
    shutil.copyfile(HERE / "ED_20190606_bad.dat", DEMO_SPOOL / "ED_20190606.dat")


if __name__ == "__main__":
    main()
