"""The notebook in a fresh Colab-like runtime: a new venv holding only what a notebook kernel
needs (ipykernel), the notebook copied alone into an empty folder, pip reaching only the
package index, and the course's copy of tinygrad_mnist given to the first cell as an sdist path
(the one line a student edits, `PACKAGE = ""`). The notebook must install the package (and
NumPy, cffi, tqdm with it) and run from top to bottom; a copy that cannot be installed must
stop the install cell with pip's reason, before the next cell fails on a missing module.

The sdist is $TINYGRAD_MNIST_SDIST (CI passes the one `python -m build` made), else one is
built here from a copy of the source tree (needs the `build` package). MNIST is given as a
folder (MNIST_DIR), as a course would offline. Slow: a venv, pip, a C build, one epoch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import REPO

NOTEBOOK = REPO / "examples" / "course_walkthrough.ipynb"
SDIST_ENV = "TINYGRAD_MNIST_SDIST"
# what the environment must not lend the fresh runtime: this checkout, the data, the backend
LEAKS = ("PYTHONPATH", "TINYGRAD_MNIST_DATA", "TINYGRAD_BACKEND", "VIRTUAL_ENV", "PYTHONHOME")

pytestmark = pytest.mark.slow


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kwargs)
    assert done.returncode == 0, f"{cmd}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def the_sdist(tmp: Path) -> Path:
    given = os.environ.get(SDIST_ENV)
    if given:
        assert Path(given).is_file(), f"${SDIST_ENV} = {given}: no such file"
        return Path(given)
    pytest.importorskip("build", reason=f"set ${SDIST_ENV} or install `build` to make an sdist")
    tree = tmp / "source"  # a copy, so that the build leaves nothing in the checkout
    shutil.copytree(
        REPO,
        tree,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", "*.so", ".*cache"
        ),
    )
    run([sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp / "dist"), str(tree)])
    return next((tmp / "dist").glob("tinygrad_mnist-*.tar.gz"))


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    """A fresh venv with ipykernel only, registered as the kernel `fresh-colab`."""
    pytest.importorskip("nbclient")
    pytest.importorskip("nbformat")
    tmp = tmp_path_factory.mktemp("colab")
    venv.create(tmp / "venv", with_pip=True)
    python = tmp / "venv" / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in LEAKS}
    run([str(python), "-m", "pip", "install", "--quiet", "ipykernel"], env=env)
    probe = "import importlib.util as u; print([u.find_spec(m) is None for m in ('numpy', 'tinygrad_mnist')])"
    assert run([str(python), "-c", probe], env=env, cwd=tmp).stdout.strip() == "[True, True]"
    run(
        [str(python), "-m", "ipykernel", "install", "--prefix", str(tmp / "jupyter"), "--name", "fresh-colab"],
        env=env,
    )  # fmt: skip
    return tmp, python


def execute(tmp: Path, folder: Path, nb, monkeypatch) -> None:
    """Run `nb` in the fresh runtime's kernel, in `folder`, with nothing leaking in."""
    import nbclient

    for name in LEAKS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp / "jupyter" / "share" / "jupyter"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp / "cache"))  # no MNIST in a cache either
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    client = nbclient.NotebookClient(
        nb, timeout=900, kernel_name="fresh-colab", resources={"metadata": {"path": str(folder)}}
    )
    client.execute()


def student_copy(folder: Path, package: str, mnist_dir: str | None = None):
    """The notebook, alone in `folder`, with PACKAGE (and MNIST_DIR) set as a student would."""
    import nbformat

    folder.mkdir()
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    text = (folder / NOTEBOOK.name).read_text()
    assert text.count('PACKAGE = \\"\\"') == 1 and text.count('MNIST_DIR = \\"\\"') == 1
    text = text.replace('PACKAGE = \\"\\"', "PACKAGE = " + json.dumps(json.dumps(package))[1:-1])
    if mnist_dir is not None:
        text = text.replace(
            'MNIST_DIR = \\"\\"', "MNIST_DIR = " + json.dumps(json.dumps(mnist_dir))[1:-1]
        )
    (folder / NOTEBOOK.name).write_text(text)
    assert sorted(p.name for p in folder.iterdir()) == [NOTEBOOK.name]
    return nbformat.read(folder / NOTEBOOK.name, as_version=4)


def outputs_text(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_a_copy_pip_cannot_install_stops_the_install_cell(runtime, tmp_path, monkeypatch):
    import nbclient

    tmp, _ = runtime
    broken = tmp_path / "tinygrad_mnist-0.0.1.tar.gz"
    broken.write_bytes(b"not a tar file")
    nb = student_copy(tmp_path / "nb", str(broken))
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        execute(tmp, tmp_path / "nb", nb, monkeypatch)
    code = [c for c in nb.cells if c.cell_type == "code"]
    error = code[1].outputs[-1]  # the install cell stops, with pip's reason
    assert error.output_type == "error" and error.ename == "RuntimeError", error
    assert error.evalue.startswith(f"pip could not install tinygrad_mnist from {broken}; pip said:")
    assert "not a gzip file" in error.evalue
    assert code[2].execution_count is None  # the imports never ran: no ModuleNotFoundError

    nb = student_copy(tmp_path / "nb2", str(tmp_path / "nowhere.tar.gz"))
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="no such file or folder"):
        execute(tmp, tmp_path / "nb2", nb, monkeypatch)


def test_a_fresh_runtime_runs_the_notebook_from_an_sdist(runtime, tmp_path, mnist_dir, monkeypatch):
    tmp, python = runtime
    sdist = the_sdist(tmp_path)
    folder = tmp_path / "content"  # Colab's working folder
    nb = student_copy(folder, str(sdist), str(mnist_dir))
    execute(tmp, folder, nb, monkeypatch)

    text = outputs_text(nb)
    site = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    assert f"installing tinygrad_mnist from {sdist}" in text
    assert f"tinygrad_mnist 0.1.0 from {site}/tinygrad_mnist\n" in text
    assert "backends on this machine: ['c', 'numpy']" in text  # the C kernels were built
    assert "h3 = 0.4975 0.5025\nloss = 0.6982" in text and "dL/dh2 = [0.0, 0.0, 0.0]" in text
    assert f"MNIST from {mnist_dir}\n" in text
    assert float(text.split("test accuracy after one epoch: ")[1].split("%")[0]) > 85
    assert (folder / "forward_pass.html").is_file()  # the explorer's page, besides inline
    frames = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs
        if "<iframe srcdoc=" in o.get("data", {}).get("text/html", "")
    ]  # fmt: skip
    assert len(frames) == 1
