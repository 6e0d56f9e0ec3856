"""``spectral-forensics zoo``: train, inspect and write the simulated generator zoo."""

import argparse
import sys

HELP = "simulated generator zoo: train the families, print their table, build datasets"


def _families(text):
    from analysis.zoo import FAMILIES

    names = [t for t in text.replace(",", " ").split() if t]
    bad = [n for n in names if n not in FAMILIES]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown famil{'ies' if len(bad) > 1 else 'y'} {bad!r}; "
            f"choose from {list(FAMILIES)!r}"
        )
    return names


def add_arguments(parser):
    """Add the ``train``, ``build`` and ``info`` sub-commands to ``parser``."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    train = sub.add_parser("train", help="train the families, write weights + zoo.json")
    train.add_argument("--out", default=None,
                       help="weights folder (default: the package's zoo_weights)")
    train.add_argument("--families", type=_families, default=None,
                       help="comma-separated families (default: all)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--steps", type=int, default=None,
                       help="steps for every family (default: each family's recipe)")
    train.add_argument("--threads", type=int, default=1,
                       help="torch threads (default 1: no oversubscription "
                            "on shared CPUs)")

    build = sub.add_parser("build",
                           help="write real/fake sets in the CNNDetection layout")
    build.add_argument("root",
                       help="dataset root (empty, or a build of the same config)")
    build.add_argument("--families", type=_families, default=None)
    build.add_argument("--size", type=int, default=128)
    build.add_argument("--count", type=int, default=None,
                       help="images per class, family and split "
                            "(default: train 200, val 50, test 100)")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--real", default=None, help="folder of real photos")
    build.add_argument("--with-bundled", action="store_true",
                       help="with --real: keep the bundled photos too")
    build.add_argument("--jpeg-quality", type=int, default=None,
                       help="JPEG quality applied to reals and fakes alike")
    build.add_argument("--quiet", action="store_true", help="no progress bar")

    info = sub.add_parser("info", help="print the table of zoo.json")
    info.add_argument("--weights", default=None, help="weights folder")


def run(args):
    """Run the chosen action; return the exit status."""
    from analysis import zoo

    if args.action == "info":
        info = zoo.zoo_info(args.weights)
        if not info.get("families"):
            print("no trained zoo found; run `spectral-forensics zoo train`",
                  file=sys.stderr)
            return 1
        print(zoo.format_info(info))
        return 0
    if args.action == "train":
        zoo.train_zoo(args.out, families=args.families, seed=args.seed,
                      steps=args.steps, threads=args.threads, progress=True)
        print(zoo.format_info(zoo.zoo_info(args.out)))
        return 0
    try:
        result = zoo.build_zoo(
            args.root, families=args.families, size=args.size,
            n_per_split=args.count, seed=args.seed, real_dir=args.real,
            jpeg_quality=args.jpeg_quality, progress=not args.quiet,
            **({"bundled": True} if args.with_bundled else {}),
        )
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.written:
        print(f"wrote {result.written} images under {result.root}")
    else:
        print(f"{result.root} already holds this build; nothing written")
    return 0


def main(argv=None):
    """Parse ``argv`` (``python -m analysis.zoo ...``) and run it."""
    parser = argparse.ArgumentParser(prog="python -m analysis.zoo", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))
