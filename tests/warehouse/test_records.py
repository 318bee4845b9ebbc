"""Normalisation rules: ids, whitespace, authors, categories, the trend date and where it came from."""

from datetime import datetime, timezone

import polars as pl

from warehouse.records import PAPERS_SCHEMA, normalize_batch, raw_frame
from tests.warehouse.snapshot_fixtures import record


def _norm(*records):
    rows, rejected = normalize_batch(raw_frame([{**r, "_where": f"t:{i}"} for i, r in enumerate(records)]),
                                     default_source="snapshot")
    return rows, rejected


def test_snapshot_record_normalised():
    rows, rejected = _norm(record("0704.0001", title="  Calculation of prompt\n  diphoton  production ", versions=2))
    assert rejected.is_empty()
    row = rows.row(0, named=True)
    assert row["title"] == "Calculation of prompt diphoton production"
    assert row["version"] == 2
    assert row["submitted"] == datetime(2007, 4, 2, 19, 18, 42, tzinfo=timezone.utc)
    assert row["updated"] == datetime(2007, 7, 24, 20, 10, 27, tzinfo=timezone.utc)
    assert row["date_source"] == "v1"
    assert row["authors"] == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky"]
    assert row["categories"] == ["cs.CL", "cs.LG"] and row["primary_category"] == "cs.CL"
    assert row["source"] == "snapshot" and row["year"] == 2007
    assert set(PAPERS_SCHEMA) <= set(rows.columns)


def test_authors_split_without_parsed_list_and_affiliations_dropped():
    r = record("2401.00001", authors_parsed=None, authors="A. One (MIT, USA), B. Two, and C. Three")
    rows, _ = _norm(r)
    assert rows["authors"][0].to_list() == ["A. One", "B. Two", "C. Three"]


def test_old_style_id_and_version_suffix():
    rows, rejected = _norm(record("hep-th/9901001v3", versions=1), record("math.AG/0601001"))
    assert rejected.is_empty()
    assert rows["id"].to_list() == ["hep-th/9901001", "math.AG/0601001"]
    assert rows["version"].to_list() == [1, 1]  # versions list beats the id suffix


def test_date_falls_back_to_published_then_id_month():
    atom = {"id": "2405.15738", "title": "T", "x_published": "2024-05-23T02:53:25.000Z"}
    bare = {"id": "2503.11731", "title": "T"}
    old = {"id": "cond-mat/9208022", "title": "T"}
    rows, rejected = _norm(atom, bare, old)
    assert rejected.is_empty()
    got = {r["id"]: (r["submitted"], r["date_source"]) for r in rows.iter_rows(named=True)}
    assert got["2405.15738"] == (datetime(2024, 5, 23, 2, 53, 25, tzinfo=timezone.utc), "published")
    assert got["2503.11731"] == (datetime(2025, 3, 1, tzinfo=timezone.utc), "id")
    assert got["cond-mat/9208022"] == (datetime(1992, 8, 1, tzinfo=timezone.utc), "id")


def test_wrong_weekday_in_date_is_tolerated():
    r = record("1208.9998")
    r["versions"] = [{"version": "v1", "created": "Thu, 29 Aug 2012 23:00:00 GMT"}]  # a Wednesday, really
    rows, rejected = _norm(r)
    assert rejected.is_empty() and rows["submitted"][0].day == 29


def test_source_categories_are_not_taken_as_primary():
    rows, _ = _norm({"id": "2412.13147", "title": "T", "x_source_categories": ["cs.AI"]})
    assert rows["categories"][0].to_list() == ["cs.AI"]
    assert rows["primary_category"][0] is None


def test_each_kind_of_bad_record_is_rejected_with_its_reason():
    bad_date = record("0704.0002")
    bad_date["versions"] = [{"version": "v1", "created": "not a date"}]
    rows, rejected = _norm(
        {"title": "no id"},
        {"id": "0704.0003"},
        {"id": "hello world", "title": "T"},
        bad_date,
        {"id": "2401.00002", "title": "T", "x_published": "yesterday"},
        record("0704.0004"),
    )
    assert rows["id"].to_list() == ["0704.0004"]
    assert dict(zip(rejected["_where"], rejected["reason"])) == {
        "t:0": "missing id",
        "t:1": "missing title",
        "t:2": "not an arXiv id",
        "t:3": "unparseable date in versions[0].created",
        "t:4": "unparseable date in published",
    }


def test_authors_as_list_are_accepted():
    rows, _ = _norm({"id": "2401.00003", "title": "T", "authors": ["Ann Lee", "Bo Wu"]})
    assert rows["authors"][0].to_list() == ["Ann Lee", "Bo Wu"]
    assert rows.schema["authors"] == pl.List(pl.Utf8)
