"""Command: config (the effective settings, from the config file, the environment and the defaults)."""

from __future__ import annotations

import json

import click

from flows.cli.app import cli, config_from
from flows.config import BY_NAME, template


def _shown(value) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        return ", ".join(value) if value else "(none)"
    return str(value)


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@click.option("--template", "as_template", is_flag=True,
              help="Print an arxiv-trends.toml with every key commented out, to start a file from.")
@click.pass_context
def config_cmd(ctx: click.Context, as_json: bool, as_template: bool) -> None:
    """The effective settings and where each came from (a flag, the environment, the config file, the default)."""
    if as_template:
        click.echo(template(), nl=False)
        return
    config = config_from(ctx)
    if as_json:
        click.echo(json.dumps(config.as_dict(), indent=2))
        return
    click.echo(f"config file: {config.file or 'none (arxiv-trends config --template prints one to start from)'}")
    width = max(len(name) for name in BY_NAME)
    shown = {name: _shown(config[name]) for name in BY_NAME}
    value_width = min(48, max(len(text) for text in shown.values()))
    for name in BY_NAME:
        click.echo(f"{name:<{width}}  {shown[name]:<{value_width}}  {config.sources[name]}")
