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
    "report": ("analysis._cmd_report",
               "re-render report.html from a results folder (results.json + figures)"),
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
