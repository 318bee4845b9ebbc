"""Every `arxiv-trends ...` command line shown in the README and docs/ is one the CLI accepts: the command
exists, and so does each option, with a valid value (parsed by the real click app, not run)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from flows.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BREAKS = {"|", "||", "&&", ";", ">", ">>", "2>&1", "&"}


def shown_commands() -> list[tuple[str, str]]:
    """(file:line, command line) of every arxiv-trends invocation in a fenced shell or console block."""
    found = []
    for doc in DOCS:
        in_block, lang = False, ""
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("```"):
                in_block, lang = (not in_block, line[3:].strip()) if not in_block else (False, "")
                continue
            if lang == "console" and not line.startswith("$ "):
                continue  # a command's output
            if in_block and lang in ("bash", "sh", "console", "") and arguments(line) is not None:
                found.append((f"{doc.relative_to(ROOT)}:{number}", line))
    return found


def arguments(line: str) -> list[str] | None:
    """The arguments of an ``arxiv-trends`` command line (after any ``VAR=value`` words; a comment, pipe or
    redirection ends them); None when the line runs something else."""
    if "arxiv-trends" not in line:
        return None
    words = shlex.split(line.removeprefix("$ "), comments=True)
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        words = words[1:]
    if not words or not (words[0] == "arxiv-trends" or words[0].endswith("/arxiv-trends")):
        return None
    args = []
    for word in words[1:]:
        if word in SHELL_BREAKS:
            break
        args.append(word)
    return args


def parse(args: list[str]) -> str | None:
    """Parse ``args`` as the CLI would, down to the subcommand's own options (click's usage errors are raised);
    returns the subcommand's name."""
    ctx = cli.make_context("arxiv-trends", list(args), resilient_parsing=False)
    rest = [*ctx.protected_args, *ctx.args]
    if not rest:
        return None
    command = cli.get_command(ctx, rest[0])
    if command is None:
        raise click.UsageError(f"no such command {rest[0]!r}")
    try:
        command.make_context(rest[0], rest[1:], parent=ctx)
    except click.BadParameter as exc:
        if "does not exist" not in str(exc):  # a placeholder path (GOLD.jsonl, new.jsonl.gz) is fine
            raise
    return rest[0]


COMMANDS = shown_commands()


def test_the_docs_show_commands():
    assert len(COMMANDS) > 30
    assert {parse(arguments(line)) for _, line in COMMANDS} >= {
        "backfill", "run", "status", "config", "classify", "harvest", "report", "verify", "deploy"}


@pytest.mark.parametrize("where, line", COMMANDS, ids=[where for where, _ in COMMANDS])
def test_each_shown_command_parses(where, line):
    parse(arguments(line))


def shown_config_files() -> list[tuple[str, str]]:
    """(file, text) of every ```toml block in the README and docs/."""
    return [(doc.name, text) for doc in DOCS
            for text in re.findall(r"^```toml\n(.*?)^```", doc.read_text(encoding="utf-8"), flags=re.M | re.S)]


@pytest.mark.parametrize("where, text", shown_config_files(), ids=[w for w, _ in shown_config_files()])
def test_each_config_file_shown_is_valid(where, text, tmp_path, monkeypatch):
    import tomllib

    from flows.config import BY_NAME, CONFIG_ENV, load_config

    for key in BY_NAME.values():
        monkeypatch.delenv(key.env, raising=False)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    table = tomllib.loads(text)
    shown = table.get("classify", {})
    for name in [shown.get("taxonomy"), *shown.get("labels", [])]:  # the files it names, as the reader would have them
        if name:
            (tmp_path / name).write_text("")
    path = tmp_path / "arxiv-trends.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(file=path)
    keys = {f"{section}.{key}" for section, values in table.items() for key in values}
    assert keys and {name for name, source in config.sources.items() if source == "file"} == keys
