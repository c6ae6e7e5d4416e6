"""Shared by the examples: where to write pictures."""

import argparse
import os


def output_dir(description):
    """Parse ``--output DIR`` (default: examples/output) and create it."""
    parser = argparse.ArgumentParser(description=description)
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "output")
    parser.add_argument("-o", "--output", default=default, help=f"folder for pictures (default: {default})")
    out = parser.parse_args().output
    os.makedirs(out, exist_ok=True)
    return out
