"""``arxiv-trends.toml``: what an operator sets once, for every command and every scheduled run.

The file is the one named by ``--config FILE`` or ``$ARXIV_TRENDS_CONFIG``, else ``arxiv-trends.toml`` in the data
root (for a URL data root: in its local working folder). Precedence, highest first: a command's flag, the key's
environment variable, the file, the built-in default. Paths in the file are relative to the file's folder. A wrong
section, key, type or value is one ``ConfigError`` line naming the key. ``arxiv-trends config`` prints every value
and where it came from; the flows load the same configuration when they run, so scheduled runs follow the file.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows.deployments import DEPLOYMENTS, TIMEZONE
from warehouse.errors import InputError
from warehouse.harvest.defaults import DEFAULT_OAI_ENDPOINT, DEFAULT_SETS
from warehouse.settings import CONTACT_ENV, DEFAULT_CONTACT, DEFAULT_HOME, HOME_ENV, Settings, is_url

CONFIG_ENV = "ARXIV_TRENDS_CONFIG"
FILE_NAME = "arxiv-trends.toml"
EMBEDDERS = ("fast", "accurate")


class ConfigError(InputError):
    """A config file, environment variable or value that cannot be used (the message names the key)."""


@dataclass(frozen=True)
class Key:
    name: str                  # "section.key" ("home" has no section)
    kind: str                  # how a value is checked: a key of _CHECKS
    default: Any
    env: str                   # the environment variable that overrides the file
    doc: str                   # one line for `arxiv-trends config` and the template
    example: Any = None        # shown in the template when the default is None


def _cron(name: str) -> str:
    return next(spec.cron for spec in DEPLOYMENTS if spec.schedule_key == name)


KEYS: tuple[Key, ...] = (
    Key("home", "location", DEFAULT_HOME, HOME_ENV,
        "the data root, a folder or an fsspec URL (only in a file named by --config or $ARXIV_TRENDS_CONFIG)",
        example="/srv/arxiv-trends"),
    Key("harvest.sets", "names", list(DEFAULT_SETS), "ARXIV_TRENDS_SETS",
        "OAI sets to harvest ([] = every set)"),
    Key("harvest.categories", "names", [], "ARXIV_TRENDS_CATEGORIES",
        "keep only papers in these arXiv categories ([] = all of the sets)", example=["cs.CL", "cs.LG"]),
    Key("harvest.contact", "email", DEFAULT_CONTACT, CONTACT_ENV,
        "your e-mail address, sent to arXiv in the User-Agent so they can write before blocking"),
    Key("harvest.endpoint", "url", DEFAULT_OAI_ENDPOINT, "ARXIV_TRENDS_ENDPOINT", "the OAI-PMH endpoint"),
    Key("classify.embedder", "embedder", None, "ARXIV_TRENDS_EMBEDDER",
        "fast or accurate (not set: the saved model's, else fast; a different one refits)", example="fast"),
    Key("classify.taxonomy", "file", None, "ARXIV_TRENDS_TAXONOMY",
        "your own taxonomy YAML (not set: the shipped 16 topics)", example="my-topics.yaml"),
    Key("classify.labels", "files", [], "ARXIV_TRENDS_LABELS",
        "your labelled papers (the gold-file format), learned from with the shipped ones",
        example=["my-labels.jsonl"]),
    Key("report.title", "text", None, "ARXIV_TRENDS_REPORT_TITLE",
        "the site's name in every page's title and header (not set: arXiv trends)", example="Big-model trends"),
    Key("schedule.daily", "cron", _cron("schedule.daily"), "ARXIV_TRENDS_SCHEDULE_DAILY",
        "cron of the daily pipeline (harvest, classify new, aggregate)"),
    Key("schedule.weekly_report", "cron", _cron("schedule.weekly_report"), "ARXIV_TRENDS_SCHEDULE_WEEKLY_REPORT",
        "cron of the weekly report rebuild"),
    Key("schedule.timezone", "timezone", TIMEZONE, "ARXIV_TRENDS_SCHEDULE_TIMEZONE",
        "time zone of both schedules (an IANA name)"),
)
BY_NAME = {key.name: key for key in KEYS}
SECTIONS = dict.fromkeys(name.split(".")[0] for name in BY_NAME if "." in name)


# -- checking one value: (value, where relative paths start) -> the value to use, or ValueError(what is wrong) -----
def _describe(value: Any) -> str:
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "the string", list: "a list",
             dict: "a table"}
    kind = kinds.get(type(value), type(value).__name__)
    return f"{kind} {value!r}" if isinstance(value, (str, int, float)) and not isinstance(value, bool) else kind


def _text(value: Any, base: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, not {_describe(value)}")
    return value.strip()


def _names(value: Any, base: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f'must be a list of strings (e.g. ["cs", "stat"]), not {_describe(value)}')
    return [v.strip() for v in value]


def _email(value: Any, base: Path) -> str:
    text = _text(value, base)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise ValueError(f"must be an e-mail address, not {text!r}")
    return text


def _url(value: Any, base: Path) -> str:
    text = _text(value, base)
    if not re.match(r"https?://[^\s/]+", text):
        raise ValueError(f"must be an http:// or https:// URL, not {text!r}")
    return text


def _embedder(value: Any, base: Path) -> str:
    text = _text(value, base)
    if text not in EMBEDDERS:
        raise ValueError(f"must be one of {', '.join(EMBEDDERS)}, not {text!r}")
    return text


def _file(value: Any, base: Path) -> str:
    path = (base / Path(_text(value, base)).expanduser()).resolve()
    if not path.is_file():
        raise ValueError(f"names {path}, which is not a file")
    return str(path)


def _files(value: Any, base: Path) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f'must be a list of file paths (e.g. ["labels.jsonl"]), not {_describe(value)}')
    return [_file(v, base) for v in value]


_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?/,\-#LW]+$")


def _cron_value(value: Any, base: Path) -> str:
    text = _text(value, base)
    fields = text.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"must be a cron expression of 5 fields (minute hour day month weekday), not {text!r}")
    return " ".join(fields)


def _timezone(value: Any, base: Path) -> str:
    text = _text(value, base)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be an IANA time zone such as UTC or Europe/Berlin, not {text!r}") from None
    return text


def _location(value: Any, base: Path) -> str:
    text = _text(value, base)
    return text if is_url(text) else str((base / Path(text).expanduser()).resolve())


_CHECKS: dict[str, Callable[[Any, Path], Any]] = {
    "text": _text, "names": _names, "email": _email, "url": _url, "embedder": _embedder, "file": _file,
    "files": _files, "cron": _cron_value, "timezone": _timezone, "location": _location,
}


def _from_env(key: Key, raw: str) -> Any:
    """An environment variable's text as the file would hold it: lists split on commas or spaces (paths on ':')."""
    if key.kind == "names":
        return [part for part in re.split(r"[,\s]+", raw) if part]
    if key.kind == "files":
        return [part for part in raw.split(os.pathsep) if part]
    return raw


# -- the file --------------------------------------------------------------------------------------------------
def _read_file(path: Path) -> dict[str, Any]:
    """The file's keys as ``{"section.key": value}``; unknown sections and keys are errors naming them."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    flat: dict[str, Any] = {}
    for name, value in table.items():
        if name in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {name} must be a table ([{name}]), not {_describe(value)}")
            for sub, inner in value.items():
                if f"{name}.{sub}" not in BY_NAME:
                    known = ", ".join(k.split(".")[1] for k in BY_NAME if k.startswith(name + "."))
                    raise ConfigError(f"{path}: unknown key {name}.{sub} ([{name}] takes {known})")
                flat[f"{name}.{sub}"] = inner
        elif name in BY_NAME:
            flat[name] = value
        else:
            raise ConfigError(f"{path}: unknown key {name} (the file takes home and the sections "
                              f"{', '.join(f'[{s}]' for s in SECTIONS)})")
    return flat


def _checked(key: Key, value: Any, base: Path, origin: str) -> Any:
    try:
        return _CHECKS[key.kind](value, base)
    except ValueError as exc:
        raise ConfigError(f"{origin}: {key.name} {exc}") from None


# -- the effective configuration -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """Every key's effective value and where it came from (``default``, ``file``, ``env NAME``, ``flag --x``)."""

    values: dict[str, Any]
    sources: dict[str, str]
    file: Path | None           # the file read, if any
    named: bool                 # the file was named (--config / $ARXIV_TRENDS_CONFIG), not found in the data root
    settings: Settings

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def named_file(self) -> str | None:
        """The file to hand on to a flow run (one found in the data root is found there again)."""
        return str(self.file) if self.named and self.file is not None else None

    def harvest_options(self) -> dict[str, Any]:
        """The harvest keys as ``HarvestOptions`` fields (``flows.tasks.harvest_options`` reads them)."""
        sets = self["harvest.sets"]
        return {"sets": [] if "all" in sets else list(sets), "categories": list(self["harvest.categories"]),
                "endpoint": self["harvest.endpoint"]}

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.file) if self.file else None,
                "settings": {name: {"value": self.values[name], "source": self.sources[name]} for name in BY_NAME}}


def load_config(home: str | os.PathLike | None = None, file: str | os.PathLike | None = None, *,
                home_source: str = "flag --home", file_source: str = "flag --config") -> Config:
    """The effective configuration: ``home`` and ``file`` as given (else their environment variables), the
    file's keys, then every other key's environment variable on top."""
    named = file if file is not None else os.environ.get(CONFIG_ENV) or None
    path, table = None, {}
    if named is not None:
        path = Path(named).expanduser().resolve()
        if not path.is_file():
            origin = file_source if file is not None else f"env {CONFIG_ENV}"
            raise ConfigError(f"config file {path} not found ({origin})")
        table = _read_file(path)
    values = {key.name: key.default for key in KEYS}
    sources = dict.fromkeys(values, "default")
    cwd = Path.cwd()

    def take(name: str, value: Any, base: Path, source: str, origin: str) -> None:
        values[name] = _checked(BY_NAME[name], value, base, origin)
        sources[name] = source

    # the data root first: it says where the file of the data root is
    if "home" in table:
        take("home", table["home"], path.parent, "file", str(path))
    if os.environ.get(HOME_ENV):
        take("home", os.environ[HOME_ENV], cwd, f"env {HOME_ENV}", f"env {HOME_ENV}")
    if home is not None:
        take("home", str(home), cwd, home_source, home_source)
    settings = Settings.from_home(values["home"])
    values["home"] = settings.location
    if named is None:
        found = settings.home / FILE_NAME
        if found.is_file():
            path, table = found, _read_file(found)
            if "home" in table:
                raise ConfigError(f"{path}: home cannot be set in the data root's own file (name a file that sets "
                                  "it with --config or $ARXIV_TRENDS_CONFIG)")
    for key in KEYS[1:]:
        if key.name in table:
            take(key.name, table[key.name], path.parent, "file", str(path))
        raw = os.environ.get(key.env)
        if raw:
            take(key.name, _from_env(key, raw), cwd, f"env {key.env}", f"env {key.env}")
    return Config(values=values, sources=sources, file=path, named=named is not None,
                  settings=replace(settings, contact=values["harvest.contact"]))


def template() -> str:
    """An ``arxiv-trends.toml`` with every key commented out at its default (or an example): a file to start from."""
    lines = ["# arxiv-trends.toml: put it in the data root (or name it with --config FILE / $ARXIV_TRENDS_CONFIG).",
             "# Every key is optional; flags and environment variables override the file. Paths are relative to",
             "# this file's folder. `arxiv-trends config` shows the effective settings and where each came from."]
    section = None
    for key in KEYS:
        head, _, name = key.name.rpartition(".")
        if head != section and head:
            section = head
            lines += ["", f"[{head}]"]
        value = key.default if key.default not in (None, []) else key.example
        env = {"names": f"{key.env}, comma-separated", "files": f"{key.env}, paths separated by {os.pathsep!r}"}
        lines += [f"# {key.doc} (environment: {env.get(key.kind, key.env)})",
                  f"# {name} = {json.dumps(value, ensure_ascii=False)}"]
    return "\n".join(lines) + "\n"
