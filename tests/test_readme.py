"""Every Python block of README.md runs as pasted: each in a fresh interpreter, in an empty
directory (a block creates the files it reads), within a time limit."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    text = README.read_text(encoding="utf-8")
    blocks = []
    for m in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        line = text.count("\n", 0, m.start()) + 1
        heading = [h for h in re.findall(r"^## (.*)$", text[:m.start()], flags=re.M)][-1:] or ["top"]
        blocks.append(pytest.param(m.group(1), id=f"line{line}-{heading[0].split(' (')[0].replace(' ', '_')}"))
    return blocks


def test_readme_has_python_blocks():
    assert len(python_blocks()) >= 8


@pytest.mark.parametrize("code", python_blocks())
def test_readme_block_runs_as_pasted(code, tmp_path):
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                         env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert res.returncode == 0, f"README block failed:\n{code}\n--- stderr ---\n{res.stderr[-4000:]}"
