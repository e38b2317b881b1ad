"""examples/course_walkthrough.ipynb: stored without outputs, and runs from top to bottom.

Running it needs nbclient and ipykernel (CI installs them); the test skips without them.
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import REPO

NOTEBOOK = REPO / "examples" / "course_walkthrough.ipynb"


def test_stored_notebook_keeps_no_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) >= 8
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None
    assert "install" in "".join(code[0]["source"])  # the first cell installs, Colab-style


@pytest.mark.slow
def test_notebook_runs_top_to_bottom(mnist_dir, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("TINYGRAD_MNIST_DATA", str(mnist_dir))
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3").execute()

    def text(cell) -> str:
        return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")

    code = [c for c in nb.cells if c.cell_type == "code"]
    everything = "".join(text(c) for c in code)
    assert "sum(dim=0):    [12.0, 15.0, 18.0]" in everything
    assert "h3 = 0.4975 0.5025\nloss = 0.6982" in everything
    assert "after one gradient-descent step (lr = 0.5): loss = 0.3429" in everything
    assert "# runs fused with (1) as one linear+sigmoid op" in everything
    accuracy = float(everything.split("test accuracy after one epoch: ")[1].split("%")[0])
    assert accuracy > 85
    graphs = [
        o
        for c in code
        for o in c.outputs
        if o.output_type == "execute_result" and "graph of" in o.data.get("text/plain", "")
    ]
    assert len(graphs) == 3  # draw_dot shows inline: the worked example, fused, unfused
    assert "linear+sigmoid" in graphs[1].data["text/plain"]
    assert "Sigmoid(" in graphs[2].data["text/plain"]
