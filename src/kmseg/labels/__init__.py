"""Stage 4: labels, ordered."""
