"""Raw arXiv records (Kaggle-snapshot field names) -> rows of the ``papers`` table, vectorised in polars.

Every source parser yields the same raw shape, so the rules for ids, dates and whitespace live here once.
The trend date is the v1 submission time (``versions[0].created``); then Atom's ``published`` (also v1);
then the month encoded in the id. ``date_source`` records which one was used. A record whose id or title is
missing, whose id is not an arXiv id, or whose date field is present but unreadable is rejected with a reason.
"""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl

# The raw shape: Kaggle snapshot fields plus the x_ extras of ../shared/data and the parser bookkeeping.
RAW_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Utf8,
    "title": pl.Utf8,
    "abstract": pl.Utf8,
    "authors": pl.Utf8,
    "authors_parsed": pl.List(pl.List(pl.Utf8)),
    "categories": pl.Utf8,
    "versions": pl.List(pl.Struct({"version": pl.Utf8, "created": pl.Utf8})),
    "update_date": pl.Utf8,
    "doi": pl.Utf8,
    "journal-ref": pl.Utf8,
    "comments": pl.Utf8,
    "license": pl.Utf8,
    "x_published": pl.Utf8,
    "x_updated": pl.Utf8,
    "x_source": pl.Utf8,
    "x_source_categories": pl.List(pl.Utf8),
}
WHERE = "_where"

UTC_TS = pl.Datetime("us", "UTC")
PAPERS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Utf8,
    "version": pl.Int32,
    "title": pl.Utf8,
    "abstract": pl.Utf8,
    "authors": pl.List(pl.Utf8),
    "categories": pl.List(pl.Utf8),
    "primary_category": pl.Utf8,
    "submitted": UTC_TS,
    "date_source": pl.Utf8,
    "updated": UTC_TS,
    "doi": pl.Utf8,
    "journal_ref": pl.Utf8,
    "comments": pl.Utf8,
    "license": pl.Utf8,
    "source": pl.Utf8,
    "ingested_at": UTC_TS,
}

NEW_ID = r"^\d{4}\.\d{4,5}$"
OLD_ID = r"^[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}$"
_RFC2822 = "%d %b %Y %H:%M:%S GMT"  # after dropping the weekday, which some records get wrong
_ISO_FORMATS = ("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%:z",
                "%Y-%m-%d")


def coerce_raw(record: dict) -> dict:
    """Fit one parsed JSON object into RAW_SCHEMA (lists where strings are expected, and so on).

    Raises ``ValueError`` for a field whose type cannot be made to fit (the record is quarantined).
    """
    out = {}
    for key in RAW_SCHEMA:
        value = record.get(key)
        if value is None:
            continue
        if key in ("authors", "categories") and isinstance(value, list):
            value = (", " if key == "authors" else " ").join(str(v) for v in value)
        elif key == "x_source_categories" and isinstance(value, str):
            value = value.split()
        elif key == "versions":
            if not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
                raise ValueError("versions is not a list of {version, created} objects")
            value = [{"version": str(v.get("version")), "created": v.get("created")} for v in value]
        elif key == "authors_parsed":
            if not (isinstance(value, list) and all(isinstance(v, list) for v in value)):
                continue
            value = [[str(p) for p in v] for v in value]
        elif not isinstance(value, (str, list)):
            value = str(value)
        out[key] = value
    if WHERE in record:
        out[WHERE] = str(record[WHERE])
    return out


def raw_frame(records: list[dict]) -> pl.DataFrame:
    """A raw frame (RAW_SCHEMA + ``_where``) from parsed dicts."""
    return pl.DataFrame([coerce_raw(r) for r in records], schema={**RAW_SCHEMA, WHERE: pl.Utf8}, strict=False)


def _parse_rfc2822(col: pl.Expr) -> pl.Expr:
    return col.str.replace(r"^[A-Za-z]{3},\s*", "").str.strip_chars().str.strptime(UTC_TS, _RFC2822, strict=False)


def _clean_text(col: str) -> pl.Expr:
    """Collapse runs of whitespace (ASCII and no-break space) to one space and strip; empty -> null.

    Two cheap passes (odd whitespace -> space, then runs of spaces -> one) are ~5x faster in polars than
    one ``\\s+`` regex, and abstract text is most of the bytes of a backfill.
    """
    text = (pl.col(col).str.replace_all(r"[\t\n\r\f\v\u00a0]", " ").str.replace_all(r"  +", " ")
            .str.strip_chars(" "))
    return text.replace("", None)


def _parse_iso(col: pl.Expr) -> pl.Expr:
    return pl.coalesce([col.str.to_datetime(fmt, time_zone="UTC", strict=False) for fmt in _ISO_FORMATS])


def _id_month() -> pl.Expr:
    """First day of the month encoded in the id (YYMM.NNNNN, or archive/YYMMNNN), UTC."""
    new = pl.col("id").str.extract(r"^(\d{2})(\d{2})\.", 1)
    new_mm = pl.col("id").str.extract(r"^(\d{2})(\d{2})\.", 2)
    old = pl.col("id").str.extract(r"/(\d{2})(\d{2})\d{3}$", 1)
    old_mm = pl.col("id").str.extract(r"/(\d{2})(\d{2})\d{3}$", 2)
    yy = pl.coalesce([new, old]).cast(pl.Int32, strict=False)
    mm = pl.coalesce([new_mm, old_mm]).cast(pl.Int32, strict=False)
    year = pl.when(yy >= 91).then(1900 + yy).otherwise(2000 + yy)
    valid = mm.is_between(1, 12)
    return pl.when(valid).then(pl.datetime(year, mm, 1, time_zone="UTC")).otherwise(None).cast(UTC_TS)


def _split_authors() -> pl.Expr:
    """Author names: from authors_parsed ([last, first, suffix]) when present, else split the string."""
    parsed = pl.col("authors_parsed").list.eval(
        pl.concat_str([pl.element().list.get(1, null_on_oob=True), pl.element().list.get(0, null_on_oob=True),
                       pl.element().list.get(2, null_on_oob=True)], separator=" ", ignore_nulls=True)
        .str.replace_all(r"\s+", " ").str.strip_chars()
    )
    split = (
        pl.col("authors")
        .str.replace_all(r"\([^()]*\)", " ")
        .str.replace_all(r"\s+", " ")
        .str.replace_all(r"\s*,\s*(?:and\s+)?|\s+and\s+", "\x1f")
        .str.split("\x1f")
        .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
    )
    use_parsed = pl.col("authors_parsed").list.len().fill_null(0) > 0
    return pl.when(use_parsed).then(parsed).otherwise(split.fill_null(pl.lit([], dtype=pl.List(pl.Utf8))))


def normalize_batch(raw: pl.DataFrame, *, default_source: str, ingested_at: datetime | None = None
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Normalise a raw frame. Returns ``(papers_rows, rejected)``; rejected has ``_where``, ``id``, ``reason``.

    ``papers_rows`` follows PAPERS_SCHEMA plus a ``year`` column (the partition key).
    """
    now = ingested_at or datetime.now(timezone.utc)
    for name, dtype in {**RAW_SCHEMA, WHERE: pl.Utf8}.items():
        if name not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=dtype).alias(name))

    raw_id = pl.col("id").str.strip_chars().str.replace(r"^(?:oai:arXiv\.org:|arXiv:|https?://arxiv\.org/abs/)", "")
    version_from_id = raw_id.str.extract(r"v(\d+)$", 1).cast(pl.Int32, strict=False)
    first_created = pl.col("versions").list.first().struct.field("created")
    last_created = pl.col("versions").list.last().struct.field("created")
    last_version = (pl.col("versions").list.last().struct.field("version")
                    .str.extract(r"(\d+)", 1).cast(pl.Int32, strict=False))
    cats = pl.col("categories").str.strip_chars().str.split(" ").list.eval(pl.element().filter(pl.element() != ""))

    df = raw.with_columns(
        raw_id.str.replace(r"v\d+$", "").alias("id"),
        _clean_text("title").alias("title"),
        _clean_text("abstract").alias("abstract"),
        pl.coalesce([last_version, version_from_id]).alias("version"),
        _parse_rfc2822(first_created).alias("_v1"),
        _parse_iso(pl.col("x_published")).alias("_published"),
        first_created.alias("_v1_raw"),
        pl.coalesce([_parse_rfc2822(last_created),
                     _parse_iso(pl.col("x_updated")), _parse_iso(pl.col("update_date"))]).alias("updated"),
        pl.when(pl.col("categories").is_not_null()).then(cats).otherwise(pl.col("x_source_categories"))
        .alias("_cats"),
        _split_authors().alias("_authors"),
    ).with_columns(_id_month().alias("_idmonth"))

    reason = (
        pl.when(pl.col("id").is_null() | (pl.col("id") == "")).then(pl.lit("missing id"))
        .when(~(pl.col("id").str.contains(NEW_ID) | pl.col("id").str.contains(OLD_ID)))
        .then(pl.lit("not an arXiv id"))
        .when(pl.col("title").is_null()).then(pl.lit("missing title"))
        .when(pl.col("_v1_raw").is_not_null() & pl.col("_v1").is_null())
        .then(pl.lit("unparseable date in versions[0].created"))
        .when(pl.col("x_published").is_not_null() & pl.col("_published").is_null())
        .then(pl.lit("unparseable date in published"))
        .when(pl.coalesce(["_v1", "_published", "_idmonth"]).is_null()).then(pl.lit("no date"))
        .otherwise(None)
    )
    df = df.with_columns(reason.alias("_reason"))
    rejected = df.filter(pl.col("_reason").is_not_null()).select(WHERE, "id", pl.col("_reason").alias("reason"))
    good = df.filter(pl.col("_reason").is_null())

    rows = good.select(
        "id",
        "version",
        "title",
        "abstract",
        pl.col("_authors").alias("authors"),
        pl.col("_cats").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))).alias("categories"),
        pl.when(pl.col("categories").is_not_null()).then(pl.col("_cats").list.first()).otherwise(None)
        .alias("primary_category"),
        pl.coalesce(["_v1", "_published", "_idmonth"]).alias("submitted"),
        pl.when(pl.col("_v1").is_not_null()).then(pl.lit("v1"))
        .when(pl.col("_published").is_not_null()).then(pl.lit("published"))
        .otherwise(pl.lit("id")).alias("date_source"),
        "updated",
        _clean_text("doi").alias("doi"),
        _clean_text("journal-ref").alias("journal_ref"),
        _clean_text("comments").alias("comments"),
        _clean_text("license").alias("license"),
        pl.col("x_source").fill_null(default_source).alias("source"),
        pl.lit(now).cast(UTC_TS).alias("ingested_at"),
    ).cast(PAPERS_SCHEMA).with_columns(pl.col("submitted").dt.year().cast(pl.Int32).alias("year"))
    return rows, rejected
