"""``spectral-forensics report``: re-render a report folder's HTML page.

The page is rebuilt from ``RESULTS_DIR/results.json`` and the figure files it
names; no spectrum or detector is recomputed. The explanation and the averaged
tables are regenerated from the stored numbers, so editing ``results.json`` (a
title, a note, a figure caption) and re-running updates the page. Figures and
gallery thumbnails are embedded from disk again: images that no longer exist
show as placeholders.
"""

import os
import sys

HELP = "re-render report.html from a results folder (results.json + figures)"


def add_arguments(parser):
    """Add the command's arguments to ``parser``."""
    parser.add_argument("results_dir", metavar="RESULTS_DIR",
                        help="folder holding results.json and the figures")
    parser.add_argument("--title", default=None,
                        help="page title (default: the one stored in results.json)")
    parser.add_argument("--output", default="report.html", metavar="NAME",
                        help="file name of the page inside RESULTS_DIR "
                             "(default: report.html)")
    parser.add_argument("--focus", default="san",
                        help="generator the explanation is about (default: san)")


def run(args):
    """Re-render the page; return the exit status."""
    from .report import load_results, write_report

    if os.sep in args.output or (os.altsep and os.altsep in args.output):
        print(f"--output must be a file name, got {args.output!r}", file=sys.stderr)
        return 2
    try:
        results = load_results(args.results_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    path = write_report(args.results_dir, results, title=args.title,
                        focus=args.focus, html_name=args.output)
    print(path)
    return 0
