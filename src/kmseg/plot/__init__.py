"""Stage 5, pictures: matplotlib figures of segmentations, palettes and sweeps."""
