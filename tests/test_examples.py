"""Every example runs as a user would run it (short settings) and writes its figure, and its
``--help`` documents every option."""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))

RUNS = [
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
    ("word2vec_batches.py", []),
    ("word2vec_train.py", ["--epochs", "2"]),
    ("word2vec_nce.py", ["--steps", "401"]),
]


def test_every_example_is_run():
    assert sorted(script for script, _ in RUNS) == SCRIPTS


@pytest.mark.parametrize("script,args", RUNS)
def test_example_runs_and_writes_png(script, args, tmp_path):
    out = tmp_path / "fig.png"
    res = subprocess.run([sys.executable, str(EXAMPLES / script), *args, "--out", str(out)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"


_SECTION = re.compile(r"^(options|optional arguments|positional arguments):\s*$")
_ENTRY = re.compile(r"^ {2}\S")  # an option or positional: indented two spaces; help text sits deeper


def undocumented(help_text):
    """The options (and positionals) of an argparse help text that have no description.

    argparse prints ``  --opt METAVAR   description`` (two or more spaces before the
    description), or the invocation alone on its line with the description on the next,
    more deeply indented line when the invocation is long: an entry with neither is undocumented.
    """
    missing, lines, inside = [], help_text.splitlines(), False
    for k, line in enumerate(lines):
        if _SECTION.match(line):
            inside = True
            continue
        if line.strip() and not line.startswith(" "):  # another section or the epilog
            inside = False
        if not inside or not _ENTRY.match(line):
            continue
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        if len(parts) == 2 and parts[1].strip():
            continue
        following = lines[k + 1] if k + 1 < len(lines) else ""
        if following.strip() and following.startswith("    ") and not _ENTRY.match(following):
            continue
        missing.append(parts[0])
    return missing


def test_undocumented_finds_options_without_help(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")  # the width the examples' help is printed at below
    p = argparse.ArgumentParser(prog="x", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("path", help="a file")
    p.add_argument("--documented", type=float, default=1.0, help="ms")
    p.add_argument("--a-very-long-option-name-indeed", metavar="A_VERY_LONG_METAVAR", help="wrapped to its own line")
    p.add_argument("--bare", type=int, default=3)
    p.add_argument("--flag", action="store_true")
    p.add_argument("--choice", choices=["a", "b"])
    p.add_argument("--long-and-bare", metavar="A_VERY_LONG_METAVAR_TOO")
    p.add_argument("last")
    assert sorted(undocumented(p.format_help())) == ["--bare BARE", "--choice {a,b}", "--flag",
                                                 "--long-and-bare A_VERY_LONG_METAVAR_TOO", "last"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_help_documents_every_option(script, tmp_path):
    env = dict(os.environ, COLUMNS="100")
    res = subprocess.run([sys.executable, str(EXAMPLES / script), "--help"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    assert re.search(r"^ {2}--out\b", res.stdout, re.M), f"{script} has no --out option:\n{res.stdout}"
    assert undocumented(res.stdout) == [], f"{script}: options without help text:\n{res.stdout}"
