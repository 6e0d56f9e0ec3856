"""Experiments over many images and generators: metrics, comparisons, zoo, report."""
