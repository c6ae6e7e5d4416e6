"""Stage 4b: spatially coherent segments (superpixels, merged into k connected regions)."""
