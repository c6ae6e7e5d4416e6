"""Stage 2: an image's distinct colours and their counts."""
