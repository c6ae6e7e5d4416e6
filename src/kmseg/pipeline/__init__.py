"""The image functions: an image read and reduced to its distinct colours, fitted, labelled."""
