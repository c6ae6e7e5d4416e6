"""Figures drawn with matplotlib's object API: no window, no global state.

Each function returns a :class:`matplotlib.figure.Figure`; save it with
``fig.savefig("name.png")`` (or ``.svg``, ``.pdf``).
"""

import numpy as np

from ..io._palette_files import hex_color
from ..io._read import read_image
from ..io._write import display_image


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _show(ax, img, title):
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()


def plot_segmentation(image, seg, *, boundaries=True, boundary_color=(1.0, 1.0, 0.0)):
    """Original, segmented and boundary overlay, side by side.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        The image that was segmented.
    seg : Segmentation
        Its segmentation.
    boundaries : bool, default=True
        Add a third panel with the cluster boundaries drawn over the original.
    boundary_color : RGB tuple of floats in [0, 1], default=(1, 1, 0)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.zeros((8, 8, 3), np.uint8); img[:, 4:] = 200
    >>> fig = kmseg.plot_segmentation(img, kmseg.segment(img, 2))
    >>> len(fig.axes)
    3
    """
    from skimage.segmentation import mark_boundaries

    original = display_image(read_image(image))
    h, w = original.shape[:2]
    n = 3 if boundaries else 2
    fig = _figure(4.0 * n, 4.0 * h / w + 0.6)
    axes = fig.subplots(1, n)
    _show(axes[0], original, "original")
    _show(axes[1], display_image(seg.recolor()), f"k={seg.n_clusters} ({seg.color_space})")
    if boundaries:
        rgb = original if original.ndim == 3 else np.repeat(original[:, :, None], 3, axis=2)
        over = mark_boundaries(rgb, seg.labels, color=boundary_color, mode="inner")
        _show(axes[2], np.clip(np.rint(over * 255), 0, 255).astype(np.uint8), "boundaries")
    return fig


def plot_elbow(curve, *, title=None):
    """The elbow curve on the scale the knee is measured on, the rule's test, and the other scores.

    Top left: WCSS against k on a log axis, the chosen k circled, and from it the
    steepest step that still counts as flat (a drop of ``curve.min_drop``, 30%, of the
    WCSS left): the next point lies above it. Bottom left: the share of the WCSS
    left that each next k removes, as :func:`find_knee` measures it, with the
    flat line; the chosen k is the first bar under it (see :func:`find_knee`
    for when one is passed over). Right: silhouette, Davies-Bouldin and
    Calinski-Harabasz.

    Parameters
    ----------
    curve : Elbow
        The result of :func:`kmseg.elbow`.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> X = np.concatenate([np.full((20, 2), c) for c in (0.0, 5.0, 10.0)]) + np.linspace(0, 0.1, 60)[:, None]
    >>> fig = kmseg.plot_elbow(kmseg.elbow(X, range(1, 6)))
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_yscale()
    ('k', 'log')
    """
    fig = _figure(10.0, 6.4)
    grid = fig.add_gridspec(2, 2, height_ratios=(3, 2))
    ax = fig.add_subplot(grid[0, 0])
    ax_drop = fig.add_subplot(grid[1, 0])
    ax2 = fig.add_subplot(grid[:, 1])
    k, wcss = curve.k, curve.wcss
    best = curve.best_k
    i = int(np.flatnonzero(k == best)[0])
    clear = "" if curve.knee.clear else " (no clear knee)"
    ax.set_yscale("log", nonpositive="mask")
    ax.plot(k, wcss, "o-", color="C0", label="WCSS")
    if wcss[i] > 0:
        ax.plot([best], [wcss[i]], "o", ms=14, mfc="none", mec="C3", mew=2, label=f"chosen k={best}{clear}")
        if i + 1 < len(k):
            ax.plot([best, k[i + 1]], [wcss[i], wcss[i] * (1 - curve.min_drop) ** (k[i + 1] - best)], "--",
                    color="C3", lw=1.5, label=f"steepest flat step (-{curve.min_drop:.0%})")
    else:  # WCSS 0 is off a log axis: the chosen k is marked by its line alone
        ax.plot([], [], ":", color="C3", label=f"chosen k={best}{clear} (WCSS 0)")
    ax.axvline(best, color="C3", lw=0.8, ls=":")
    ax.set_xlabel("k")
    ax.set_ylabel("within-cluster sum of squares (log)")
    ax.set_xticks(k)
    ax.legend(fontsize="small")
    ax.set_title(title or "elbow")
    if len(k) > 1:
        share = 100 * curve.drops()
        flat = 100 * curve.min_drop
        colors = ["C3" if kk == best else ("C0" if s >= flat else "0.6") for kk, s in zip(k, share)]
        ax_drop.bar(k[:-1], share, color=colors, width=0.6)
        ax_drop.axhline(flat, color="C3", lw=1, ls="--", label=f"flat: under {curve.min_drop:.0%}")
        ax_drop.legend(fontsize="small")
    ax_drop.set_xlim(ax.get_xlim())
    ax_drop.set_xticks(k)
    ax_drop.set_xlabel("k")
    ax_drop.set_ylabel("WCSS left removed\nby k+1 (%)")
    ax2.plot(k, curve.silhouette, "o-", color="C1", label=f"silhouette (n={curve.silhouette_samples:,})")
    ax2.plot(k, curve.davies_bouldin, "s-", color="C2", label="Davies-Bouldin (lower is better)")
    ax2.set_xlabel("k")
    ax2.set_xticks(k)
    twin = ax2.twinx()
    twin.plot(k, curve.calinski_harabasz, "^-", color="C4", label="Calinski-Harabasz")
    twin.set_ylabel("Calinski-Harabasz")
    lines = ax2.get_lines() + twin.get_lines()
    ax2.legend(lines, [line.get_label() for line in lines], fontsize="small")
    ax2.set_title("other scores")
    return fig


def plot_palette(palette, counts=None, *, columns=8):
    """Colour swatches with hex codes and each colour's share of the image.

    Parameters
    ----------
    palette : (k, 3) uint8 array-like or Segmentation
        RGB colours; a Segmentation gives its palette and counts.
    counts : (k,) array-like, optional
        Pixels of each colour, for the shares.
    columns : int, default=8
        Swatches per row.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import kmseg
    >>> fig = kmseg.plot_palette([[255, 0, 0], [0, 0, 255]], counts=[3, 1])
    >>> [t.get_text().split() for t in fig.axes[0].texts]
    [['#ff0000', '75.0%'], ['#0000ff', '25.0%']]
    """
    if hasattr(palette, "palette"):
        palette, counts = palette.palette, palette.counts
    palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    k = len(palette)
    shares = None if counts is None else np.asarray(counts, float) / max(np.sum(counts), 1)
    cols = min(columns, k)
    rows = -(-k // cols)
    fig = _figure(1.3 * cols, 1.4 * rows + (0.5 if shares is not None else 0))
    ax = fig.subplots()
    from matplotlib.patches import Rectangle

    for i, rgb in enumerate(palette):
        r, c = divmod(i, cols)
        ax.add_patch(Rectangle((c, -r - 0.8), 0.92, 0.62, color=rgb / 255.0))
        text = hex_color(rgb) + ("" if shares is None else f"\n{100 * shares[i]:.1f}%")
        ax.text(c + 0.46, -r - 0.86, text, ha="center", va="top", fontsize=8, family="monospace")
    if shares is not None:
        left = 0.0
        for rgb, share in zip(palette, shares):
            ax.add_patch(Rectangle((left * cols, 0.15), share * cols, 0.3, color=rgb / 255.0))
            left += share
    ax.set_xlim(-0.05, cols)
    ax.set_ylim(-rows - 0.3, 0.5 if shares is not None else 0)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig


def plot_color_scatter(image, quantized=None, *, n_samples=10_000, random_state=0):
    """Pixels scattered in colour space (R-G and R-B panes), before and after quantization.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        The original colour image.
    quantized : (H, W, 3) uint8 ndarray, optional
        The same image quantized (e.g. ``kmseg.quantize(image, 16).image``): a
        second row of panes shows it.
    n_samples : int, default=10000
        Pixels drawn at random (the same pixels in both rows).
    random_state : int, default=0

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.random.default_rng(0).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    >>> fig = kmseg.plot_color_scatter(img, kmseg.quantize(img, 4).image, n_samples=100)
    >>> len(fig.axes)
    4
    """
    img = display_image(read_image(image))
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    pixels = img.reshape(-1, 3)
    rng = np.random.default_rng(random_state)
    idx = rng.choice(len(pixels), size=min(n_samples, len(pixels)), replace=False)
    rows = [("original", pixels[idx])]
    if quantized is not None:
        q = display_image(np.asarray(quantized))
        q = np.repeat(q[:, :, None], 3, axis=2) if q.ndim == 2 else q
        n_colors = len(np.unique(q.reshape(-1, 3), axis=0))
        rows.append((f"quantized ({n_colors} colours)", q.reshape(-1, 3)[idx]))
    fig = _figure(9.0, 4.2 * len(rows))
    axes = np.atleast_2d(fig.subplots(len(rows), 2))
    for r, ((name, pts), row) in enumerate(zip(rows, axes)):
        for ax, (j, label) in zip(row, [(1, "green"), (2, "blue")]):
            if r == 0:
                ax.scatter(pts[:, 0], pts[:, j], c=pts / 255.0, s=4, linewidths=0)
            else:  # few distinct points: draw them large, outlined
                ax.scatter(pts[:, 0], pts[:, j], c=pts / 255.0, s=70, edgecolors="0.2", linewidths=0.6)
            ax.set_xlim(0, 255)
            ax.set_ylim(0, 255)
            ax.set_xlabel("red")
            ax.set_ylabel(label)
            ax.set_title(f"{name}: red-{label}, {len(pts):,} pixels")
    return fig


def plot_centers(centers, shape, *, titles=None, columns=5, cmap="gray_r"):
    """Cluster centres drawn as little images (for image-like data such as 8x8 digits).

    Parameters
    ----------
    centers : (k, n_features) array-like
    shape : tuple of int
        Image shape of one centre, e.g. ``(8, 8)``; ``prod(shape) == n_features``.
    titles : list of str, optional
    columns : int, default=5
    cmap : str, default='gray_r'

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> fig = kmseg.plot_centers(np.eye(4), (2, 2))
    >>> sum(1 for ax in fig.axes if ax.images)
    4
    """
    centers = np.asarray(centers, dtype=float)
    if int(np.prod(shape)) != centers.shape[1]:
        raise ValueError(f"shape {tuple(shape)} does not hold {centers.shape[1]} features")
    k = len(centers)
    cols = min(columns, k)
    rows = -(-k // cols)
    fig = _figure(1.6 * cols, 1.8 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < k:
            ax.imshow(centers[i].reshape(shape), cmap=cmap, interpolation="nearest")
            ax.set_title(titles[i] if titles else f"cluster {i}", fontsize=9)
    return fig


def plot_labels(seg, *, legend=True, cmap=None):
    """The label map in distinct colours, with a legend of labels, palette colours and shares.

    Parameters
    ----------
    seg : Segmentation
    legend : bool, default=True
    cmap : str, optional
        Qualitative colour map for the labels: 'tab10' for up to 10 labels,
        else 'tab20' (colours repeat past 20).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.zeros((8, 8, 3), np.uint8); img[:, 4:] = 200
    >>> fig = kmseg.plot_labels(kmseg.segment(img, 2))
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['0: #000000 50.0%', '1: #c8c8c8 50.0%']
    """
    import matplotlib
    from matplotlib.patches import Patch

    k = seg.n_clusters
    cmap = cmap or ("tab10" if k <= 10 else "tab20")
    table = matplotlib.colormaps[cmap]
    colors = table(np.arange(k) % table.N)
    # Left-out pixels (transparent or masked) hold the label k: drawn transparent.
    shown = np.vstack([colors, np.zeros((1, 4))])[seg.labels]
    h, w = seg.labels.shape
    fig = _figure(6.0 + (2.2 if legend else 0), 6.0 * h / w + 0.4)
    ax = fig.subplots()
    ax.imshow(shown, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"label map, k={k}")
    if legend:
        total = seg.counts.sum()
        handles = [
            Patch(facecolor=colors[i], edgecolor=seg.palette[i] / 255.0, linewidth=3,
                  label=f"{i}: {hex_color(seg.palette[i])} {100 * seg.counts[i] / total:.1f}%")
            for i in range(min(k, 40))
        ]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                  title="label: colour, share")
    return fig
