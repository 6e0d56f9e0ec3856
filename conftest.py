"""Settings shared by the test suite and the doctests of the three packages."""

import os

# Figures are written to files, never shown: choose the file backend before any
# test or doctest imports pyplot.
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
