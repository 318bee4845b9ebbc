"""Commands: classify, classify-file, evaluate."""

from __future__ import annotations

import json

import click

from flows.cli.app import cli, settings_from


@cli.command("classify")
@click.option("--all", "all_", is_flag=True, help="Reclassify every paper, not only new and changed ones.")
@click.option("--refit", is_flag=True, help="Fit a new model version first (then every paper is reclassified).")
@click.option("--embedder", type=click.Choice(["fast", "accurate"]), default=None,
              help="Embedding backend (default: the saved model's, else fast); a different one refits.")
@click.option("--taxonomy", type=click.Path(dir_okay=False), default=None, help="Your own taxonomy YAML file.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def classify(ctx: click.Context, all_: bool, refit: bool, embedder: str | None, taxonomy: str | None, as_json: bool) -> None:
    """Classify papers into the taxonomy topics (new and changed papers by default)."""
    from analytics.classify.pipeline import classify_warehouse
    from warehouse.api import Warehouse

    wh = Warehouse(settings_from(ctx))
    summary = classify_warehouse(wh, all=all_, refit=refit, embedder=embedder, taxonomy=taxonomy,
                                 progress=not as_json)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), default=str))
        return
    click.echo(f"model {summary.model_version}{' (new fit)' if summary.fitted else ''}: classified "
               f"{summary.classified} papers, {summary.assignments} topic assignments, "
               f"{summary.papers_without_topic} without a topic, {summary.subtopics} subtopics "
               f"in {summary.seconds:.1f} s")
    if summary.evaluation:
        ev = summary.evaluation
        click.echo(f"dev gold: macro F1 {ev['macro_f1']:.3f}{_interval(ev.get('macro_f1_ci'))}, "
                   f"micro F1 {ev['micro_f1']:.3f}{_interval(ev.get('micro_f1_ci'))}")


def _interval(ci) -> str:
    """`` (95% CI 0.70-0.79)`` for a bootstrap interval, nothing when there is none."""
    return f" (95% CI {ci[0]:.3f}–{ci[1]:.3f})" if ci else ""


@cli.command("classify-file")
@click.argument("in_path", metavar="IN", type=click.Path(exists=True))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Output JSON lines.")
@click.pass_context
def classify_file_cmd(ctx: click.Context, in_path: str, out_path: str) -> None:
    """Classify the records of IN (any file backfill reads) with the saved model."""
    from analytics.classify.pipeline import classify_file

    summary = classify_file(settings_from(ctx), in_path, out_path)
    click.echo(f"{summary.records} records classified ({summary.with_topic} with a topic) "
               f"with {summary.model_version} -> {summary.out}")


@cli.command("evaluate")
@click.argument("gold", type=click.Path(exists=True, dir_okay=False))
@click.option("--papers", "papers_path", type=click.Path(exists=True), default=None,
              help="Read the gold papers from this file instead of the warehouse.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@click.pass_context
def evaluate_cmd(ctx: click.Context, gold: str, papers_path: str | None, as_json: bool) -> None:
    """Per-topic precision / recall / F1 of the saved model against GOLD.jsonl."""
    from analytics.classify.pipeline import evaluate_saved
    from warehouse.api import Warehouse

    settings = settings_from(ctx)
    result = evaluate_saved(settings, gold, papers_path, Warehouse(settings))
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    click.echo(f"{'topic':26s} {'prec':>6s} {'recall':>6s} {'f1':>6s} {'n':>4s}")
    for topic, m in result.per_topic.items():
        click.echo(f"{topic:26s} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:4d}")
    click.echo(f"macro F1 {result.macro_f1:.3f}{_interval(result.macro_f1_ci)}  "
               f"micro F1 {result.micro_f1:.3f}{_interval(result.micro_f1_ci)}  "
               f"({result.papers} papers, {len(result.missing)} gold papers not found; "
               f"intervals: bootstrap over the gold papers)")
