"""Commands: classify, classify-file, evaluate, label-sample."""

from __future__ import annotations

import json

import click

from flows.cli.app import cli, config_from, settings_from


@cli.command("classify")
@click.option("--all", "all_", is_flag=True, help="Reclassify every paper, not only new and changed ones.")
@click.option("--refit", is_flag=True, help="Fit a new model version first (then every paper is reclassified).")
@click.option("--embedder", type=click.Choice(["fast", "accurate"]), default=None,
              help="Embedding backend (default: the config's classify.embedder, else the saved model's, else "
                   "fast); a different one refits.")
@click.option("--taxonomy", type=click.Path(dir_okay=False), default=None,
              help="Your own taxonomy YAML file (default: the config's classify.taxonomy).")
@click.option("--labels", "labels", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Your own labelled papers (gold-file format; repeatable), learned from with the shipped ones; "
                   "a model fitted on other labels is refitted (default: the config's classify.labels).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def classify(ctx: click.Context, all_: bool, refit: bool, embedder: str | None, taxonomy: str | None,
             labels: tuple[str, ...], as_json: bool) -> None:
    """Classify papers into the taxonomy topics (new and changed papers by default)."""
    from analytics.classify.pipeline import classify_warehouse
    from warehouse.api import Warehouse

    config = config_from(ctx)
    wh = Warehouse(settings_from(ctx))
    summary = classify_warehouse(wh, all=all_, refit=refit, embedder=embedder or config["classify.embedder"],
                                 taxonomy=taxonomy or config["classify.taxonomy"],
                                 labels=labels or config["classify.labels"], progress=not as_json)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), default=str))
        return
    click.echo(f"model {summary.model_version}{' (new fit)' if summary.fitted else ''}: classified "
               f"{summary.classified} papers, {summary.assignments} topic assignments, "
               f"{summary.papers_without_topic} without a topic, {summary.subtopics} subtopics "
               f"in {summary.seconds:.1f} s")
    if summary.evaluation:
        ev = summary.evaluation
        click.echo(f"cross-validated on {ev['labels']} labelled papers: macro F1 {ev['macro_f1']:.3f}"
                   f"{_interval(ev.get('macro_f1_ci'))}, micro F1 {ev['micro_f1']:.3f}"
                   f"{_interval(ev.get('micro_f1_ci'))}, mean absolute count bias {ev['mean_abs_count_bias']:.1%}")
        click.echo("  by era: " + ", ".join(f"{era} {v['macro_f1']:.3f}{_interval(v.get('macro_f1_ci'))}"
                                            for era, v in ev.get("by_era", {}).items()))


def _interval(ci) -> str:
    """`` (95% CI 0.70-0.79)`` for a bootstrap interval, nothing when there is none."""
    return f" (95% CI {ci[0]:.3f}–{ci[1]:.3f})" if ci else ""


@cli.command("classify-file")
@click.argument("in_path", metavar="IN", type=click.Path(exists=True))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Output JSON lines.")
@click.option("--summary", "summary_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the records' topic counts as one group: classified, and corrected for the "
                   "classifier's measured errors with a 90% interval (JSON).")
@click.pass_context
def classify_file_cmd(ctx: click.Context, in_path: str, out_path: str, summary_path: str | None) -> None:
    """Classify the records of IN (any file backfill reads) with the saved model."""
    from analytics.classify.pipeline import classify_file

    summary = classify_file(settings_from(ctx), in_path, out_path, summary_path)
    click.echo(f"{summary.records} records classified ({summary.with_topic} with a topic) "
               f"with {summary.model_version} -> {summary.out}" + (f"; summary -> {summary.summary}"
                                                                  if summary.summary else ""))


@cli.command("evaluate")
@click.argument("gold", type=click.Path(exists=True, dir_okay=False))
@click.option("--papers", "papers_path", type=click.Path(exists=True), default=None,
              help="Read the gold papers from this file instead of the warehouse.")
@click.option("--by-era", is_flag=True, help="Also one table per era (<=2014, 2015-19, 2020-24, 2025-26).")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON (eras always included).")
@click.pass_context
def evaluate_cmd(ctx: click.Context, gold: str, papers_path: str | None, by_era: bool, as_json: bool) -> None:
    """Per-topic precision / recall / F1 and count bias of the saved model against GOLD.jsonl."""
    from analytics.classify.pipeline import evaluate_saved
    from warehouse.api import Warehouse

    settings = settings_from(ctx)
    result = evaluate_saved(settings, gold, papers_path, Warehouse(settings))
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    _evaluation_table(result.as_dict(), f"{result.papers} papers, {len(result.missing)} gold papers not found")
    if by_era:
        for era, part in result.by_era.items():
            click.echo(f"\nera {era}")
            _evaluation_table(part, f"{part['papers']} papers")


def _evaluation_table(ev: dict, papers: str) -> None:
    """Per-topic rows, then the macro / micro / count-bias line."""
    click.echo(f"{'topic':26s} {'prec':>6s} {'recall':>6s} {'f1':>6s} {'n':>4s} {'count bias':>10s}")
    for topic, m in ev["per_topic"].items():
        bias = ev["count_bias"].get(topic)
        click.echo(f"{topic:26s} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:4d} "
                   f"{'–' if bias is None else f'{bias:+.0%}':>10s}")
    mean_bias = ev.get("mean_abs_count_bias")
    click.echo(f"macro F1 {ev['macro_f1']:.3f}{_interval(ev.get('macro_f1_ci'))}  "
               f"micro F1 {ev['micro_f1']:.3f}{_interval(ev.get('micro_f1_ci'))}  "
               f"mean |count bias| {'–' if mean_bias is None else f'{mean_bias:.1%}'}  "
               f"({papers}; intervals: bootstrap over the gold papers; count bias: predicted / true papers - 1)")


@cli.command("label-sample")
@click.option("--n", "n", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="How many papers to propose.")
@click.option("--topic", default=None, help="Only papers the model is unsure about for this topic id.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Output JSON lines.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the candidate draw.")
@click.pass_context
def label_sample_cmd(ctx: click.Context, n: int, topic: str | None, out_path: str, seed: int) -> None:
    """Write the papers whose labels would most improve the model: fill in "topics", pass back with --labels."""
    from analytics.classify.pipeline import load_model
    from analytics.classify.sampling import label_sample, write_sample
    from warehouse.api import Warehouse

    settings = settings_from(ctx)
    wh = Warehouse(settings)
    with wh.lock():
        rows = label_sample(wh, load_model(settings), n=n, topic=topic, seed=seed)
    path = write_sample(rows, out_path)
    eras = rows["era"].value_counts(sort=True).iter_rows() if rows.height else []
    click.echo(f"{rows.height} papers to label -> {path} ({', '.join(f'{e} {c}' for e, c in eras)}); fill in "
               "\"topics\" on each line (a list of topic ids; [] for none), then run "
               f"`arxiv-trends classify --refit --labels {path}`")
