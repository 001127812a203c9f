"""Fuse a pair with an exported DeNet and nothing of defusion: what `defusion fuse` does around the network.

A reference for deployments that run the ONNX file in their own pipeline (docs/serving.md, "Fusing
without defusion"). Needs numpy, onnxruntime and Pillow, and OpenCV only for 16-bit files out or 16-bit
colour in (refused in one line without it); it never imports defusion, so that this one file, copied next to an
export, runs where defusion is not installed (it ships in the package, as a module, for wheel users). It follows the fusion core's default path for
a registered pair that fits in one network pass:

1. Sources to float in [0, 1] (8-bit / 255, 16-bit / 65535).
2. The network sees luminance: full-range BT.601 Y of each source, repeated into 3 channels.
3. Mirror-pad bottom/right to multiples of 8; at scale s > 1 up-sample s-fold (bicubic, as PyTorch's
   and OpenCV's: a = -0.75, edge pixels repeated), run the network, average s x s blocks back down;
   crop; clip the `fused` output to [0, 1].
4. The fused luminance is the mean of `fused`'s 3 channels. Grey + grey stays grey (grey: R = G = B
   to within 4 levels of 8 bits at every pixel, as a lossy codec leaves it); otherwise the
   colour sources' YCbCr, each weighed by its saturation |Cb - .5| + |Cr - .5| + 1e-3, give the
   chroma; where the fused Y is below the blended Y, Cb - .5 and Cr - .5 shrink by that ratio (the
   colour keeps its saturation), and Y, Cb, Cr go back to RGB; where that falls outside [0, 1], the
   chroma shrinks towards grey just enough to fit (a luma-preserving gamut clip: Y and hue kept).
5. The output is 16-bit when either source is 16-bit, else 8-bit (the fusion core's rule,
   defusion.fusion.color.output_dtype), rounded: round(v * 65535) or round(v * 255); formats
   other than PNG and TIFF take 8 bits, as `defusion fuse` writes them.

Gains and scale come from the file's `fusion_defaults` metadata for ``--task`` (exports made
before 2026-12-05 lack it: then the fusion core's general defaults below). Not covered here:
tiling of large images, raw thermal stretching, --align, --rig, palettes and pixels from the
sources (use `defusion fuse` or the Fuser for those). A raw 16-bit frame (grey, its values in a
narrow band: thermal counts, which `defusion fuse` stretches) is refused rather than fused as a
flat grey that loses the infrared, as is a file that is no readable image, and a model file that is
missing or no ONNX model (a TorchScript export is named as one): one line, exit status 2.
Usage: python -m defusion.serving.fuse_with_onnx denet.onnx A B -o fused.png [--task ivf|mef|mff] [--scale S]
(or, copied out of the package: python fuse_with_onnx.py denet.onnx A B -o fused.png ...)
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn

import numpy as np
from PIL import Image, UnidentifiedImageError

if TYPE_CHECKING:  # imported where a model is opened: --help and refused inputs do without it
    from onnxruntime import InferenceSession

#: Full-range BT.601 RGB -> YCbCr (chroma centred on 0.5), as the fusion core converts.
RGB_TO_YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]],
                        dtype=np.float32)
CHROMA_OFFSET = np.array([0.0, 0.5, 0.5], dtype=np.float32)
SATURATION_EPS = 1e-3
#: Used when the file carries no `fusion_defaults` (exports before 2026-12-05).
GENERAL_DEFAULTS = {"unique_gain": 1.25, "detail_gain": 1.5, "scale": 2}
SIZE_MULTIPLE = 8
#: The cubic convolution kernel's constant (Keys' a) of the core's bicubic up-sampling (PyTorch's
#: F.interpolate, defusion.fusion.resample.upsample), as OpenCV's INTER_CUBIC's: within 4e-6 of both.
CUBIC_A = -0.75
#: Where the pip package of OpenCV is named, for the inputs and outputs that need it.
OPENCV_PIP = "pip install opencv-python-headless"
#: Pillow's modes of 16-bit grey files (a 16-bit grey PNG opens as I;16, or I in older Pillows).
GREY_16_MODES = ("I;16", "I;16B", "I;16L", "I")
#: Full scales of 8-bit and 16-bit data: a value over its full scale is the float in [0, 1].
FULL_8, FULL_16 = 255.0, 65535.0
#: Formats that keep 16 bits (defusion writes the others, JPEG and the rest, in 8 bits).
SIXTEEN_BIT_SUFFIXES = (".png", ".tif", ".tiff")
#: A source is grey when no pixel's channels (floats in [0, 1]) spread over more than this: 4 levels
#: of 8 bits, what a lossy codec leaves of R = G = B (the core's defusion.fusion.color.GREY_SPREAD).
GREY_SPREAD = 4 / 255
#: How far (in 8-bit levels) a value may lie from k / 255 and still be 8-bit data (float rounding).
EIGHT_BIT_TOLERANCE = 1e-3
#: A grey 16-bit source is a raw sensor frame when its values span under this share of the range
#: (the core's defusion.fusion.stretch.NARROW_SPAN), measured between these percentiles of its
#: non-zero values (TAIL_PERCENT there: hot and dead pixels do not widen it).
NARROW_SPAN = 0.25
RAW_PERCENTILES = (0.1, 99.9)
#: Exit status of a refused input, as argparse's for a usage error.
EXIT_REFUSED = 2
#: Said on stderr for --task mff: this script writes the network's reconstruction (the file's `mff` defaults
#: are the reconstruction's), not the pixels picked from the sources that `defusion fuse --task mff` writes.
MFF_NOTE = ("note: --task mff here writes the network's reconstruction (defusion fuse --task mff --pixels network), "
            "not --task mff's default, each pixel taken from the source in focus (sharper): use `defusion fuse "
            "--task mff` for that")
#: How a zip archive starts: a TorchScript export or a torch.save file, never ONNX (protobuf).
ZIP_MAGIC = b"PK\x03\x04"


def refuse(message: str) -> NoReturn:
    """Stop with one line on stderr (no traceback), exit status EXIT_REFUSED."""
    print(f"{Path(sys.argv[0]).name}: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_REFUSED)


def read_source(path: str) -> tuple[np.ndarray, bool]:
    """:func:`read`, with a file that is no readable image or a raw 16-bit frame refused in one line."""
    try:
        image, sixteen_bit = read(path)
    except UnidentifiedImageError:
        refuse(f"{path} is not an image Pillow can read (PNG, JPEG, TIFF, ...): give an image file")
    except (OSError, Image.DecompressionBombError) as exc:
        refuse(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}")
    band = raw_band(image) if sixteen_bit else None
    if band is not None:
        refuse(f"{path} looks like a raw 16-bit frame (values {band[0]:.0f} to {band[1]:.0f} of 0-65535: thermal "
               "counts?), which fuses as a flat grey that loses it: stretch it to the full range first, or use "
               "`defusion fuse`, which does")
    return image, sixteen_bit


def open_model(path: str) -> InferenceSession:
    """An onnxruntime session of the ONNX export at ``path``; a missing file, a PyTorch file (a
    TorchScript export named as one) or anything else onnxruntime cannot load refused in one line,
    not onnxruntime's traceback."""
    import onnxruntime as ort  # here: the sources are checked first, without it

    try:
        with open(path, "rb") as f:
            head = f.read(len(ZIP_MAGIC))
    except OSError as exc:
        refuse(f"cannot read {path}: {exc.strerror or exc}")
    if head == ZIP_MAGIC:
        what = "a TorchScript export" if is_torchscript(path) else "a PyTorch file (a zip archive)"
        refuse(f"{path} is {what}, not an ONNX export: give the .onnx file (defusion export --format onnx "
               "-o denet.onnx)")
    options = ort.SessionOptions()
    options.enable_mem_pattern = False  # as defusion's CPU sessions: 0.35-0.49 GB less peak memory, no slower
    try:
        return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's InvalidProtobuf, Fail, ...: the file is no model it can load
        reason = onnxruntime_reason(exc)
        refuse(f"{path} is not an ONNX model onnxruntime can load ({reason}): give the .onnx file (defusion "
               "export --format onnx -o denet.onnx)")


def onnxruntime_reason(exc: Exception) -> str:
    """The gist of onnxruntime's error, without its codes and the path said already: "[ONNXRuntimeError]
    : 7 : INVALID_PROTOBUF : Load model from m.onnx failed:Protobuf parsing failed." -> "Protobuf parsing
    failed".

    Example:
        >>> onnxruntime_reason(RuntimeError("[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model from m.onnx "
        ...                                 "failed:Protobuf parsing failed."))
        'Protobuf parsing failed'
    """
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.rsplit(" : ", 1)[-1].split("failed:", 1)[-1].strip().rstrip(".") or line


def is_torchscript(path: str) -> bool:
    """Whether the zip archive at ``path`` is a TorchScript export (it holds the network's code and
    constants, which a torch.save file has not)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any("/code/" in name for name in names) and any(name.endswith("constants.pkl") for name in names)


def raw_band(image: np.ndarray) -> tuple[float, float] | None:
    """The 16-bit values (low, high) a grey source spans where that is a narrow band (a raw sensor
    frame, under NARROW_SPAN of the range; zeros, dead pixels, left out), else None."""
    if image.ndim != 2:
        return None
    readings = image[image > 0]
    low, high = np.percentile(readings if readings.size else image, RAW_PERCENTILES)
    return (low * FULL_16, high * FULL_16) if 0 < high - low < NARROW_SPAN else None


def opencv(what: str, instead: str = "") -> ModuleType:
    """The cv2 module, which ``what`` needs; its absence refused in one line (``instead``: what to do
    without it), not an ImportError's traceback."""
    try:
        import cv2
    except ImportError:
        refuse(f"{what} needs OpenCV ({OPENCV_PIP}){instead}")
    return cv2


def read(path: str) -> tuple[np.ndarray, bool]:
    """An image file as float32 in [0, 1], HxW (grey) or HxWx3; and whether it holds 16-bit data."""
    image = Image.open(path)
    if image.mode in GREY_16_MODES:
        return np.asarray(image, dtype=np.float32) / FULL_16, True
    if any(";16" in str(tile.args) for tile in image.tile):  # 16-bit colour: Pillow would give 8 bits
        cv2 = opencv(f"reading {path}'s 16-bit colour", ", or save it as 8-bit")
        bgr = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)  # cv2.imread: ANSI paths on Windows
        if bgr is None:
            raise OSError("OpenCV cannot decode its 16-bit colour")
        return grey_if_close(cv2.cvtColor(bgr[..., :3], cv2.COLOR_BGR2RGB).astype(np.float32) / FULL_16), True
    return grey_if_close(np.asarray(image.convert("RGB"), dtype=np.float32) / FULL_8), False


def grey_if_close(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 float with R = G = B everywhere, to within GREY_SPREAD of 8-bit data's full scale (a grey
    frame from a lossy codec) or of other data's own brightest value (so that a dim 16-bit colour image
    stays colour, as the core judges it), as HxW: R where they are equal, else the luminance (what the
    core fuses of a grey source); else (colour) as it is."""
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
        return rgb[..., 0]
    if (rgb.max(axis=2).astype(np.float64) - rgb.min(axis=2)).max() > GREY_SPREAD * _own_scale(rgb):
        return rgb
    return luminance(rgb)


def _own_scale(rgb: np.ndarray) -> float:
    """1 for 8-bit data (values k / 255, also 8-bit levels in 16 bits), else the image's brightest value
    (the core's defusion.fusion.color judges grey so)."""
    top = float(rgb.max())
    if top <= 0 or top >= 1:
        return 1.0
    levels = rgb * np.float32(FULL_8)
    return 1.0 if float(np.abs(levels - np.rint(levels)).max()) <= EIGHT_BIT_TOLERANCE else top


def write(path: str, image: np.ndarray, sixteen_bit: bool) -> None:
    """HxW or HxWx3 in [0, 1] to ``path``: 16-bit when asked and the format keeps it (with OpenCV:
    Pillow writes no 16-bit colour), else 8-bit."""
    if not writes_sixteen_bit(path, sixteen_bit):
        Image.fromarray((image * FULL_8 + 0.5).astype(np.uint8)).save(path)
        return
    cv2 = opencv(f"writing 16-bit {path}", ", or name an 8-bit format with -o (.jpg, .bmp)")

    pixels = (image * FULL_16 + 0.5).astype(np.uint16)
    # encoded in memory, as cv2.imwrite takes only ANSI paths on Windows (a name in Japanese fails there)
    bgr = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(Path(path).suffix, bgr)
    if not ok:
        raise SystemExit(f"cannot write {path}")
    encoded.tofile(path)


def writes_sixteen_bit(path: str, sixteen_bit: bool) -> bool:
    """Whether :func:`write` writes ``path`` in 16 bits: asked (a 16-bit source), in a format that keeps them."""
    return sixteen_bit and Path(path).suffix.lower() in SIXTEEN_BIT_SUFFIXES


def luminance(image: np.ndarray) -> np.ndarray:
    """HxW (grey: itself) or HxWx3 in [0, 1] -> HxW: full-range BT.601 Y, what the network sees.

    Example:
        >>> float(luminance(np.ones((1, 1, 3), np.float32))[0, 0])
        1.0
    """
    return image if image.ndim == 2 else image @ RGB_TO_YCBCR[0]


def network_input(y: np.ndarray, scale: int) -> np.ndarray:
    """HxW luminance -> 1x3xH'xW' float32: mirror-padded to multiples of 8, up-sampled ``scale``-fold."""
    h, w = y.shape
    # Exports since 2026-12-06 pad inside the graph the same way (their size_multiple is 1), so this
    # changes nothing for them; older exports (size_multiple 8) need it.
    ph, pw = -h % SIZE_MULTIPLE, -w % SIZE_MULTIPLE
    y = np.pad(y, ((0, ph), (0, pw)), mode="reflect" if ph < h and pw < w else "edge")
    if scale > 1:
        y = np.clip(upsample(y, scale), 0.0, 1.0)
    return np.ascontiguousarray(np.repeat(y[None, None], 3, axis=1), dtype=np.float32)


def upsample(y: np.ndarray, scale: int) -> np.ndarray:
    """HxW -> (scale*H)x(scale*W) float32, bicubic as the core's PyTorch up-sampling (and OpenCV's
    INTER_CUBIC) resamples: pixel centres aligned, kernel constant CUBIC_A, edge pixels repeated.

    Example:
        >>> up = upsample(np.array([[0.0, 1.0]], np.float32), 2)  # overshoots, as bicubic does: clipped after
        >>> up.shape, [round(float(v), 4) for v in up[0]]
        ((2, 4), [-0.1055, 0.2266, 0.7734, 1.1055])
    """
    return _upsample_axis(_upsample_axis(y.astype(np.float32), scale, 0), scale, 1)


def _upsample_axis(y: np.ndarray, scale: int, axis: int) -> np.ndarray:
    """Float32 ``y`` up-sampled ``scale``-fold along ``axis`` by cubic convolution (:func:`upsample`), in
    float32 as PyTorch and OpenCV compute it."""
    n = y.shape[axis]
    source = (np.arange(n * scale) + 0.5) / scale - 0.5  # each output pixel's centre among the input's
    first = np.floor(source).astype(np.int64)
    d = np.abs(source - first + np.array([[1.0], [0.0], [-1.0], [-2.0]]))  # distance to the 4 taps around it
    a = CUBIC_A
    weights = np.where(d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a)
    shape = (-1, 1) if axis == 0 else (1, -1)
    out = np.zeros(y.shape[:axis] + (n * scale,) + y.shape[axis + 1:], np.float32)
    for k in range(4):
        out += weights[k].astype(np.float32).reshape(shape) * np.take(y, np.clip(first - 1 + k, 0, n - 1), axis=axis)
    return out


def fuse_luminance(session: InferenceSession, y1: np.ndarray, y2: np.ndarray, unique_gain: float, detail_gain: float,
                   scale: int) -> np.ndarray:
    """The network's fused luminance of two HxW luminance planes, HxW in [0, 1]."""
    h, w = y1.shape
    feeds = {"x1": network_input(y1, scale), "x2": network_input(y2, scale),
             "unique_gain": np.array(unique_gain, np.float32), "detail_gain": np.array(detail_gain, np.float32)}
    names = {i.name for i in session.get_inputs()}
    fused = session.run(["fused"], {k: v for k, v in feeds.items() if k in names})[0][0]  # 3 x sH' x sW'
    if scale > 1:  # average scale x scale blocks
        c, sh, sw = fused.shape
        fused = fused.reshape(c, sh // scale, scale, sw // scale, scale).mean(axis=(2, 4))
    return np.clip(fused[:, :h, :w], 0.0, 1.0).mean(axis=0)


def with_colour(y: np.ndarray, sources: list[np.ndarray]) -> np.ndarray:
    """Fused luminance + the colour sources' chroma, weighed by saturation and kept at its
    saturation where the fused image is darker; grey if none has colour."""
    colours = [s @ RGB_TO_YCBCR.T + CHROMA_OFFSET for s in sources if s.ndim == 3]
    if not colours:
        return y
    weights = [np.abs(c[..., 1:] - 0.5).sum(axis=2, keepdims=True) + SATURATION_EPS for c in colours]
    blended = sum(w * c for w, c in zip(weights, colours)) / sum(weights)
    scale = np.clip(y / np.maximum(blended[..., 0], SATURATION_EPS), 0.0, 1.0)[..., None]
    chroma = (blended[..., 1:] - 0.5) * scale
    y = np.clip(y, 0.0, 1.0)[..., None]
    # a luma-preserving gamut clip: each channel is Y + d (d linear in the chroma); where one would leave
    # [0, 1], the chroma shrinks towards grey just enough (keeping Y and hue), as the core does
    d = chroma @ np.linalg.inv(RGB_TO_YCBCR)[:, 1:].T.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(d > 0, (1.0 - y) / d, np.where(d < 0, y / -d, np.inf))
    fit = np.clip(room.min(axis=-1, keepdims=True), 0.0, 1.0)
    return np.clip(y + (chroma * fit) @ np.linalg.inv(RGB_TO_YCBCR)[:, 1:].T.astype(np.float32), 0.0, 1.0)


def defaults(session: InferenceSession, task: str | None) -> dict:
    """Gains and scale for ``task`` from the file's metadata (general defaults: task None)."""
    props = session.get_modelmeta().custom_metadata_map
    if "fusion_defaults" not in props:
        return dict(GENERAL_DEFAULTS)
    return json.loads(props["fusion_defaults"])[task or "general"]


def _tolerate_unencodable() -> None:
    """Standard output and error write what their encoding lacks as escapes (a Japanese file name on
    a Windows console redirected to a file, cp1252) rather than fail after the image is written; as
    ``defusion``'s own commands do, spelt out here since this file imports nothing of defusion."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        if not encoding.lower().replace("-", "").startswith("utf") and getattr(stream, "errors", "") == "strict":
            try:
                stream.reconfigure(errors="backslashreplace")
            except (AttributeError, ValueError, OSError):  # not a text file of its own (a test's capture)
                pass


def main() -> None:
    _tolerate_unencodable()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--task", choices=("ivf", "mef", "mff"),
                   help="the task's gains and scale; mff: the network's reconstruction, not defusion fuse --task "
                        "mff's pixels from the sources")
    p.add_argument("--scale", type=int, help="inference scale (default: the task's)")
    args = p.parse_args()
    if args.task == "mff":
        print(f"{Path(sys.argv[0]).name}: {MFF_NOTE}", file=sys.stderr)
    (a, a16), (b, b16) = read_source(args.a), read_source(args.b)  # refused before the model loads
    if a.shape[:2] != b.shape[:2]:
        refuse(f"the images differ in size: {a.shape[1]}x{a.shape[0]} vs {b.shape[1]}x{b.shape[0]}; register "
               "them first (or use `defusion fuse --resize`)")
    if writes_sixteen_bit(args.output, a16 or b16):  # refused before the model runs, not after
        opencv(f"writing 16-bit {args.output}", ", or name an 8-bit format with -o (.jpg, .bmp)")
    session = open_model(args.model)
    settings = defaults(session, args.task)
    scale = args.scale or settings["scale"]
    if args.task == "mef" and luminance(b).mean() < luminance(a).mean():
        a, b = b, a  # exposure pairs run darker first (the core's order="exposure")
    y = fuse_luminance(session, luminance(a), luminance(b), settings["unique_gain"], settings["detail_gain"], scale)
    fused = with_colour(y, [a, b])
    write(args.output, fused, a16 or b16)  # 16-bit in, 16-bit out, as defusion fuse
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
