"""Reading and writing detector checkpoints, safely.

The file format is that of CNNDetection's ``BaseModel.save_networks``: a dict with
``model`` (a torchvision-style state dict), ``optimizer`` (optional) and
``total_steps``. Checkpoints written here add the preprocessing settings and the
architecture, so the weights carry everything needed to score an image. Files are
always read with ``torch.load(weights_only=True)``: a checkpoint cannot run code.
"""

import hashlib
import logging
import os
import pickle

import torch

from .preprocess import PreprocessConfig

__all__ = [
    "CheckpointError",
    "file_sha256",
    "load_backbone",
    "load_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
]

_logger = logging.getLogger(__name__)

FORMAT_NAME = "spectral-forensics-checkpoint"
FORMAT_VERSION = 1

# How many differing keys an error message lists before it summarises.
_SHOW = 5


class CheckpointError(ValueError):
    """A checkpoint file is unsafe, corrupt, or does not fit the model."""


def file_sha256(path):
    """Return the SHA-256 hex digest of a file, read in 1 MiB chunks.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "empty")
    >>> open(path, "wb").close()
    >>> file_sha256(path)[:16]
    'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(os.fspath(path), "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _strip_module_prefix(state_dict):
    """Remove the ``module.`` prefix that DataParallel/DDP wrappers add."""
    if state_dict and all(key.startswith("module.") for key in state_dict):
        return {key[len("module."):]: value for key, value in state_dict.items()}
    return dict(state_dict)


def read_checkpoint(path, *, sha256=None, map_location="cpu"):
    """Read a checkpoint file into a dict without building a model.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.pth`` file: a dict with a ``model`` state dict (the official format
        and the one written by :func:`save_checkpoint`) or a bare state dict.
    sha256 : str, optional
        Expected SHA-256 hex digest of the file.
    map_location : str or torch.device, optional
        Where tensors are loaded, the CPU by default.

    Returns
    -------
    dict
        Always has ``model`` (``module.`` prefixes removed) and ``total_steps``;
        the other keys of the file are kept as they are.

    Raises
    ------
    FileNotFoundError
        No such file.
    CheckpointError
        Digest mismatch, a pickle holding Python objects (refused by
        ``weights_only=True``), or a file that is not a state dict.

    Examples
    --------
    >>> import tempfile, os, torch
    >>> path = os.path.join(tempfile.mkdtemp(), "bare.pth")
    >>> torch.save({"module.w": torch.zeros(2)}, path)
    >>> sorted(read_checkpoint(path)["model"])
    ['w']
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint file {path!r} does not exist")
    if sha256 is not None:
        actual = file_sha256(path)
        if actual.lower() != str(sha256).lower():
            raise CheckpointError(
                f"SHA-256 of {path!r} is {actual}, expected {sha256}: the file is "
                "not the one expected (truncated download or another model)"
            )

    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"refusing to load {path!r}: it holds Python objects beyond tensors "
            "and plain containers, which could run code when unpickled "
            f"(weights_only=True). Detail: {str(exc).splitlines()[0]}"
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise CheckpointError(
            f"{path!r} is not a readable PyTorch checkpoint: {exc}"
        ) from None

    if not isinstance(data, dict):
        raise CheckpointError(
            f"{path!r} holds a {type(data).__name__}; expected a dict with a "
            "'model' state dict or a bare state dict"
        )
    if "model" in data:
        checkpoint = dict(data)
    elif data and all(isinstance(v, torch.Tensor) for v in data.values()):
        checkpoint = {"model": data}
    else:
        raise CheckpointError(
            f"{path!r} has neither a 'model' entry nor only tensors; keys: "
            f"{sorted(map(str, data))[:10]!r}"
        )
    if not isinstance(checkpoint["model"], dict) or not all(
        isinstance(v, torch.Tensor) for v in checkpoint["model"].values()
    ):
        raise CheckpointError(f"the 'model' entry of {path!r} is not a state dict")
    checkpoint["model"] = _strip_module_prefix(checkpoint["model"])
    checkpoint.setdefault("total_steps", 0)
    return checkpoint


def _describe_mismatch(model, state_dict, *, ignore=()):
    """List missing, unexpected and wrongly shaped keys; empty when they fit."""
    own = {k: v for k, v in model.state_dict().items()
           if not k.startswith(tuple(ignore))}
    given = {k: v for k, v in state_dict.items() if not k.startswith(tuple(ignore))}
    missing = [k for k in own if k not in given]
    unexpected = [k for k in given if k not in own]
    shapes = [
        f"{k}: checkpoint {tuple(given[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own if k in given and given[k].shape != own[k].shape
    ]
    parts = []
    for label, items in (("missing keys", missing), ("unexpected keys", unexpected),
                         ("shape mismatches", shapes)):
        if items:
            more = f" (+{len(items) - _SHOW} more)" if len(items) > _SHOW else ""
            parts.append(f"{len(items)} {label}: {items[:_SHOW]!r}{more}")
    return "; ".join(parts)


def load_checkpoint(path, *, model=None, arch=None, sha256=None,
                    map_location="cpu"):
    """Load a detector from a checkpoint file, with strict key and shape matching.

    Parameters
    ----------
    path : str or os.PathLike
        Checkpoint: the official CNNDetection format, a bare state dict, or a
        file written by :func:`save_checkpoint`.
    model : torch.nn.Module, optional
        Load into this model instead of building one.
    arch : str, optional
        Registered architecture to build when ``model`` is None. Default: the
        architecture recorded in the file, else "resnet50" (official files
        record none).
    sha256 : str, optional
        Expected SHA-256 of the file.
    map_location : str or torch.device, optional
        Device for the loaded tensors.

    Returns
    -------
    ResNetDetector
        In eval mode; ``preprocess_config`` set from the file when it holds one
        (official files do not: the default 224 centre crop applies).

    Raises
    ------
    FileNotFoundError
        No such file.
    CheckpointError
        Unsafe or corrupt file, digest mismatch, or weights that do not fit the
        architecture (the message lists the first missing and unexpected keys and
        shape mismatches).

    Examples
    --------
    >>> import tempfile, os
    >>> from detectors import create_detector, save_checkpoint
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.pth")
    >>> save_checkpoint(create_detector("resnet_tiny"), path)
    >>> load_checkpoint(path).layers
    (1, 1, 1, 1)
    """
    from .resnet import ResNetDetector, create_detector

    checkpoint = read_checkpoint(path, sha256=sha256, map_location=map_location)
    state_dict = checkpoint["model"]
    if model is None:
        recorded = checkpoint.get("arch")
        kwargs = checkpoint.get("arch_kwargs") or {}
        if arch is None and recorded is None and kwargs:
            model = ResNetDetector(**kwargs)
        else:
            arch = arch or recorded or "resnet50"
            model = create_detector(arch, **(kwargs if arch == recorded else {}))

    problems = _describe_mismatch(model, state_dict)
    if problems:
        recorded = checkpoint.get("arch")
        hint = f" (the file records arch {recorded!r})" if recorded else ""
        raise CheckpointError(
            f"the weights in {os.fspath(path)!r} do not fit the "
            f"{type(model).__name__}{hint}: {problems}"
        )
    model.load_state_dict(state_dict, strict=True)
    if checkpoint.get("preprocess") is not None:
        model.preprocess_config = PreprocessConfig.from_dict(checkpoint["preprocess"])
    _logger.info("loaded %s (%d tensors, step %s)", os.fspath(path), len(state_dict),
                 checkpoint.get("total_steps"))
    return model.eval()


def load_backbone(model, path, *, sha256=None, head_prefix="fc."):
    """Load every weight but the classifier head, e.g. from ImageNet weights.

    The paper starts training from torchvision's ImageNet ResNet-50; a local copy
    of that file (1000-class head) loads here, strictly for all other keys.

    Parameters
    ----------
    model : ResNetDetector
        Model to fill in place.
    path : str or os.PathLike
        Local checkpoint or bare state dict. Nothing is downloaded.
    sha256 : str, optional
        Expected SHA-256 of the file.
    head_prefix : str, optional
        Prefix of the keys that are skipped.

    Returns
    -------
    ResNetDetector
        ``model``, with its head left as initialised.

    Raises
    ------
    FileNotFoundError, CheckpointError
        As :func:`load_checkpoint`.
    """
    state_dict = read_checkpoint(path, sha256=sha256)["model"]
    problems = _describe_mismatch(model, state_dict, ignore=(head_prefix,))
    if problems:
        raise CheckpointError(
            f"the backbone weights in {os.fspath(path)!r} do not fit the model: "
            f"{problems}"
        )
    body = {k: v for k, v in state_dict.items() if not k.startswith(head_prefix)}
    model.load_state_dict(body, strict=False)
    return model


def save_checkpoint(model, path, *, config=None, optimizer=None, total_steps=0,
                    overwrite=False, extra=None):
    """Write a checkpoint in the official format plus the preprocessing settings.

    Parameters
    ----------
    model : torch.nn.Module
        The detector, possibly wrapped in DistributedDataParallel (the wrapper's
        ``module.`` prefix is not written).
    path : str or os.PathLike
        Output file; written to a temporary name and renamed, so a crash never
        leaves half a file.
    config : PreprocessConfig, optional
        Input settings; default ``model.preprocess_config``.
    optimizer : torch.optim.Optimizer, optional
        Its state is stored under ``optimizer`` (for resuming).
    total_steps : int, optional
        Optimiser steps so far.
    overwrite : bool, optional
        Replace an existing file.
    extra : dict, optional
        More plain entries (numbers, strings, lists, dicts, tensors).

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is false.
    ValueError
        ``extra`` uses a reserved key.

    Notes
    -----
    Keys written: ``model``, ``total_steps``, ``optimizer`` (when given),
    ``preprocess``, ``arch``, ``arch_kwargs``, ``format``, ``format_version`` and
    those of ``extra``. The official code reads only the first three.
    """
    from .resnet import _arch_kwargs, _arch_name

    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path!r} exists; pass overwrite=True to replace it")
    module = getattr(model, "module", model)
    if config is None:
        config = getattr(module, "preprocess_config", None) or PreprocessConfig()

    payload = {
        "model": {k: v.detach().cpu() for k, v in module.state_dict().items()},
        "total_steps": int(total_steps),
        "preprocess": config.to_dict(),
        "arch": _arch_name(module) if hasattr(module, "layers") else None,
        "arch_kwargs": _arch_kwargs(module) if hasattr(module, "layers") else None,
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
    }
    if optimizer is not None:
        payload["optimizer"] = optimizer.state_dict()
    for key, value in (extra or {}).items():
        if key in payload or key == "optimizer":
            raise ValueError(f"extra must not use the reserved key {key!r}")
        payload[key] = value

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = f"{path}.tmp{os.getpid()}"
    try:
        torch.save(payload, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
