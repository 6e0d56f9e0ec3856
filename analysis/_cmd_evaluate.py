"""``spectral-forensics evaluate``: per-generator metrics of a CNN detector."""

import os
import sys

from ._cmd_detect import add_model_arguments, fail, load_model

HELP = "Evaluate a CNN detector on a test set in the CNNDetection layout."


def add_arguments(parser):
    """Add the ``evaluate`` options."""
    parser.add_argument("root", help="test set root: <root>/<generator>/"
                                     "[<class>/]{0_real,1_fake}/")
    parser.add_argument("--split", choices=("train", "val", "test"),
                        help="read <root>/<split> (for a split or zoo root)")
    parser.add_argument("--generator", action="append", dest="generators",
                        metavar="NAME", help="evaluate only this generator "
                                             "(repeatable)")
    add_model_arguments(parser)
    parser.add_argument("--out", metavar="CSV",
                        help="write the table here, and as JSON beside it")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files")


def run(args):
    """Score every image, print the table, write CSV and JSON."""
    from analysis.metrics import evaluate_scores
    from detectors import CheckpointError, DatasetLayoutError, score_images
    from detectors.data import list_dataset

    json_path = None
    if args.out:
        json_path = os.path.splitext(args.out)[0] + ".json"
        for path in (args.out, json_path):
            if os.path.exists(path) and not args.overwrite:
                return fail("evaluate", f"{path!r} exists; pass --overwrite to "
                                        "replace it")
    try:
        samples = list_dataset(args.root, split=args.split,
                               generators=args.generators)
        model, cfg = load_model(args)
    except (FileNotFoundError, DatasetLayoutError, CheckpointError,
            ValueError) as exc:
        return fail("evaluate", str(exc))

    scores = score_images(model, [s.path for s in samples], cfg=cfg,
                          batch_size=args.batch_size, device=args.device,
                          precision=args.precision, progress=not args.quiet,
                          on_error="ignore")
    for message in scores.errors.values():
        print(f"skipped {message}", file=sys.stderr)
    kept = [i for i in range(len(samples)) if i not in scores.errors]
    if not kept:
        return fail("evaluate", "no image could be scored")
    table = evaluate_scores([samples[i].label for i in kept],
                            scores.probabilities[kept],
                            [samples[i].generator for i in kept],
                            threshold=args.threshold)

    print(table.format())
    if args.out:
        table.to_csv(args.out, overwrite=args.overwrite)
        table.to_json(json_path, overwrite=args.overwrite)
        print(f"wrote {args.out} and {json_path}", file=sys.stderr)
    return 0
