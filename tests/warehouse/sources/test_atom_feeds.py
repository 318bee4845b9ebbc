"""arXiv API (Atom) feed parsing: entries, paging numbers, error feeds, real recorded responses."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import shared_path
from warehouse.records import normalize_batch, raw_frame
from warehouse.sources import atom

FIXTURES = Path(__file__).parent / "fixtures"


def test_entries_become_records_with_primary_category_first():
    page = atom.parse_feed((FIXTURES / "atom_feed.xml").read_bytes(), "raw/api/q/page-00001.xml.gz")
    assert (page.total_results, page.start_index, page.items_per_page, page.error) == (57, 0, 2, None)
    new, old = page.records
    assert new["id"] == "2501.01234v2" and new["categories"] == "cs.CL cs.LG"  # the suffix becomes `version`
    assert new["x_published"] == "2025-01-02T18:59:59Z" and new["x_updated"] == "2025-01-07T09:01:02Z"
    assert new["authors"] == ["Ada Example", "Bo Sample"] and new["journal-ref"] == "Proc. Example 2025"
    assert new["doi"] == "10.1000/example.2025.1" and new["comments"] == "12 pages"
    assert new["_where"] == "raw/api/q/page-00001.xml.gz#1" and new["x_source"] == "atom"
    assert old["id"].startswith("cond-mat/0603029") and old["categories"] == "cond-mat.str-el cond-mat.supr-con"
    rows, rejected = normalize_batch(raw_frame(page.records), default_source="atom")
    assert rejected.height == 0 and set(rows["date_source"]) == {"published"}
    assert rows.filter(rows["id"] == "2501.01234")["version"].to_list() == [2]


def test_error_feed_is_reported_not_ingested():
    page = atom.parse_feed((FIXTURES / "atom_error.xml").read_bytes(), "p")
    assert page.error == "incorrect id format for xyz" and page.records == []


def test_sniff_tells_atom_from_oai(tmp_path):
    gz = tmp_path / "feed.xml.gz"
    gz.write_bytes(gzip.compress((FIXTURES / "atom_feed.xml").read_bytes()))
    assert atom.sniff(gz.read_bytes()[:300]) and atom.sniff((FIXTURES / "atom_feed.xml").read_bytes())
    assert not atom.sniff((FIXTURES / "listrecords_arxivraw.xml").read_bytes())
    assert [r["id"] for r in atom.iter_file_records(gz)] == ["2501.01234v2", "cond-mat/0603029v1"]


def test_truncated_feed_is_one_error_record(tmp_path):
    path = tmp_path / "cut.xml"
    path.write_bytes((FIXTURES / "atom_feed.xml").read_bytes()[:900])
    (rec,) = atom.iter_file_records(path)
    assert rec["_error"].startswith("unusable Atom feed")


@pytest.mark.parametrize("name, expected", [("recorded_q_testing_s0_m10_bc5a6c384fe9.json", 10),
                                            ("recorded_id_0000.0000_s0_m100_8b51d9633a68.json", 0),
                                            ("recorded_id_astro-ph_0601001_s0_m100_3150dca9dc76.json", 1)])
def test_real_recorded_api_responses(name, expected):
    recorded = json.loads(shared_path("data", "fixtures", "arxiv_api_atom", name).read_text())
    page = atom.parse_feed(recorded["body"].encode(), name)
    assert len(page.records) == expected and page.error is None
    assert all("/" not in r["id"] or r["id"].startswith("astro-ph/") for r in page.records)
    if expected:
        _rows, rejected = normalize_batch(raw_frame(page.records), default_source="atom")
        assert rejected.height == 0


def test_real_api_error_response():
    recorded = json.loads(shared_path("data", "fixtures", "arxiv_api_atom",
                                      "recorded_id_abc_s0_m100_b79c8dcf6bc3.json").read_text())
    assert recorded["status_code"] == 400
    assert atom.parse_feed(recorded["body"].encode(), "p").error == "incorrect id format for abc"


def test_real_2016_feeds_with_local_namespace_declarations():
    folder = shared_path("data", "fixtures", "arxiv_api_atom")
    records = [r for p in sorted(folder.glob("atom_*.xml")) for r in atom.parse_feed(p.read_bytes(), p.name).records]
    assert records and not [r for r in records if "_error" in r]
    assert any(r["id"].startswith("cond-mat/0603029v") and r["categories"].startswith("cond-mat.str-el") for r in records)
