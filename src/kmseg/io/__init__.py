"""Stages 0 and 5: reading images, writing outputs."""
