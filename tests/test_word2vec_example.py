"""examples/word2vec_batches.py runs as a user would run it and writes its figure."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "word2vec_batches.py"


@pytest.mark.parametrize("corpus", ["default", "file"])
def test_example_runs_and_writes_png(corpus, tmp_path):
    out = tmp_path / "fig.png"
    args = [sys.executable, str(EXAMPLE), "--out", str(out)]
    if corpus == "file":
        text = tmp_path / "corpus.txt"
        text.write_text("\n".join(" ".join(f"w{(i * j) % 97}" for j in range(1, 30)) for i in range(1, 400)))
        args += ["--corpus", str(text), "--window", "3"]
    res = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "pairs (centre -> context | negatives)" in res.stdout
