"""Detectors that score images: the CNNDetection ResNet, spectral classifiers, fusion.

Importing the package is cheap; each submodule (and torch) is loaded on the first
use of one of its names.

Networks
    ResNetDetector, create_detector, list_detectors, register_detector
Weights
    load_checkpoint, save_checkpoint, read_checkpoint, load_backbone,
    file_sha256, CheckpointError
Preprocessing and augmentation
    PreprocessConfig, preprocess_image, load_rgb, AugmentConfig, TrainTransform,
    EvalTransform, draw_augmentation
Data
    Sample, list_dataset, ImageFolderDataset, DatasetLayoutError
Training and inference
    TrainConfig, train_detector, score_images, Scores
Spectral detectors and feature transformers (scikit-learn)
    DurallDetector, FrankDetector, DzanicDetector, PeakDetector, DurallFeatures,
    DCTFeatures, DecayFeatures, PeakFeatures
Fusion of CNN and spectral scores
    FusionDetector
"""

import importlib

# Public name -> submodule that defines it; loaded on first access.
_LAZY = {
    "AugmentConfig": ".augment",
    "CheckpointError": ".weights",
    "DCTFeatures": ".spectral",
    "DatasetLayoutError": ".data",
    "DecayFeatures": ".spectral",
    "DurallDetector": ".spectral",
    "DurallFeatures": ".spectral",
    "DzanicDetector": ".spectral",
    "EvalTransform": ".augment",
    "FrankDetector": ".spectral",
    "FusionDetector": ".fusion",
    "ImageFolderDataset": ".data",
    "PeakDetector": ".spectral",
    "PeakFeatures": ".spectral",
    "PreprocessConfig": ".preprocess",
    "ResNetDetector": ".resnet",
    "Sample": ".data",
    "Scores": ".infer",
    "TrainConfig": ".train",
    "TrainTransform": ".augment",
    "create_detector": ".resnet",
    "draw_augmentation": ".augment",
    "file_sha256": ".weights",
    "list_dataset": ".data",
    "list_detectors": ".resnet",
    "load_backbone": ".weights",
    "load_checkpoint": ".weights",
    "load_rgb": ".preprocess",
    "preprocess_image": ".preprocess",
    "read_checkpoint": ".weights",
    "register_detector": ".resnet",
    "save_checkpoint": ".weights",
    "score_images": ".infer",
    "train_detector": ".train",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'detectors' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *__all__])
