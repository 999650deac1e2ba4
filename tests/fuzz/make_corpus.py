#!/usr/bin/env python3
"""Rebuilds the seed corpora tests/fuzz/corpus/<target>/ from the real samples in tests/data/.

Seeds are copied byte-exact, or cut from a sample (one record, one document), or, for
fuzz_mapping, the sample records as the mapping sees them (one_input_mapping.hpp: the system on
the first line, then the native values in the mapping's field order, separated by TAB). Run it
from anywhere after a sample changes; it rewrites only corpus/, never regressions/.
"""
import csv
import io
import json
import pathlib
import re
import shutil

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CORPUS = ROOT / "tests" / "fuzz" / "corpus"


def write(target, name, data):
    path = CORPUS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def copy(target, sample):
    write(target, pathlib.Path(sample).name, (DATA / sample).read_bytes())


def native_fields(system):
    text = (ROOT / "mappings" / f"{system}.xml").read_text(encoding="utf-8")
    names = []
    for name in re.findall(r' native="([^"]*)"', text):
        if name not in names:
            names.append(name)
    return names


def mapping_seed(system, values):
    """values: native name -> value; a name that is absent becomes DEL (left out of the map)."""
    row = [values.get(name, "\x7f") for name in native_fields(system)]
    return system + "\n" + "\t".join(row)


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)

    # public_assistance: both nights, and a short file with a quoted line break and comma.
    pa_good = (DATA / "public_assistance" / "PA_EVENTS_20190605.csv").read_bytes()
    copy("public_assistance", "public_assistance/PA_EVENTS_20190605.csv")
    copy("public_assistance", "public_assistance/PA_EVENTS_20190606_bad.csv")
    lines = pa_good.split(b"\r\n")
    quoted = lines[2].split(b",")
    quoted[-1] = '"引継ぎ: 要訪問,\r\n""至急"""'.encode("cp932")
    short = b"\r\n".join([lines[0], lines[1], b",".join(quoted)]) + b"\r\n"
    write("public_assistance", "short_quoted.csv", short)

    # cp932_csv: the CSV files as bytes, and a fixed-width CP932 file with broken characters.
    write("cp932_csv", "short_quoted.csv", short)
    copy("cp932_csv", "public_assistance/PA_EVENTS_20190606_bad.csv")
    copy("cp932_csv", "education/ED_20190606_bad.dat")

    # education: both nights and a single record without its final CR LF.
    ed_good = (DATA / "education" / "ED_20190605.dat").read_bytes()
    copy("education", "education/ED_20190605.dat")
    copy("education", "education/ED_20190606_bad.dat")
    write("education", "one_record.dat", ed_good.split(b"\r\n")[0])

    # health_centre: the good night, one document of it, and the hostile and broken files.
    hc_good = (DATA / "health_centre" / "HC_20190605.xml").read_text(encoding="utf-8")
    copy("health_centre", "health_centre/HC_20190605.xml")
    first = hc_good.index("  <ClinicalDocument")
    end = hc_good.index("</ClinicalDocument>") + len("</ClinicalDocument>")
    root_start = hc_good.index("<HealthCentreExport")
    root_open = hc_good[root_start:hc_good.index(">", root_start) + 1]
    one = ('<?xml version="1.0" encoding="UTF-8"?>\n' + root_open + "\n" + hc_good[first:end] +
           "\n</HealthCentreExport>\n")
    write("health_centre", "one_document.xml", one)
    for name in ("HC_20190606_malformed.xml", "HC_20190607_xxe.xml",
                 "HC_20190608_billion_laughs.xml", "HC_20190610_wrong_root_namespace.xml"):
        copy("health_centre", f"health_centre/{name}")

    # child_guidance: the NDJSON nights and a pretty-printed push body.
    for name in ("CG_20190605.ndjson", "CG_20190606_bad.ndjson", "report_received.json"):
        copy("child_guidance", f"child_guidance/{name}")

    # mapping: sample records as field maps.
    text = pa_good.decode("cp932")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    for i in (1, 4, 20):
        write("mapping", f"public_assistance_{i}.txt",
              mapping_seed("public_assistance", dict(zip(header, rows[i]))))
    layout = {"record_type": (1, 2), "report_number": (3, 14), "revision": (15, 16),
              "report_date": (17, 23), "resident_id": (24, 33), "name": (34, 63),
              "name_kana": (64, 93), "birth_date": (94, 100), "sex": (101, 101),
              "school_code": (102, 107), "ward_code": (108, 112), "absence_days": (113, 115),
              "remarks": (116, 200)}
    for i, record in enumerate(ed_good.split(b"\r\n")[:2], start=1):
        values = {name: record[a - 1:b].decode("cp932") for name, (a, b) in layout.items()}
        write("mapping", f"education_{i}.txt", mapping_seed("education", values))
    if (ROOT / "mappings" / "child_guidance.xml").exists():
        event = json.loads((DATA / "child_guidance" / "CG_20190605.ndjson")
                           .read_text(encoding="utf-8").splitlines()[0])
        flat = {}
        for key, value in event.items():
            if isinstance(value, dict):
                for inner, inner_value in value.items():
                    flat[f"{key}.{inner}"] = "" if inner_value is None else str(inner_value)
            else:
                flat[key] = "" if value is None else str(value)
        write("mapping", "child_guidance_1.txt", mapping_seed("child_guidance", flat))
    if (ROOT / "mappings" / "health_centre.xml").exists():
        write("mapping", "health_centre_1.txt", mapping_seed("health_centre", {
            "id": "HC-2019-000123", "versionNumber": "1", "code": "INFANT_CHECKUP",
            "effectiveTime": "20190605213000+0900", "patient.id": "0012345678",
            "patient.addr": "札幌市東区北10条東7丁目1-1", "patient.name": "山田　花子",
            "patient.name_kana": "ヤマダ　ハナコ", "patient.administrativeGenderCode": "2",
            "patient.birthTime": "20171130", "providerOrganization.id": "01103",
            "CHECKUP_TYPE": "18M", "RESULT": "CONCERN", "NOTE": "体重増加不良。3か月後に再健診。"}))


if __name__ == "__main__":
    main()
