#!/usr/bin/env python3
"""Writes a large, valid 健康管理システム export (HC_<YYYYMMDD>.xml) to standard output.

    make_batch.py N [--date YYYYMMDD] > HC_20190701.xml

N documents, streamed out one at a time (the generator holds none of them), cycling through every
document code, result, check-up type and ward; one in seven has no 宛名番号, one in five no kana
name, one in eleven no address, and every third an effectiveTime with a time and offset. Record ids
are HC-<date>-<n>, so two batches of different dates never collide. Used by the streaming test
(tests/adapters/health_centre) and for load tests; all names are fictional.
"""
import argparse
import sys

FAMILY = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
          ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ")]
GIVEN = [("陽菜", "ヒナ"), ("蓮", "レン"), ("結衣", "ユイ"), ("湊", "ミナト"), ("芽依", "メイ"),
         ("大翔", "ヒロト"), ("美咲", "ミサキ")]
WARDS = ["011%02d" % w for w in range(1, 11)]
WARD_NAMES = ["中央区", "北区", "東区", "白石区", "豊平区", "南区", "西区", "厚別区", "手稲区", "清田区"]
# (document code, observations) — every code and result the export knows.
KINDS = [
    ("PREGNANCY_NOTIFICATION", [("EDD", "TS", "20200115")]),
    ("PREGNANCY_QUESTIONNAIRE", [("NEED", "CD", "FINANCIAL"), ("NEED", "CD", "ISOLATION")]),
    ("PREGNANCY_QUESTIONNAIRE", [("NEED", "CD", "NONE")]),
    ("SPECIFIED_EXPECTANT_MOTHER", [("EDD", "TS", "20191120"), ("NOTE", "ST", "要支援ケース会議で判断")]),
    ("HOME_VISIT", [("RESULT", "CD", "COMPLETED")]),
    ("HOME_VISIT", [("RESULT", "CD", "UNREACHABLE"), ("NOTE", "ST", "不在。不在票を投函。")]),
    ("INFANT_CHECKUP", [("CHECKUP_TYPE", "CD", "4M"), ("RESULT", "CD", "ATTENDED")]),
    ("INFANT_CHECKUP", [("CHECKUP_TYPE", "CD", "10M"), ("RESULT", "CD", "ATTENDED")]),
    ("INFANT_CHECKUP", [("CHECKUP_TYPE", "CD", "18M"), ("RESULT", "CD", "CONCERN"),
                        ("NOTE", "ST", "体重増加不良。3か月後に再健診。")]),
    ("INFANT_CHECKUP", [("CHECKUP_TYPE", "CD", "36M"), ("RESULT", "CD", "MISSED")]),
    ("INFANT_CHECKUP", [("CHECKUP_TYPE", "CD", "FOLLOWUP"), ("RESULT", "CD", "ATTENDED")]),
    ("PSYCH_CONSULT", [("NOTE", "ST", "産後の抑うつ症状。継続支援。")]),
]


def document(n, date):
    code, observations = KINDS[n % len(KINDS)]
    family, family_kana = FAMILY[n % len(FAMILY)]
    given, given_kana = GIVEN[n % len(GIVEN)]
    ward = n % len(WARDS)
    mother = code.startswith("PREGNANCY") or code == "SPECIFIED_EXPECTANT_MOTHER" or code == "PSYCH_CONSULT"
    birth = "19%02d%02d%02d" % (85 + n % 14, 1 + n % 12, 1 + n % 28) if mother else \
            "20%02d%02d%02d" % (16 + n % 4, 1 + n % 12, 1 + n % 28)
    effective = "%s%02d%02d00+0900" % (date, 8 + n % 12, n % 60) if n % 3 == 0 else date
    out = ['  <ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
           '    <id root="urn:sapporo:health-centre:record" extension="HC-%s-%07d"/>' % (date, n),
           '    <versionNumber value="1"/>',
           '    <code code="%s" codeSystem="urn:sapporo:health-centre:doc-type"/>' % code,
           '    <effectiveTime value="%s"/>' % effective,
           '    <recordTarget><patientRole>']
    if n % 7 != 0:
        out.append('      <id root="urn:sapporo:resident-id" extension="%010d"/>' % (200000000 + n))
    if n % 11 != 0:
        out.append('      <addr><streetAddressLine>札幌市%s北%d条西%d丁目%d-%d</streetAddressLine></addr>'
                   % (WARD_NAMES[ward], 1 + n % 40, 1 + n % 20, 1 + n % 9, 1 + n % 30))
    out.append('      <patient>')
    out.append('        <name use="IDE"><family>%s</family><given>%s</given></name>' % (family, given))
    if n % 5 != 0:
        out.append('        <name use="SYL"><family>%s</family><given>%s</given></name>'
                   % (family_kana, given_kana))
    out.append('        <administrativeGenderCode code="%s"/>' % ("2" if mother else "12"[n % 2]))
    out.append('        <birthTime value="%s"/>' % birth)
    out.append('      </patient>')
    out.append('      <providerOrganization><id root="urn:sapporo:ward" extension="%s"/></providerOrganization>'
               % WARDS[ward])
    out.append('    </patientRole></recordTarget>')
    out.append('    <component><structuredBody><component><section>')
    for obs_code, data_type, value in observations:
        if data_type == "CD":
            rendered = '<value xsi:type="CD" code="%s"/>' % value
        elif data_type == "TS":
            rendered = '<value xsi:type="TS" value="%s"/>' % value
        else:
            rendered = '<value xsi:type="ST">%s</value>' % value
        out.append('      <entry><observation classCode="OBS" moodCode="EVN">')
        out.append('        <code code="%s"/>%s</observation></entry>' % (obs_code, rendered))
    out.append('    </section></component></structuredBody></component>')
    out.append('  </ClinicalDocument>')
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of documents")
    parser.add_argument("--date", default="20190701", help="export date YYYYMMDD (default 20190701)")
    args = parser.parse_args()
    if args.count < 0 or len(args.date) != 8 or not args.date.isdigit():
        parser.error("count must be >= 0 and --date YYYYMMDD")
    out = sys.stdout.buffer
    out.write(('<?xml version="1.0" encoding="UTF-8"?>\n<HealthCentreExport '
               'xmlns="urn:sapporo:health-centre:export:1" created="%s-%s-%sT23:30:00+09:00">\n'
               % (args.date[:4], args.date[4:6], args.date[6:])).encode("utf-8"))
    for n in range(1, args.count + 1):
        out.write(document(n, args.date).encode("utf-8"))
    out.write(b"</HealthCentreExport>\n")


if __name__ == "__main__":
    main()
