"""Training recipe of Wang et al. (CVPR 2020), on a CPU, one GPU or many.

Adam (lr 1e-4, betas 0.9/0.999), binary cross-entropy on one logit, batch 64,
validation accuracy after every epoch; when it has not improved by 0.001 for 5
epochs the learning rate is divided by 10, and training stops when the rate would
fall below 1e-6. Launched with ``torchrun``, the same code trains with
DistributedDataParallel (NCCL on GPUs, gloo on CPUs); rank 0 validates and writes.
"""

import csv
import dataclasses
import json
import math
import os
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from spectral._validate import check_choice

from .augment import AugmentConfig, EvalTransform, TrainTransform
from .data import ImageFolderDataset, list_dataset
from .preprocess import PreprocessConfig
from .resnet import create_detector
from .weights import load_backbone, read_checkpoint, save_checkpoint

__all__ = ["TrainConfig", "TrainResult", "train_detector"]

BEST_NAME = "best.pth"
LATEST_NAME = "latest.pth"
LOG_NAME = "log.csv"
CONFIG_NAME = "train_config.json"
LOG_COLUMNS = ("epoch", "lr", "train_loss", "val_acc", "val_ap", "seconds")


@dataclasses.dataclass
class TrainConfig:
    """Settings of a training run; the defaults are the paper's.

    Parameters
    ----------
    data_root : str, optional
        Split root holding ``train_split`` and ``val_split`` folders in the
        CNNDetection layout; not needed when samples are passed to
        :func:`train_detector`.
    out_dir : str
        Folder for ``best.pth``, ``latest.pth``, ``log.csv`` and
        ``train_config.json``.
    generators : tuple of str, optional
        Train and validate only on these generator folders (e.g. ``("progan",)``
        in a zoo root).
    train_split, val_split : str
        Split folder names.
    arch : str
        Registered architecture (:func:`detectors.list_detectors`).
    init_from : str, optional
        Local file whose weights, all but the head, initialise the network (the
        paper starts from torchvision's ImageNet ResNet-50). Nothing is
        downloaded; None starts from random weights.
    blur_prob, blur_sigma, jpeg_prob, jpeg_quality, jpeg_methods, load_size, \
crop_size, flip
        Augmentation, see :class:`detectors.augment.AugmentConfig`.
    batch_size : int
        Global batch size (split evenly over the processes).
    lr : float
        Initial learning rate.
    betas : tuple of 2 floats
        Adam's betas.
    max_epochs : int
        Hard cap on epochs (the official ``--niter`` 10000).
    patience : int
        Epochs without improvement before the learning rate drops.
    min_delta : float
        Improvement of validation accuracy that resets the patience counter.
    min_delta_after_decay : float
        The same after the first drop (0.002 in the official code).
    lr_factor : float
        Divisor of the learning rate at each drop.
    min_lr : float
        Training stops when the next learning rate would be below this.
    num_workers : int, optional
        Data loader processes per training process; None picks
        ``min(4, cpus // processes - 1)``.
    seed : int
        Seed of the initialisation, shuffling and augmentation draws.
    device : str, optional
        "cpu", "cuda" or "cuda:N"; None picks the local GPU when there is one.
    precision : {"fp32", "bf16"}
        "bf16" runs forward and backward under ``torch.autocast`` (bfloat16)
        with channels-last tensors; weights and the loss stay float32.
    """

    data_root: str | None = None
    out_dir: str = "checkpoints/detector"
    generators: tuple | None = None
    train_split: str = "train"
    val_split: str = "val"
    arch: str = "resnet50"
    init_from: str | None = None
    blur_prob: float = 0.0
    blur_sigma: tuple = (0.0, 3.0)
    jpeg_prob: float = 0.0
    jpeg_quality: tuple = (30, 100)
    jpeg_methods: tuple = ("cv2", "pil")
    load_size: int | None = 256
    crop_size: int = 224
    flip: bool = True
    batch_size: int = 64
    lr: float = 1e-4
    betas: tuple = (0.9, 0.999)
    max_epochs: int = 10000
    patience: int = 5
    min_delta: float = 0.001
    min_delta_after_decay: float = 0.002
    lr_factor: float = 10.0
    min_lr: float = 1e-6
    num_workers: int | None = None
    seed: int = 0
    device: str | None = None
    precision: str = "fp32"

    def __post_init__(self):
        check_choice(self.precision, ("fp32", "bf16"), name="precision")
        for name in ("batch_size", "max_epochs", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if not (self.lr > 0 and self.min_lr > 0 and self.lr_factor > 1):
            raise ValueError(
                f"need lr > 0, min_lr > 0 and lr_factor > 1; got lr={self.lr!r}, "
                f"min_lr={self.min_lr!r}, lr_factor={self.lr_factor!r}"
            )
        self.augment_config()

    def augment_config(self):
        """Return the :class:`AugmentConfig` of these settings."""
        return AugmentConfig(
            blur_prob=self.blur_prob, blur_sigma=self.blur_sigma,
            jpeg_prob=self.jpeg_prob, jpeg_quality=self.jpeg_quality,
            jpeg_methods=self.jpeg_methods, load_size=self.load_size,
            crop_size=self.crop_size, flip=self.flip,
        )

    def to_dict(self):
        """Return the settings as JSON-ready plain data."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}


@dataclasses.dataclass
class TrainResult:
    """Outcome of :func:`train_detector`.

    Attributes
    ----------
    best_path, latest_path : str
        Checkpoints: the best validation accuracy over the whole run (no
        optimiser state), and the end of the last epoch (with it, for resuming).
    history : list of dict
        One row per epoch with the :data:`LOG_COLUMNS`.
    best_epoch : int
        Epoch (0-based) of the best checkpoint.
    best_acc, best_ap : float
        Its validation accuracy and average precision.
    stop_reason : str
        "min_lr" (the schedule ended) or "max_epochs".
    """

    best_path: str
    latest_path: str
    history: list
    best_epoch: int
    best_acc: float
    best_ap: float
    stop_reason: str


@dataclasses.dataclass
class _Schedule:
    """Early-stopping state; identical on every process."""

    lr: float
    epoch: int = 0
    phase: int = 0
    bad_epochs: int = 0
    phase_best: float | None = None
    best_acc: float = -1.0
    best_ap: float = -1.0
    best_epoch: int = -1
    stopped: str | None = None

    def update(self, acc, ap, cfg):
        """Record one validation; return (is_new_best, stop_reason or None)."""
        is_best = acc > self.best_acc or (acc == self.best_acc and ap > self.best_ap)
        if is_best:
            self.best_acc, self.best_ap, self.best_epoch = acc, ap, self.epoch

        # The official EarlyStopping: an epoch counts as an improvement only when
        # it beats the phase's reference accuracy by the margin.
        margin = cfg.min_delta if self.phase == 0 else cfg.min_delta_after_decay
        if self.phase_best is None or acc >= self.phase_best + margin:
            self.phase_best, self.bad_epochs = acc, 0
        else:
            self.bad_epochs += 1

        self.epoch += 1
        if self.bad_epochs >= cfg.patience:
            new_lr = self.lr / cfg.lr_factor
            # Relative slack: 1e-4 / 10 / 10 is not exactly 1e-6 in binary.
            if new_lr < cfg.min_lr * (1 - 1e-9):
                self.stopped = "min_lr"
                return is_best, self.stopped
            self.lr, self.phase, self.bad_epochs = new_lr, self.phase + 1, 0
            self.phase_best = None
        if self.epoch >= cfg.max_epochs:
            self.stopped = "max_epochs"
        return is_best, self.stopped


class _Dist:
    """Process-group facts: rank, world size and device of this process."""

    def __init__(self, device):
        world = int(os.environ.get("WORLD_SIZE", "1"))
        self.enabled = world > 1
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device is None:
            device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
        elif device == "cuda" and self.enabled:
            device = f"cuda:{local_rank}"
        self.device = torch.device(device)
        self.owns_group = False
        if self.enabled and not dist.is_initialized():
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
            dist.init_process_group(backend=backend)
            self.owns_group = True
        self.rank = dist.get_rank() if self.enabled else 0
        self.world = dist.get_world_size() if self.enabled else 1
        self.is_main = self.rank == 0

    def all_sum(self, values):
        tensor = torch.tensor(values, dtype=torch.float64)
        if self.enabled:
            tensor = tensor.to(self._comm_device())
            dist.all_reduce(tensor)
        return tensor.cpu().tolist()

    def broadcast(self, values):
        tensor = torch.tensor(values, dtype=torch.float64)
        if self.enabled:
            tensor = tensor.to(self._comm_device())
            dist.broadcast(tensor, src=0)
        return tensor.cpu().tolist()

    def _comm_device(self):
        return self.device if dist.get_backend() == "nccl" else torch.device("cpu")

    def close(self):
        if self.owns_group:
            # Every rank waits here until rank 0 has written its files: a rank
            # that tears down gloo while a peer is still busy can abort at exit.
            dist.barrier()
            dist.destroy_process_group()


def _autocast(device, precision):
    return torch.autocast(device.type, dtype=torch.bfloat16,
                          enabled=precision == "bf16")


def _validate(model, loader, device, precision):
    """Return (accuracy at p > 0.5, average precision) on a loader."""
    from sklearn.metrics import average_precision_score

    model.eval()
    logits, labels = [], []
    memory = torch.channels_last if precision == "bf16" else torch.contiguous_format
    with torch.inference_mode(), _autocast(device, precision):
        for images, targets in loader:
            images = images.to(device, memory_format=memory)
            logits.append(model(images).float().cpu())
            labels.append(targets)
    probs = torch.sigmoid(torch.cat(logits)).numpy()
    labels = torch.cat(labels).numpy()
    acc = float(np.mean((probs > 0.5) == (labels == 1)))
    both = 0 < labels.sum() < labels.size
    ap = float(average_precision_score(labels, probs)) if both else math.nan
    return acc, ap


def _auto_workers(world):
    return max(0, min(4, (os.cpu_count() or 1) // world - 1))


def _write_log(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _read_log(path, before_epoch):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as handle:
        rows = [
            {k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]
    return [row for row in rows if row["epoch"] < before_epoch]


def train_detector(cfg, *, train_samples=None, val_samples=None, resume=False,
                   progress=True):
    """Train a detector with the paper's recipe.

    Parameters
    ----------
    cfg : TrainConfig
        Settings.
    train_samples, val_samples : list of Sample, optional
        Images to use; by default read from ``cfg.data_root``.
    resume : bool, optional
        Continue from ``<out_dir>/latest.pth`` (model, optimiser, schedule and
        epoch); starts afresh when there is none.
    progress : bool, optional
        Show a tqdm bar per epoch and one summary line per epoch (rank 0).

    Returns
    -------
    TrainResult

    Raises
    ------
    FileExistsError
        ``out_dir`` already holds a run and ``resume`` is false.
    ValueError
        No data given, or a batch size that does not split over the processes.

    Notes
    -----
    *Model selection.* ``best.pth`` is the best validation accuracy over the whole
    run (ties broken by average precision). The official code restarts its
    early-stopping object after each learning-rate drop, and that object saves on
    its first call, so its "best" model is the best of the last phase only; the
    global best is kept here instead.

    *Validation.* Each validation image gets the same blur/JPEG draw in every
    epoch (seeded by its index), so accuracies of different epochs compare the
    same inputs; the official code redraws them.

    *Batches.* Under ``torchrun`` each of P processes takes ``batch_size / P``
    images per step, so the effective batch matches one process. The last,
    incomplete batch of an epoch is dropped (a different shuffle each epoch).

    *CPU scale.* An epoch of the paper's 720k images at 224 px takes about 30 h
    on two CPU cores. The narrow variants on small crops are the practical choice
    there. Measured training steps (batch 64, fp32, two Zen 4 cores, network
    only): "resnet_tiny" about 1,900 images/s on 64 px crops and 1,100 on 96 px;
    "resnet26_quarter" about 800 and 350. An epoch of 10,000 such images thus
    costs 10-30 s of network time, and PNG decoding (about 500 images/s per
    core) becomes the limit: give the loader workers.
    """
    ctx = _Dist(cfg.device)
    try:
        return _train(cfg, ctx, train_samples, val_samples, resume, progress)
    finally:
        ctx.close()


def _train(cfg, ctx, train_samples, val_samples, resume, progress):
    from tqdm.auto import tqdm

    out_dir = os.path.abspath(cfg.out_dir)
    latest_path = os.path.join(out_dir, LATEST_NAME)
    best_path = os.path.join(out_dir, BEST_NAME)
    log_path = os.path.join(out_dir, LOG_NAME)
    if os.path.exists(latest_path) and not resume:
        raise FileExistsError(
            f"{out_dir!r} already holds a training run; resume it or choose "
            "another output folder"
        )
    if cfg.batch_size % ctx.world:
        raise ValueError(
            f"batch_size {cfg.batch_size} does not split evenly over "
            f"{ctx.world} processes"
        )

    # Data.
    if train_samples is None or val_samples is None:
        if cfg.data_root is None:
            raise ValueError("give cfg.data_root or both train_samples and "
                             "val_samples")
        generators = list(cfg.generators) if cfg.generators else None
        if train_samples is None:
            train_samples = list_dataset(cfg.data_root, split=cfg.train_split,
                                         generators=generators)
        if val_samples is None:
            val_samples = list_dataset(cfg.data_root, split=cfg.val_split,
                                       generators=generators)
    augment = cfg.augment_config()
    train_set = ImageFolderDataset(train_samples, TrainTransform(augment),
                                   seed=cfg.seed)
    val_set = ImageFolderDataset(val_samples, EvalTransform(augment),
                                 seed=cfg.seed + 1)
    per_rank = cfg.batch_size // ctx.world
    workers = _auto_workers(ctx.world) if cfg.num_workers is None else cfg.num_workers
    sampler = DistributedSampler(train_set, num_replicas=ctx.world, rank=ctx.rank,
                                 shuffle=True, seed=cfg.seed)
    train_loader = DataLoader(
        train_set, batch_size=per_rank, sampler=sampler, num_workers=workers,
        drop_last=len(sampler) > per_rank, pin_memory=ctx.device.type == "cuda",
    )
    val_loader = DataLoader(val_set, batch_size=per_rank, num_workers=workers)

    # Model and optimiser.
    torch.manual_seed(cfg.seed)
    config = PreprocessConfig(crop=cfg.crop_size)
    model = create_detector(cfg.arch, preprocess_config=config)
    if cfg.init_from is not None:
        load_backbone(model, cfg.init_from)
    memory = torch.channels_last if cfg.precision == "bf16" else (
        torch.contiguous_format)
    model.to(ctx.device, memory_format=memory)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.betas)
    schedule = _Schedule(lr=cfg.lr)
    total_steps = 0
    if resume and os.path.exists(latest_path):
        state = read_checkpoint(latest_path, map_location=ctx.device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule = _Schedule(**state["schedule"])
        if schedule.stopped == "max_epochs" and schedule.epoch < cfg.max_epochs:
            schedule.stopped = None
        total_steps = int(state["total_steps"])
    net = model
    if ctx.enabled:
        ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        net = DistributedDataParallel(model, device_ids=ids)

    history = _read_log(log_path, schedule.epoch)
    if ctx.is_main:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, CONFIG_NAME), "w") as handle:
            json.dump(cfg.to_dict(), handle, indent=2)
        _write_log(log_path, history)

    loss_fn = torch.nn.BCEWithLogitsLoss()
    stop_reason = schedule.stopped
    if stop_reason is None and schedule.epoch >= cfg.max_epochs:
        stop_reason = "max_epochs"
    while stop_reason is None:
        epoch, started = schedule.epoch, time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = schedule.lr
        sampler.set_epoch(epoch)
        train_set.set_epoch(epoch)

        # One epoch of training.
        net.train()
        loss_sum, count = 0.0, 0
        bar = tqdm(train_loader, desc=f"epoch {epoch}", leave=False,
                   disable=not (progress and ctx.is_main))
        for images, labels in bar:
            images = images.to(ctx.device, memory_format=memory, non_blocking=True)
            labels = labels.to(ctx.device, dtype=torch.float32)
            with _autocast(ctx.device, cfg.precision):
                logits = net(images)
            loss = loss_fn(logits.float(), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_steps += 1
            step_loss = loss.item()
            loss_sum += step_loss * len(labels)
            count += len(labels)
            bar.set_postfix(loss=f"{step_loss:.4f}")
        loss_sum, count = ctx.all_sum([loss_sum, count])

        # Validation on rank 0, shared with the others.
        acc = ap = math.nan
        if ctx.is_main:
            acc, ap = _validate(model, val_loader, ctx.device, cfg.precision)
        acc, ap = ctx.broadcast([acc, ap])
        lr_used = schedule.lr
        is_best, stop_reason = schedule.update(acc, -1.0 if math.isnan(ap) else ap,
                                               cfg)

        row = {"epoch": epoch, "lr": lr_used, "train_loss": loss_sum / max(count, 1),
               "val_acc": acc, "val_ap": ap,
               "seconds": round(time.perf_counter() - started, 3)}
        history.append(row)
        if ctx.is_main:
            if is_best:
                save_checkpoint(model, best_path, total_steps=total_steps,
                                overwrite=True, extra={"epoch": epoch,
                                                       "val_acc": acc, "val_ap": ap})
            save_checkpoint(
                model, latest_path, optimizer=optimizer, total_steps=total_steps,
                overwrite=True,
                extra={"schedule": dataclasses.asdict(schedule),
                       "train_config": cfg.to_dict()},
            )
            _write_log(log_path, history)
            if progress:
                tqdm.write(
                    f"epoch {epoch}: lr {lr_used:.1e} loss {row['train_loss']:.4f} "
                    f"val acc {acc:.4f} AP {ap:.4f} ({row['seconds']:.1f} s)"
                )

    return TrainResult(best_path, latest_path, history, schedule.best_epoch,
                       schedule.best_acc, schedule.best_ap, stop_reason)
