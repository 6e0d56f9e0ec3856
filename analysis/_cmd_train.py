"""``spectral-forensics train``: train a CNN detector with the paper's recipe.

Runs as is on a CPU or one GPU; under ``torchrun --nproc_per_node N`` it trains
with DistributedDataParallel (rank 0 writes the checkpoints and the log).
"""

import os
import sys

from ._cmd_detect import fail

HELP = "Train a CNN detector (Wang et al. recipe) on a split root in the " \
       "CNNDetection layout."


def _size(text):
    return None if text.lower() == "none" else int(text)


def add_arguments(parser):
    """Add the ``train`` options."""
    parser.add_argument("--data", required=True, metavar="ROOT",
                        help="split root holding train/ and val/ folders (the "
                             "official dataset/ folder or a zoo root)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for best.pth, latest.pth, log.csv")
    parser.add_argument("--generator", action="append", dest="generators",
                        metavar="NAME",
                        help="train on this generator folder only, e.g. progan "
                             "in a zoo root (repeatable)")
    parser.add_argument("--arch", default="resnet50",
                        help="resnet50 (the paper), resnet50_half, "
                             "resnet26_quarter or resnet_tiny (CPU)")
    parser.add_argument("--init-from", metavar="FILE",
                        help="local weights for everything but the head (e.g. "
                             "torchvision's ImageNet ResNet-50 file)")
    parser.add_argument("--blur-prob", type=float, default=0.0)
    parser.add_argument("--jpeg-prob", type=float, default=0.0)
    parser.add_argument("--epochs", type=int, default=10000,
                        help="cap on epochs; early stopping usually ends sooner")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--load-size", type=_size, default=256, metavar="N|none",
                        help="shorter side after the initial resize")
    parser.add_argument("--crop-size", type=int, default=224)
    parser.add_argument("--workers", type=int, default=None,
                        help="data loader processes (default: from the CPU count)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--resume", action="store_true",
                        help="continue from DIR/latest.pth")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def run(args):
    """Train and print where the best checkpoint is."""
    from detectors import DatasetLayoutError, TrainConfig, train_detector

    try:
        cfg = TrainConfig(
            data_root=args.data, out_dir=args.out,
            generators=tuple(args.generators) if args.generators else None,
            arch=args.arch, init_from=args.init_from, blur_prob=args.blur_prob,
            jpeg_prob=args.jpeg_prob, max_epochs=args.epochs,
            batch_size=args.batch_size, lr=args.lr, patience=args.patience,
            load_size=args.load_size, crop_size=args.crop_size,
            num_workers=args.workers, seed=args.seed, device=args.device,
            precision=args.precision,
        )
        result = train_detector(cfg, resume=args.resume, progress=not args.quiet)
    except (FileExistsError, FileNotFoundError, DatasetLayoutError,
            ValueError) as exc:
        return fail("train", str(exc))
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"best epoch {result.best_epoch}: val acc {result.best_acc:.4f}, "
              f"AP {result.best_ap:.4f} -> {result.best_path} "
              f"(stopped: {result.stop_reason})", file=sys.stderr)
    return 0
