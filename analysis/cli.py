"""The ``spectral-forensics`` command line.

Each subcommand lives in its own private module, which defines ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported only when
their command runs, so ``spectral-forensics spectra`` never loads torch.
"""

import argparse
import importlib
import sys

# Subcommand -> (module, one-line help). Help is kept here so that ``--help`` lists
# every command without importing any of them.
COMMANDS = {
    "spectra": ("analysis._cmd_spectra",
                "mean spectra of image folders: npz, CSV and PNG"),
    "peaks": ("analysis._cmd_peaks",
              "upsampling-peak and JPEG-grid table of image folders"),
    "report": ("analysis._cmd_report",
               "re-render report.html from a results folder (results.json + figures)"),
    "detect": ("analysis._cmd_detect",
               "score an image or folder with a CNN detector: CSV of P(fake)"),
    "train": ("analysis._cmd_train",
              "train a CNN detector with the CNNDetection recipe"),
    "evaluate": ("analysis._cmd_evaluate",
                 "per-generator AP and accuracies of a CNN detector on a test set"),
    "zoo": ("analysis._cmd_zoo",
            "simulated generator zoo: train, print the table, build datasets"),
}


def build_parser():
    """Return the argument parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="spectral-forensics",
        description="Frequency analysis and detection of CNN-generated images.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text)
    return parser


def main(argv=None):
    """Run the command line; return the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser.parse_args(argv or ["--help"])
        return 2
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    command_parser = argparse.ArgumentParser(
        prog=f"spectral-forensics {name}", description=COMMANDS[name][1]
    )
    module.add_arguments(command_parser)
    args = command_parser.parse_args(argv[1:])
    return int(module.run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
