"""Choosing k: the elbow sweep, its scores, and the knee."""
