"""examples/course_walkthrough.ipynb: stored without outputs, and runs from top to bottom.

Running it needs nbclient and ipykernel (CI installs them); the test skips without them.
The notebook runs in an empty folder, with the package already importable: how it installs
itself in a fresh Colab-like runtime is tested in test_notebook_fresh_runtime.py.
"""

from __future__ import annotations

import html
import json
import os

import pytest
from conftest import REPO

NOTEBOOK = REPO / "examples" / "course_walkthrough.ipynb"

# Appended to the notebook by the test (not stored in it): the gradients the small-batch graph
# shows must be that batch's, not the last training batch's. For cross-entropy averaged over
# the batch, dL/d(last bias) = mean over the batch of (softmax(logits) - one_hot(labels)).
CHECK_CELL = """
probs = np.exp(logits.data - logits.data.max(axis=1, keepdims=True))
probs /= probs.sum(axis=1, keepdims=True)
probs[range(2), y_test[:2]] -= 1
shown = dict(model.named_parameters())["2.bias"].grad.numpy()
print("small-batch gradient is this batch's:", bool(np.allclose(shown, probs.mean(axis=0), atol=1e-6)))
"""


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_stored_notebook_keeps_no_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = code_cells(nb)
    assert len(code) >= 8
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None
    first, second = "".join(code[0]["source"]), "".join(code[1]["source"])
    assert "install" in first.lower()  # the first cell installs, Colab-style
    assert first.count('\nPACKAGE = ""') == 1  # the one line a student edits
    assert "pip" in second and "raise RuntimeError" in second  # a failed install stops here
    mnist = next(c for c in code if "load_mnist_arrays(" in "".join(c["source"]))
    assert '\nMNIST_DIR = ""' in "".join(mnist["source"])  # the cell says where MNIST comes from


@pytest.mark.slow
def test_notebook_runs_top_to_bottom(mnist_dir, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("TINYGRAD_MNIST_DATA", str(mnist_dir))
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(CHECK_CELL))
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()

    def text(cell) -> str:
        return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")

    code = [c for c in nb.cells if c.cell_type == "code"]
    everything = "".join(text(c) for c in code)
    assert "sum(dim=0):    [12.0, 15.0, 18.0]" in everything
    assert "h3 = 0.4975 0.5025\nloss = 0.6982" in everything
    # the key result of the worked example, printed and in the graph, by the student's names
    assert "dL/dh2 = [0.0, 0.0, 0.0]\n" in everything
    assert "dL/da3 = [-0.5025, 0.5025]\n" in everything
    assert "after one gradient-descent step (lr = 0.5): loss = 0.3429" in everything
    assert "MNIST from " + str(mnist_dir) in everything
    assert "# runs fused with (1) as one linear+sigmoid op" in everything
    accuracy = float(everything.split("test accuracy after one epoch: ")[1].split("%")[0])
    assert accuracy > 85
    course = everything.split("sigmoid + MSE, plain SGD: test accuracy after one epoch: ")[1]
    assert float(course.split("%")[0]) > 80
    assert "small-batch gradient is this batch's: True" in everything

    graphs = [
        o.data["text/plain"]
        for c in code
        for o in c.outputs
        if o.output_type == "execute_result" and "graph of" in o.data.get("text/plain", "")
    ]
    assert len(graphs) == 3  # draw_dot shows inline: the worked example, fused, unfused
    worked = {ln.split(" = ")[0].strip(): ln for ln in graphs[0].splitlines()[1:]}
    assert worked["h2"].startswith("  h2 = Sigmoid(a2)  shape (3,) float64")
    assert worked["h2"].endswith("grad [0, 0, 0]")
    assert worked["W1"].endswith("grad [0, 0, 0, 0, ...]")
    assert worked["loss"].startswith("  loss = Mul(")
    assert "(images, 0.weight, 0.bias)" in graphs[1] and "linear+sigmoid" in graphs[1]
    assert "  logits = linear (fused: x @ w^T, + b)(v2, 2.weight, 2.bias)" in graphs[1]
    assert "Sigmoid(" in graphs[2]

    # the explorer, inline: an iframe holding the whole page, also written as a file
    frames = [
        o.data["text/html"]
        for c in code
        for o in c.outputs
        if o.output_type == "execute_result" and "<iframe" in o.data.get("text/html", "")
    ]
    assert len(frames) == 1
    page = (tmp_path / "forward_pass.html").read_text(encoding="utf-8")
    srcdoc = frames[0].split('srcdoc="', 1)[1].split('"', 1)[0]
    assert html.unescape(srcdoc) == page and "The course&#x27;s forward pass" in srcdoc
