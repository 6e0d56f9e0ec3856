"""Detectors that score images: the CNNDetection ResNet-50, spectral classifiers, fusion."""
