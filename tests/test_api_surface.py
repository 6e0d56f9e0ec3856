"""The public names are a contract: removing one breaks users' code.

A name that disappears fails here; a new name fails until ``api_surface.json`` is
regenerated on purpose (see the message).
"""

import json
import pathlib
import re

import pytest

import detectors
import spectral

ROOT = pathlib.Path(__file__).resolve().parents[1]
SURFACE = json.loads((ROOT / "tests" / "api_surface.json").read_text())


@pytest.mark.parametrize("package", [spectral, detectors], ids=lambda p: p.__name__)
def test_public_names_match_the_recorded_surface(package):
    recorded = set(SURFACE[package.__name__])
    current = set(package.__all__)
    assert not recorded - current, f"removed public names: {sorted(recorded - current)}"
    assert not current - recorded, (
        f"new public names {sorted(current - recorded)}: add them to "
        "tests/api_surface.json"
    )
    assert list(package.__all__) == sorted(package.__all__)


def test_numba_flags_are_set_in_one_place():
    # Kernels take fastmath and parallel from spectral/_config.py only.
    pattern = re.compile(r"fastmath\s*=|parallel\s*=\s*True|\bnjit\(")
    offenders = []
    for path in (ROOT / "spectral").rglob("*.py"):
        if path.name == "_config.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
