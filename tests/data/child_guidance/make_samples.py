#!/usr/bin/env python3
"""Regenerates the 児童相談所システム samples and copies the NDJSON files into the demo spool.
The files are committed; run this only after editing it:

    python3 tests/data/child_guidance/make_samples.py

SYSTEMS.md, "child_guidance": JSON in UTF-8, one object per line in CG_<YYYYMMDD>.ndjson (LF), or
one object per HTTPS push (report_received.json, pretty-printed as some senders do). `null` and
absent members both mean "unknown". Deterministic: the same script always writes the same bytes.
All names, addresses, numbers and notes are fictional.
"""

import json
import pathlib
import shutil

HERE = pathlib.Path(__file__).resolve().parent
DEMO_SPOOL = HERE.parents[2] / "config" / "demo" / "spool" / "child_guidance"

ABSENT = object()  # leaves the member out, as opposed to None (JSON null)


def event(event_id, revision, type_, occurred_at, child, ward_code, risk_level=ABSENT,
          report_source=ABSENT, address=ABSENT, note=ABSENT, **extra):
    """One event, members in the order of the interface specification's example."""
    members = [
        ("event_id", event_id), ("revision", revision), ("type", type_),
        ("occurred_at", occurred_at), ("child", child), ("ward_code", ward_code),
        ("risk_level", risk_level), ("report_source", report_source), ("address", address),
        ("note", note),
    ]
    obj = {key: value for key, value in members if value is not ABSENT}
    obj.update(extra)
    return obj


def child(name, name_kana, birth_date, sex, resident_id=None):
    obj = {"resident_id": resident_id, "name": name}
    if name_kana is not ABSENT:
        obj["name_kana"] = name_kana
    obj["birth_date"] = birth_date
    obj["sex"] = sex
    return obj


def line(obj):
    return json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n"


HANAKO = child("山田 花子", "ヤマダ ハナコ", "2017-11-30", "F")
REN = child("佐藤 蓮", "サトウ レン", "2014-04-02", "M", "0103456789")

# A good day: every type, every ward, revisions, null and absent members, unknown members.
GOOD_DAY = [
    # 1: the example of the interface specification, address written out.
    event("CG-2019-0456", 1, "report_received", "2019-06-05T21:30:00+09:00", HANAKO, "01102",
          "B", "警察", "札幌市北区北24条西5丁目2-8 北星ハイツ203", "泣き声通告。近隣住民から110番、警察が臨場"),
    # 2: a school's report; the child is on the resident register.
    event("CG-2019-0457", 1, "report_received", "2019-06-05T10:15:00+09:00", REN, "01103",
          "C", "学校", "札幌市東区北15条東3丁目4-10", "左頬にあざ。担任が確認、本人は「転んだ」と説明"),
    # 3: safety confirmed within 48 hours of report 1 (a visit the next morning).
    event("CG-2019-0458", 1, "safety_confirmed", "2019-06-06T10:05:00+09:00", HANAKO, "01102",
          None, None, "札幌市北区北24条西5丁目2-8 北星ハイツ203", "家庭訪問で本人を目視確認。外傷なし"),
    # 4: a case opened; the sender adds members Tsunagu does not know (ignored).
    event("CG-2019-0459", 1, "case_opened", "2019-06-06T15:00:00+09:00", HANAKO, "01102", "B",
          None, None, "受理会議で継続指導と決定", caseworker="CGW-0412",
          attachments=[{"kind": "photo", "id": "P-2019-0088"}, {"kind": "memo", "id": None}]),
    # 5: the risk raised to A (highest).
    event("CG-2019-0460", 1, "risk_changed", "2019-06-07T09:40:00+09:00", HANAKO, "01102", "A",
          None, None, "母の養育困難と夜間の放置を確認"),
    # 6: report 2 corrected by its sender: revision 2 of the same event.
    event("CG-2019-0457", 2, "report_received", "2019-06-05T10:15:00+09:00", REN, "01103",
          "B", "学校", "札幌市東区北15条東3丁目4-10", "左頬と腕にあざ。養護教諭も確認"),
    # 7: an anonymous neighbour; no kana, no address (absent), no risk level yet (absent).
    event("CG-2019-0461", 1, "report_received", "2019-06-05T23:50:00+09:00",
          child("高橋 湊", ABSENT, "2016-02-14", "M"), "01108", report_source="近隣住民",
          note="深夜に子どもだけで外にいる"),
    # 8: a case closed after guidance ended.
    event("CG-2019-0430", 3, "case_closed", "2019-06-05T16:20:00+09:00",
          child("鈴木 結衣", "スズキ ユイ", "2012-08-19", "F", "0105223344"), "01105", "D",
          None, "札幌市豊平区月寒東2条8丁目1-1", "指導終結"),
    # 9: a newborn whose sex is not yet recorded; a health centre's report.
    event("CG-2019-0462", 1, "report_received", "2019-06-05T13:00:00+09:00",
          child("伊藤 ひかり", "イトウ ヒカリ", "2019-05-28", "U"), "01101", "C", "保健センター",
          "札幌市中央区南8条西11丁目", "特定妊婦として支援中の母から出生。養育環境の確認依頼"),
    # 10: occurred_at in UTC, as some senders write it (12:30Z is 21:30 in Sapporo).
    event("CG-2019-0463", 1, "safety_confirmed", "2019-06-05T12:30:00Z",
          child("渡辺 陽向", "ワタナベ ヒナタ", "2015-09-03", "M", "0106778899"), "01106", None,
          None, None, None),
    # 11: a child whose name has an IBM extension kanji (髙).
    event("CG-2019-0464", 1, "report_received", "2019-06-05T08:45:00+09:00",
          child("髙橋 美咲", "タカハシ ミサキ", "2013-01-22", "F", "0107001122"), "01107", "C",
          "家族・親戚", "札幌市西区琴似2条3丁目4-5 ハイツ琴似Ⅱ 305", "祖母から相談：母の怒鳴り声が続く"),
    # 12: a case opened in 手稲区; a note with a line break (escaped in JSON).
    event("CG-2019-0465", 1, "case_opened", "2019-06-05T11:30:00+09:00",
          child("中村 大翔", "ナカムラ ヒロト", "2010-06-30", "M", "0109334455"), "01109", "C",
          None, "札幌市手稲区前田4条10丁目", "学校と連携して見守り。\n月1回の家庭訪問"),
    # 13: 清田区, risk lowered to D.
    event("CG-2019-0466", 1, "risk_changed", "2019-06-05T17:10:00+09:00",
          child("小林 芽依", "コバヤシ メイ", "2011-12-05", "F", "0110556677"), "01110", "D",
          None, None, "生活状況が安定"),
    # 14: 白石区, a report from a nursery.
    event("CG-2019-0467", 1, "report_received", "2019-06-05T15:05:00+09:00",
          child("加藤 蒼", "カトウ アオイ", "2016-07-07", "M"), "01104", "B", "保育所",
          "札幌市白石区本通14丁目北1-1", "連日同じ服で登園、食事を欲しがる"),
    # 15: safety confirmed for report 2 (its revision 2).
    event("CG-2019-0468", 1, "safety_confirmed", "2019-06-06T09:30:00+09:00", REN, "01103",
          "B", None, None, "学校で本人と面接、安全を確認"),
    # 16: child.resident_id, name_kana and address explicitly null; a case closed by transfer.
    event("CG-2019-0431", 1, "case_closed", "2019-06-05T14:00:00+09:00",
          child("吉田 さくら", None, "2009-03-15", "F"), "01107", None, "他機関", None,
          "他市へ転居、転居先の児童相談所へケース移管"),
]

REPORT_RECEIVED = event(
    "CG-2019-0520", 1, "report_received", "2019-06-08T02:10:00+09:00",
    child("斎藤 陽菜", "サイトウ ヒナ", "2018-10-03", "F", "0102987654"), "01102", "A", "警察",
    "札幌市北区屯田5条6丁目3-3", "夜間、乳児の泣き声が長時間続くと通報。警察が臨場し母は不在",
    shift="night")

# A bad day: one record of each kind the adapter or the mapping must reject, between good ones.
BAD_DAY = [
    # 1 good
    line(event("CG-2019-0501", 1, "report_received", "2019-06-06T20:00:00+09:00",
               child("森 彩花", "モリ アヤカ", "2015-05-05", "F"), "01106", "C", "近隣住民")),
    # 2 invalid JSON: a comma missing after "type"
    b'{"event_id": "CG-2019-0502", "revision": 1, "type": "safety_confirmed" "occurred_at": '
    b'"2019-06-06T10:00:00+09:00", "ward_code": "01106"}\n',
    # 3 not an object
    b'["CG-2019-0503", 1, "case_opened"]\n',
    # 4 good
    line(event("CG-2019-0504", 1, "case_opened", "2019-06-06T11:00:00+09:00",
               child("森 彩花", "モリ アヤカ", "2015-05-05", "F"), "01106", "C")),
    # 5 event_id missing
    line(event(ABSENT, 1, "safety_confirmed", "2019-06-06T12:00:00+09:00",
               child("木村 翼", "キムラ ツバサ", "2014-10-10", "M"), "01101")),
    # 6 a type the interface specification does not have
    line(event("CG-2019-0506", 1, "report_withdrawn", "2019-06-06T12:30:00+09:00",
               child("木村 翼", "キムラ ツバサ", "2014-10-10", "M"), "01101")),
    # 7 revision as a string
    line(event("CG-2019-0507", "1", "report_received", "2019-06-06T13:00:00+09:00",
               child("林 結菜", "ハヤシ ユイナ", "2017-03-03", "F"), "01104", "C")),
    # 8 a ward code that is not one of Sapporo's ten
    line(event("CG-2019-0508", 1, "report_received", "2019-06-06T13:30:00+09:00",
               child("清水 悠真", "シミズ ユウマ", "2012-12-12", "M"), "01199", "D")),
    # 9 a birth date that does not exist
    line(event("CG-2019-0509", 1, "report_received", "2019-06-06T14:00:00+09:00",
               child("山口 凛", "ヤマグチ リン", "2018-02-30", "F"), "01103", "B")),
    # 10 the child's name in CP932 bytes, not UTF-8 (a sender's conversion mistake)
    line(event("CG-2019-0510", 1, "report_received", "2019-06-06T14:30:00+09:00",
               child("@NAME@", "タナカ ソラ", "2016-01-01", "M"), "01105", "C"))
    .replace("@NAME@".encode(), "田中 空".encode("cp932")),
    # 11 good, with a blank line before it
    b"\n" + line(event("CG-2019-0511", 1, "risk_changed", "2019-06-06T15:00:00+09:00",
                       child("森 彩花", "モリ アヤカ", "2015-05-05", "F"), "01106", "B")),
]


def write(path, data):
    path.write_bytes(data)
    print(f"wrote {path} ({len(data)} bytes)")


def main():
    good = b"".join(line(e) for e in GOOD_DAY)
    bad = b"".join(BAD_DAY)
    write(HERE / "CG_20190605.ndjson", good)
    write(HERE / "CG_20190606_bad.ndjson", bad)
    write(HERE / "report_received.json",
          json.dumps(REPORT_RECEIVED, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    DEMO_SPOOL.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "CG_20190605.ndjson", DEMO_SPOOL / "CG_20190605.ndjson")
    shutil.copyfile(HERE / "CG_20190606_bad.ndjson", DEMO_SPOOL / "CG_20190606.ndjson")
    print(f"copied both NDJSON files into {DEMO_SPOOL}")


if __name__ == "__main__":
    main()
