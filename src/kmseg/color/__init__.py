"""Stage 1: colour spaces, computed on distinct colours."""
