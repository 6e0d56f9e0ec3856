import subprocess
import sys

import spectral


def test_import_spectral_does_not_import_torch():
    # A fresh interpreter, so that other tests' imports do not count.
    code = (
        "import sys, spectral; spectral.read_image; spectral.power_spectrum; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_every_public_name_resolves():
    for name in spectral.__all__:
        assert getattr(spectral, name) is not None, name


def test_unknown_name_raises_attribute_error():
    try:
        spectral.no_such_function  # noqa: B018
    except AttributeError as exc:
        assert "no_such_function" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
