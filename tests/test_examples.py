"""Every example runs as a user would run it (short settings) and writes its figure."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("script,args", [
    ("softmax_regression.py", ["--epochs", "3"]),
    ("mlp_digits.py", ["--epochs", "3"]),
    ("autoencoder_838.py", ["--epochs", "200"]),
    ("lif_fi_curve.py", ["--duration", "200"]),
    ("mlp_regression.py", ["--epochs", "5"]),
    ("brian2_tutorial_part1.py", ["--duration", "200"]),
    ("hh_spike_train.py", ["--duration", "200"]),
    ("cuba_network.py", ["--n", "400", "--duration", "100"]),
    ("stdp_window.py", ["--pairs", "20"]),
    ("brian2_tutorial_part2.py", []),
    ("word2vec_train.py", ["--epochs", "2"]),
    ("word2vec_nce.py", ["--steps", "401"]),
])
def test_example_runs_and_writes_png(script, args, tmp_path):
    out = tmp_path / "fig.png"
    res = subprocess.run([sys.executable, str(EXAMPLES / script), *args, "--out", str(out)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"
