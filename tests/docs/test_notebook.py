"""examples/analysis.ipynb runs top to bottom (on the warehouse the README's tour built) and is kept without outputs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "analysis.ipynb"


def test_the_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code), \
        "strip the outputs before committing (jupyter nbconvert --clear-output --inplace examples/analysis.ipynb)"


def test_the_notebook_runs_top_to_bottom(tour, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("ARXIV_TRENDS_HOME", str(tour.home))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    outputs = {i: [o for o in cell.outputs] for i, cell in enumerate(nb.cells) if cell.cell_type == "code"}
    errors = [o for cell_outputs in outputs.values() for o in cell_outputs if o.output_type == "error"]
    assert not errors
    text = "\n".join(o.get("text", "") or json.dumps(o.get("data", {}).get("text/plain", ""))
                     for cell_outputs in outputs.values() for o in cell_outputs)
    assert f"data root: {tour.home}" in text
    assert "3,000 papers" in text
    assert "papers_low" in text and "papers_high" in text  # the topic-month table with its intervals
    assert "records classified" in text and "corrected estimate with its 90% interval" in text  # classify-file --summary
    figures = [o for cell_outputs in outputs.values() for o in cell_outputs
               if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert figures and figures[0]["data"]["application/vnd.plotly.v1+json"]["data"], "the chart has traces"
