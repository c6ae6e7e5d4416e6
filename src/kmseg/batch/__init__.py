"""Many images: batch runs with progress, a manifest and resume; one palette for a dataset."""
