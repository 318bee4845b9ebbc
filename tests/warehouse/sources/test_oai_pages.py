"""OAI-PMH page parsing: the three metadata formats, tokens, errors, deletions, bad and hostile pages."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import shared_path
from warehouse.records import normalize_batch, raw_frame
from warehouse.sources import oai

FIXTURES = Path(__file__).parent / "fixtures"
BOMB = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                   for i in range(1, 10))
        + b']>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>'
          b"<identifier>oai:arXiv.org:2501.00001</identifier></header><metadata><arXivRaw><title>&lol9;</title>"
          b"</arXivRaw></metadata></record></ListRecords></OAI-PMH>")
EXTERNAL = (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>\n'
            b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="x">&ext;</error></OAI-PMH>')


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_arxivraw_page_gives_snapshot_shaped_records_with_versions():
    parsed = oai.parse_page(page("listrecords_arxivraw.xml"), "raw/oai/p/page-00001.xml.gz")
    first, old, gone = parsed.records
    assert first["id"] == "2501.01234"
    assert first["versions"] == [{"version": "v1", "created": "Thu, 2 Jan 2025 18:59:59 GMT"},
                                 {"version": "v2", "created": "Tue, 7 Jan 2025 09:01:02 GMT"}]
    assert first["title"].startswith("Sparse Attention for\n") and "Translation & Summarisation" in first["title"]
    assert first["categories"] == "cs.CL cs.LG stat.ML"
    assert first["authors"] == "Ada Example, Bo Sample and Cy Test"
    assert first["doi"] == "10.1000/example.2025.1" and first["comments"] == "12 pages, 4 figures"
    assert "$\\alpha < 1$" in first["abstract"]
    assert "journal-ref" not in first and "report-no" not in first  # empty elements are left out
    assert first["x_source"] == "oai-arXivRaw" and first["x_datestamp"] == "2025-01-08"
    assert first["_where"] == "raw/oai/p/page-00001.xml.gz#1"
    assert old["id"] == "hep-th/9901001" and old["_where"].endswith("#2")
    assert gone == {"_deleted": True, "id": "2412.09999", "_where": "raw/oai/p/page-00001.xml.gz#3",
                    "x_datestamp": "2025-01-09"}
    assert (parsed.token, parsed.cursor, parsed.complete_list_size) == ("6960524|1001", 0, 5)
    assert parsed.error_code is None and not parsed.salvaged


def test_arxivraw_records_normalise_to_v1_trend_dates():
    records = [r for r in oai.parse_page(page("listrecords_arxivraw.xml"), "p").records if "_deleted" not in r]
    rows, rejected = normalize_batch(raw_frame(records), default_source="oai")
    assert rejected.height == 0
    got = {r["id"]: r for r in rows.iter_rows(named=True)}
    assert str(got["2501.01234"]["submitted"])[:19] == "2025-01-02 18:59:59"
    assert got["2501.01234"]["version"] == 2 and got["2501.01234"]["primary_category"] == "cs.CL"
    assert got["2501.01234"]["authors"] == ["Ada Example", "Bo Sample", "Cy Test"]
    assert got["hep-th/9901001"]["date_source"] == "v1" and got["hep-th/9901001"]["source"] == "oai-arXivRaw"


def test_arxiv_format_puts_created_as_v1_and_joins_author_names():
    parsed = oai.parse_page(page("listrecords_arxiv.xml"), "p")
    (rec,) = parsed.records
    assert rec["versions"] == [{"version": "v1", "created": "Sun, 5 Jan 2025 00:00:00 GMT"}]
    assert rec["update_date"] == "2025-01-08"
    assert rec["authors"] == ["Ada Example", "Collaboration", "Sam Junior Jr"]
    assert rec["x_source"] == "oai-arXiv" and rec["categories"] == "cs.AI cs.MA"
    assert parsed.token is None and parsed.complete_list_size == 1  # empty token: the last page
    rows, rejected = normalize_batch(raw_frame([rec]), default_source="oai")
    assert rejected.height == 0 and rows["date_source"][0] == "v1"


def test_oai_dc_maps_creators_subjects_dates_and_comments():
    (rec,) = oai.parse_page(page("listrecords_oai_dc.xml"), "p").records
    assert rec["id"] == "2501.07777" and rec["x_source"] == "oai_dc"
    assert rec["authors"] == ["Ada Example", "Bo Sample"]
    assert rec["x_source_categories"] == ["stat.ML", "cs.LG"]  # names mapped; MSC code ignored
    assert rec["abstract"].strip() == "We detect trends." and rec["comments"] == "10 pages"
    assert rec["versions"][0]["created"] == "Mon, 6 Jan 2025 00:00:00 GMT" and rec["update_date"] == "2025-01-09"
    assert rec["doi"] == "10.1000/trend"


def test_malformed_record_is_quarantined_and_the_rest_of_the_page_kept():
    good = page("listrecords_arxivraw.xml")
    broken = good.replace(b"<title>An old-style identifier</title>", b"<title>Cats & dogs <i>unclosed</title>")
    parsed = oai.parse_page(broken, "raw/oai/x/page-00002.xml.gz")
    assert parsed.salvaged
    first, bad, gone = parsed.records
    assert first["id"] == "2501.01234" and gone["_deleted"]
    assert bad["_error"].startswith("malformed XML") and bad["_where"] == "raw/oai/x/page-00002.xml.gz#2"
    assert "Cats & dogs" in bad["_raw"]
    assert parsed.token == "6960524|1001"  # the token after the broken record still counts


def test_record_without_id_or_metadata_is_an_error_record():
    body = page("listrecords_arxiv.xml")
    no_meta = body.replace(body[body.index(b"<metadata>"):body.index(b"</metadata>") + 11], b"")
    (rec,) = oai.parse_page(no_meta, "p").records
    assert rec["_error"] == "record without metadata" and "2501.05555" in rec["_raw"]


def test_page_cut_short_is_a_transport_failure_not_a_short_page():
    body = page("listrecords_arxivraw.xml")
    with pytest.raises(oai.TruncatedPageError):
        oai.parse_page(body[: len(body) * 2 // 3], "p")


def test_non_oai_response_is_refused():
    with pytest.raises(oai.NotOAIPageError):
        oai.parse_page(b"<html><body>502 Bad gateway</body></html>", "p")


def test_entity_bomb_is_refused_quickly_without_expansion():
    started = time.process_time()
    with pytest.raises(oai.UnsafeXMLError):
        oai.parse_page(BOMB, "p")
    assert time.process_time() - started < 1.0  # generous bound: expansion would take far longer


def test_external_entity_is_refused():
    with pytest.raises(oai.UnsafeXMLError):
        oai.parse_page(EXTERNAL, "p")


@pytest.mark.parametrize("name, code", [("noRecordsMatch.xml", "noRecordsMatch"), ("badArgument.xml", "badArgument"),
                                        ("badResumptionToken.xml", "badResumptionToken"),
                                        ("cannotDisseminateFormat.xml", "cannotDisseminateFormat")])
def test_real_oai_error_responses_are_read_by_code(name, code):
    parsed = oai.parse_page(shared_path("data", "fixtures", "oai_pmh_generic_errors", name).read_bytes(), "p")
    assert parsed.error_code == code and parsed.records == []


def test_real_generic_page_with_deleted_record_and_token():
    path = shared_path("data", "fixtures", "oai_pmh_generic_errors", "ListRecords.xml")
    parsed = oai.parse_page(path.read_bytes(), "p")
    assert parsed.records[0]["_deleted"] and parsed.token == "ListRecords2.xml"
    assert parsed.complete_list_size == 8 and parsed.records[1]["title"] == "Sample Title"


def test_real_arxiv_format_responses_parse_completely():
    folder = shared_path("data", "fixtures", "oai_pmh_arxiv")
    records = [r for p in sorted(folder.glob("*.xml")) for r in oai.parse_page(p.read_bytes(), p.name).records]
    assert len(records) == 15 and not [r for r in records if "_error" in r]
    rows, rejected = normalize_batch(raw_frame(records), default_source="oai")
    assert rejected.height == 0 and set(rows["date_source"]) == {"v1"}
    by_id = {r["id"]: r for r in records}
    assert by_id["1706.05371"]["versions"][0]["created"] == "Fri, 16 Jun 2017 00:00:00 GMT"
    assert by_id["1706.05371"]["authors"][0] == "Tyler Anderson"


def test_sniff_and_iter_file_records_on_gzip_pages(tmp_path):
    raw = tmp_path / "raw" / "oai" / "h" / "page-00001.xml.gz"
    raw.parent.mkdir(parents=True)
    raw.write_bytes(gzip.compress(page("listrecords_arxivraw.xml")))
    assert oai.sniff(raw.read_bytes()[:512]) and oai.sniff(page("listrecords_arxivraw.xml")[:512])
    assert not oai.sniff(page("atom_feed.xml")) and not oai.sniff(b'{"id": "2501.00001"}')
    records = list(oai.iter_file_records(raw))
    assert [r["_where"] for r in records] == [f"raw/oai/h/page-00001.xml.gz#{i}" for i in (1, 2, 3)]


def test_iter_file_records_reports_an_unsafe_file_as_one_error(tmp_path):
    path = tmp_path / "bomb.xml"
    path.write_bytes(BOMB)
    (rec,) = oai.iter_file_records(path)
    assert "unsafe XML" in rec["_error"] and rec["_where"] == str(path)


def test_every_record_of_a_page_gets_its_own_reference():
    body = page("listrecords_arxivraw.xml")
    head, _, tail = body.partition(b"<record>")
    one = b"<record>" + tail[: tail.index(b"</record>") + 9]
    many = head + b"\n".join([one] * 200) + b"</ListRecords></OAI-PMH>"
    parsed = oai.parse_page(many, "p")
    assert len(parsed.records) == 200 and len({r["_where"] for r in parsed.records}) == 200
    assert pl.Series([r["id"] for r in parsed.records]).n_unique() == 1
