"""Weighted k-means: kernels, seeding, Lloyd iterations and the estimator."""
