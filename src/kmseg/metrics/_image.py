"""How far a quantized or dithered image is from its original: per pixel, and as the eye sees it.

MSE and PSNR compare RGB values and CIEDE2000 compares the colours of matching
pixels; S-CIELAB first blurs both images as the eye does at a viewing distance,
so that a fine dither whose dots average to the right colour scores as nearly
right, and banding scores as what it is.
"""

import math
from typing import NamedTuple

import numpy as np

from .._validation import KmsegError, check_number

#: Samples per degree of visual angle assumed by :func:`s_cielab`: a 96 dpi screen
#: seen from 50 cm, where one degree spans 2 x 500 mm x tan(0.5 deg) = 8.73 mm = 33.0 pixels.
SAMPLES_PER_DEGREE = 33.0

#: XYZ (CIE 1931 2-degree observer) to the opponent space O1 (light-dark), O2
#: (red-green), O3 (blue-yellow) of Poirson and Wandell, as S-CIELAB's reference
#: code gives it (``cmatrix('xyz2opp')``, to four decimals).
_XYZ_TO_OPPONENT = np.array([
    [278.7336, 721.8031, -106.5520],
    [-448.7736, 289.8056, 77.1569],
    [85.9513, -589.9859, 501.1089],
]) / 1000.0

#: S-CIELAB's spatial filters, one per opponent channel: (weight, spread in degrees)
#: of each Gaussian. The spreads are full widths at half maximum and the weights sum
#: to 1 (Zhang and Wandell's code, ``separableFilters.m``; Johnson and Fairchild 2003).
_OPPONENT_FILTERS = (
    ((1.00327, 0.05), (0.114416, 0.225), (-0.117686, 7.0)),
    ((0.616725, 0.0685), (0.383275, 0.826)),
    ((0.567885, 0.0920), (0.432115, 0.6451)),
)

#: Full width at half maximum of a Gaussian, in standard deviations.
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


class ColorErrors(NamedTuple):
    """How far an image is from its original (see :func:`color_errors`)."""

    mse: float
    psnr: float
    ciede2000: float
    s_cielab: float

    def table(self):
        """The four measures as a plain-text table, one line each: name, value."""
        rows = [("MSE (RGB, 0-255)", f"{self.mse:.2f}"),
                ("PSNR (dB)", "inf" if math.isinf(self.psnr) else f"{self.psnr:.2f}"),
                ("mean CIEDE2000", f"{self.ciede2000:.2f}"),
                ("S-CIELAB (dE*ab)", f"{self.s_cielab:.2f}")]
        names = max(len(name) for name, _ in rows)
        values = max(len(value) for _, value in rows)
        return "\n".join(f"{name:<{names}}  {value:>{values}}" for name, value in rows)


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def _check_samples_per_degree(value):
    value = check_number("samples_per_degree", value)
    if value <= 0:
        raise KmsegError(f"samples_per_degree={value:g} must be > 0")
    return value


def _name(source, default):
    """How to name an image in messages: its path, else ``default``."""
    from ..io._read import describe

    name = describe(source)
    return default if name == "the image" else name


def _read_pair(reference, test):
    """Both images read and validated, of the same height and width, else a KmsegError naming both."""
    from ..io._read import read_image

    a, b = read_image(reference), read_image(test)
    if a.shape[:2] != b.shape[:2]:
        (ha, wa), (hb, wb) = a.shape[:2], b.shape[:2]
        raise KmsegError(f"{_name(reference, 'the reference image')} is {wa}x{ha} pixels but "
                         f"{_name(test, 'the test image')} is {wb}x{hb}: images compared must have the same size")
    return a, b


def _unit_rgb_image(image):
    """A validated image as (H, W, 3) float64 RGB in [0, 1]: grey replicated, alpha dropped."""
    from ..color._spaces import unit_rgb

    h, w = image.shape[:2]
    return unit_rgb(image.reshape(h * w, -1)).reshape(h, w, 3)


# ---------------------------------------------------------------------------
# S-CIELAB
# ---------------------------------------------------------------------------

def _filter_radius(samples_per_degree):
    """Half-width in pixels of S-CIELAB's filters: their support is limited to one
    degree, an odd number of samples (``ceil(spd / 2) * 2 - 1``), as in the reference code."""
    return max(0, math.ceil(samples_per_degree / 2) - 1)


def _opponent_kernels(samples_per_degree):
    """Each opponent channel's Gaussians in pixels: ``[(weight, sigma), ...]`` per channel,
    sigma the standard deviation of the Gaussian whose full width at half maximum is the spread."""
    return [[(weight, spread * samples_per_degree / _FWHM_PER_SIGMA) for weight, spread in channel]
            for channel in _OPPONENT_FILTERS]


def _filter_opponent(opp, samples_per_degree):
    """Each opponent channel convolved with its sum of Gaussians, each Gaussian
    truncated to the one-degree support and normalised to sum 1, then weighted;
    edges reflected (``d c b a | a b c d``)."""
    from scipy.ndimage import gaussian_filter

    radius = _filter_radius(samples_per_degree)
    out = np.zeros_like(opp)
    for c, gaussians in enumerate(_opponent_kernels(samples_per_degree)):
        channel = np.ascontiguousarray(opp[:, :, c])
        for weight, sigma in gaussians:
            if radius == 0:
                out[:, :, c] += weight * channel
            else:
                out[:, :, c] += weight * gaussian_filter(channel, sigma, mode="reflect", radius=radius)
    return out


def _spatial_lab(rgb, samples_per_degree):
    """CIELAB of an (H, W, 3) RGB image in [0, 1] after S-CIELAB's blur of its opponent channels."""
    from skimage.color import rgb2xyz, xyz2lab

    opp = rgb2xyz(rgb) @ _XYZ_TO_OPPONENT.T
    xyz = _filter_opponent(opp, samples_per_degree) @ np.linalg.inv(_XYZ_TO_OPPONENT).T
    return xyz2lab(xyz)


def _s_cielab_map(a, b, samples_per_degree):
    lab_a = _spatial_lab(_unit_rgb_image(a), samples_per_degree)
    lab_b = _spatial_lab(_unit_rgb_image(b), samples_per_degree)
    return np.sqrt(((lab_a - lab_b) ** 2).sum(axis=2))


def s_cielab(reference, test, *, samples_per_degree=SAMPLES_PER_DEGREE, return_map=False):
    """S-CIELAB colour difference: CIE 1976 Delta E*ab after blurring both images as the eye does.

    S-CIELAB (Zhang and Wandell 1996) converts both sRGB images to linear RGB, to
    CIE XYZ (D65) and to the opponent colour space of Poirson and Wandell (light-dark,
    red-green, blue-yellow), blurs each opponent channel with a weighted sum of
    Gaussians fitted to the eye's pattern-colour sensitivity, converts back to XYZ
    and to CIELAB, and measures Delta E*ab (1976: the Euclidean distance in CIELAB)
    pixel by pixel. Over flat areas it equals plain CIELAB Delta E*ab; over fine
    patterns (a dither, a halftone) it counts only the difference the eye sees, the
    blur of the dots against the blur of the original.

    The filters are those of Zhang and Wandell's code and of Johnson and Fairchild
    (2003): light-dark weights 1.00327, 0.114416, -0.117686 with spreads 0.05, 0.225,
    7.0 degrees; red-green 0.616725, 0.383275 with 0.0685, 0.826; blue-yellow
    0.567885, 0.432115 with 0.0920, 0.6451. A spread is the Gaussian's
    full width at half maximum (the code's ``gauss.m``), so its standard deviation
    is ``spread * samples_per_degree / 2.3548`` pixels. Each Gaussian is truncated
    to a support of one degree (an odd number of pixels), normalised to sum 1 and
    weighted, so that each filter sums to 1; edges are reflected. (The reference
    code also resamples the filters when there are fewer than 224 samples per
    degree; here the Gaussians are sampled at the pixels as they are.)

    Parameters
    ----------
    reference, test : str, os.PathLike, PIL.Image.Image or ndarray
        The original and the image compared with it (quantized or dithered, say):
        ``(H, W)`` grey, ``(H, W, 2)`` grey+alpha or ``(H, W, 3|4)`` RGB(A) sRGB
        arrays of uint8, uint16 or float in [0, 1], or files kmseg reads, of the
        same height and width. Grey is taken as equal R, G and B; alpha is ignored.
    samples_per_degree : float, default 33.0
        Pixels per degree of visual angle: 33 is a 96 dpi screen seen from 50 cm
        (:data:`SAMPLES_PER_DEGREE`); more pixels per degree (a finer screen, a
        longer distance) blur more. At 2 or less the filters have no support and
        the result is plain CIELAB Delta E*ab.
    return_map : bool, default False
        Return the ``(H, W)`` map of Delta E*ab per pixel instead of its mean.

    Returns
    -------
    float, or (H, W) float64 ndarray with ``return_map=True``
        Mean S-CIELAB Delta E*ab over the pixels (0 for identical images; about
        2.3 is a just-noticeable difference).

    Raises
    ------
    KmsegError
        If the images differ in height or width (the message names both sizes),
        an image is not a valid image, or ``samples_per_degree`` is not a
        positive number.
    ImageReadError
        If a file cannot be read.

    See Also
    --------
    color_errors : MSE, PSNR, mean CIEDE2000 and S-CIELAB together.
    kmseg.color_error : mean CIEDE2000, pixel by pixel.

    References
    ----------
    X. Zhang and B. A. Wandell, "A spatial extension of CIELAB for digital color
    image reproduction", SID Symposium Digest of Technical Papers 27, 731-734 (1996);
    Journal of the SID 5(1), 61-63 (1997).
    G. M. Johnson and M. D. Fairchild, "A top down description of S-CIELAB and
    CIEDE2000", Color Research and Application 28(6), 425-435 (2003).

    Examples
    --------
    A checkerboard of black and white pixels against the grey of the same light
    (sRGB 188, half the light of white): pixel by pixel they differ by 50 Delta E*ab,
    to the eye hardly at all.

    >>> import numpy as np
    >>> from kmseg.metrics import s_cielab
    >>> checker = (np.indices((16, 16)).sum(axis=0) % 2 * 255).astype(np.uint8)
    >>> grey = np.full((16, 16), 188, np.uint8)
    >>> round(s_cielab(checker, grey), 2)
    1.83
    >>> round(s_cielab(checker, grey, samples_per_degree=1), 2)   # no blur: plain CIELAB
    50.0
    >>> s_cielab(grey, grey)
    0.0
    >>> s_cielab(checker, grey, return_map=True).shape
    (16, 16)
    """
    samples_per_degree = _check_samples_per_degree(samples_per_degree)
    a, b = _read_pair(reference, test)
    error = _s_cielab_map(a, b, samples_per_degree)
    return error if return_map else float(error.mean())


# ---------------------------------------------------------------------------
# All four measures
# ---------------------------------------------------------------------------

def color_errors(reference, test, *, samples_per_degree=SAMPLES_PER_DEGREE):
    """MSE, PSNR, mean CIEDE2000 and S-CIELAB of an image against its original.

    Parameters
    ----------
    reference, test : str, os.PathLike, PIL.Image.Image or ndarray
        The original and the image compared with it (quantized or dithered, say),
        as :func:`s_cielab` takes them, of the same height and width.
    samples_per_degree : float, default 33.0
        Viewing condition of the S-CIELAB measure (see :func:`s_cielab`).

    Returns
    -------
    ColorErrors
        ``mse``: mean squared difference over the pixels and the R, G, B channels,
        on the 0-255 scale (16-bit and float images are scaled to it; grey counts
        as equal R, G and B); ``psnr``: ``10 log10(255**2 / mse)`` in dB, ``inf``
        for equal images; ``ciede2000``: mean CIEDE2000 over the pixels
        (:func:`kmseg.color_error`); ``s_cielab``: mean S-CIELAB Delta E*ab
        (:func:`s_cielab`). ``table()`` lays them out one a line.

    Raises
    ------
    KmsegError
        If the images differ in height or width (the message names both sizes),
        an image is not a valid image, or ``samples_per_degree`` is not a
        positive number.
    ImageReadError
        If a file cannot be read.

    See Also
    --------
    s_cielab, kmseg.color_error

    Examples
    --------
    >>> import numpy as np
    >>> from kmseg.metrics import color_errors
    >>> grey = np.full((8, 8), 188, np.uint8)
    >>> checker = (np.indices((8, 8)).sum(axis=0) % 2 * 255).astype(np.uint8)
    >>> errors = color_errors(grey, checker)     # a dither of grey onto black and white
    >>> print(errors.table())
    MSE (RGB, 0-255)  19916.50
    PSNR (dB)             5.14
    mean CIEDE2000       40.25
    S-CIELAB (dE*ab)      2.67
    >>> color_errors(grey, grey).psnr
    inf
    """
    from ..color._error import color_error

    samples_per_degree = _check_samples_per_degree(samples_per_degree)
    a, b = _read_pair(reference, test)
    rgb_a, rgb_b = _unit_rgb_image(a), _unit_rgb_image(b)
    mse = float(np.mean(((rgb_a - rgb_b) * 255.0) ** 2))
    psnr = math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)
    return ColorErrors(mse, psnr, color_error(a, b), float(_s_cielab_map(a, b, samples_per_degree).mean()))
