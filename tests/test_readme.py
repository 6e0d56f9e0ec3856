"""The README's Python example runs and prints what the README says it prints."""

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_prints_its_documented_output():
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no Python example"
    code = blocks[0]

    # The expected output is written as comment lines right after the loop.
    lines = code.splitlines()
    expected = [line[2:] for line in lines if line.startswith("# ") and " x2 " in line]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    assert out.getvalue().splitlines() == expected
