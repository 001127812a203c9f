"""What one request may send and make the server hold: the form's fields, and :class:`Limits`
(bytes, pixels, images, queue, upload times) with their defaults; and how long its headers may take
(:data:`HEADER_TIMEOUT_S`, which ``defusion serve`` gives its HTTP protocol, not the app)."""

from __future__ import annotations

from dataclasses import dataclass

#: Default bound on each uploaded file: 50 MiB.
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: Default bound on the images of one request (a bracket or focus stack of up to 4).
DEFAULT_MAX_IMAGES = 4
#: Default bound on each image's pixels: 16 MP (a 12 MP phone photo, a 4928x3264 camera frame,
#: 4096x4096). A request's peak memory grows with its pixels (docs/serving.md, "Memory": about
#: 0.17 GB per megapixel of a pair at the default scale, on 0.9 GB of fixed cost; a 16 MP pair
#: about 3.6 GB), so the default fits a host of 4-8 GB; the CLI's bound (io.formats.DEFAULT_MAX_PIXELS,
#: 100 MP) let one small request (a pair of 190 KB PNGs of 81 MP of zeros) take about 15 GB (0.9 + 0.17 x 81,
#: extrapolated from the per-MP rule). --max-pixels sets it; the queue multiplies it (docs/serving.md, "Memory").
DEFAULT_SERVER_MAX_PIXELS = 16_000_000
#: A fusion pads each side of an image to a multiple of this, the network's stride
#: (defusion.model.denet.SIZE_MULTIPLE, repeated so that the limits import no torch), and runs, in time
#: and memory, the padded pixels: the server charges a side under it as this long (:func:`charged_pixels`).
PAD_MULTIPLE = 8
#: Default bound on the requests held besides the one being fused (uploads read, decoded, waiting
#: for the model): more are answered 503 with Retry-After, so the server's memory stays bounded.
DEFAULT_MAX_QUEUE = 8
#: Default bound on the seconds the server waits for the next piece of a request's body: a client
#: that stalls longer is answered 408, so a stalled upload cannot hold its place in the queue forever.
UPLOAD_IDLE_TIMEOUT_S = 30.0
#: Default bound on the seconds a request's whole body may take to arrive: a client that sends a byte
#: now and then (each within the idle timeout) is answered 408 once it is up, so it cannot hold its
#: place in the queue forever either. 120 s lets a 64 MB upload through at 0.53 MB/s (4.3 Mbit/s) or more.
UPLOAD_DEADLINE_S = 120.0
#: Default bound on the seconds a request's line and headers may take to arrive, from the connection's
#: start (or, on a kept-alive connection, from the next request's first byte): a client that sends
#: them slowly, or nothing, is closed (a 408 where some came), so it cannot hold a connection open
#: forever (a slowloris). 20 s is Apache's (mod_reqtimeout's header=20); headers of a few KB take a
#: second even at 64 kbit/s.
HEADER_TIMEOUT_S = 20.0
#: Room for multipart headers and boundaries on top of the files.
MULTIPART_OVERHEAD = 64 * 1024
#: The image fields of ``POST /v1/fuse``, in order: ``a`` and ``b`` always, then more up to ``max_images``.
FIELDS = ("a", "b", "c", "d", "e", "f", "g", "h")
#: The fewest and most images a server may be set to fuse per request (``max_images``): a pair, up
#: to one image per field.
MIN_IMAGES = 2
MAX_IMAGES = len(FIELDS)
#: The optional field with a camera rig's calibration (``defusion calibrate``'s JSON).
RIG_FIELD = "rig"
#: The fields a request may leave out; sent blank (a browser form's empty input), they are left out.
OPTIONAL_FIELDS = (*FIELDS[MIN_IMAGES:], RIG_FIELD)


#: The prefix of the environment variables that set ``defusion serve``'s options (``--max-pixels``:
#: ``DEFUSION_MAX_PIXELS``; defusion.serving.env_settings lists them).
ENV_PREFIX = "DEFUSION_"


def server_setting(option: str) -> str:
    """How a client is told that a bound it met is the server's, for whoever runs it to change: the
    ``defusion serve`` option and the environment variable that set it.

    Example:
        >>> server_setting("--max-upload-bytes")
        "the server's --max-upload-bytes or DEFUSION_MAX_UPLOAD_BYTES"
    """
    return f"the server's {option} or {ENV_PREFIX}{option.lstrip('-').upper().replace('-', '_')}"


def charged_pixels(width: int, height: int) -> int:
    """The pixels :class:`Limits` charges a width x height image: its own, with a side shorter than
    :data:`PAD_MULTIPLE` counted as that long, since a fusion pads it so and runs, in time and memory,
    the padded pixels: a 16,000,000x1 image runs 8 rows, 128,000,000 pixels, 8x a 4000x4000 one. A
    side of 8 or more is charged as it is (its padding costs under 2x), so no photo near the limit is
    refused for a few pixels of padding.

    Example:
        >>> charged_pixels(4001, 3999), charged_pixels(16_000_000, 1), charged_pixels(40, 3)
        (15999999, 128000000, 320)
    """
    return max(width, PAD_MULTIPLE) * max(height, PAD_MULTIPLE)


def too_many_pixels(width: int, height: int, max_pixels: int) -> str | None:
    """What is said of a width x height image over ``max_pixels`` (:func:`charged_pixels`), None where
    it is within: its pixels against the limit, and the padded pixels counted where they, not its
    own, put it over.

    Example:
        >>> too_many_pixels(5000, 4000, 16_000_000)
        '5000x4000 is 20,000,000 pixels, over the limit of 16,000,000 pixels'
        >>> too_many_pixels(16_000_000, 1, 16_000_000)  # doctest: +ELLIPSIS
        '16000000x1 is 16,000,000 pixels, run as 128,000,000 (a side under 8 padded to 8), over ...'
        >>> too_many_pixels(4000, 4000, 16_000_000) is None
        True
    """
    charged = charged_pixels(width, height)
    if charged <= max_pixels:
        return None
    own = width * height
    counted = "" if own > max_pixels else f", run as {charged:,} (a side under {PAD_MULTIPLE} padded to {PAD_MULTIPLE})"
    return f"{width}x{height} is {own:,} pixels{counted}, over the limit of {max_pixels:,} pixels"


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may make the server read and decode.

    ``max_upload_bytes`` bounds each uploaded file; the whole request body may be at most
    ``max_images`` files plus :data:`MULTIPART_OVERHEAD`. ``max_pixels`` bounds the pixels a fusion
    runs of each image, width x height with a side under the network's stride padded to it
    (:func:`charged_pixels`: a 16,000,000x1 image counts 128,000,000), and is checked from the
    header, before anything is decoded. ``max_queue``
    bounds the requests the server holds besides the one being fused (reading, decoding, waiting
    for the model); one more is answered 503. ``upload_timeout_s`` bounds the wait for each piece
    of the body, ``upload_deadline_s`` the whole body's (a 408 past either).
    """

    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_pixels: int = DEFAULT_SERVER_MAX_PIXELS
    max_images: int = DEFAULT_MAX_IMAGES
    max_queue: int = DEFAULT_MAX_QUEUE
    upload_timeout_s: float = UPLOAD_IDLE_TIMEOUT_S
    upload_deadline_s: float = UPLOAD_DEADLINE_S

    def __post_init__(self) -> None:
        if self.max_upload_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError("max_upload_bytes and max_pixels must be positive")
        if not MIN_IMAGES <= self.max_images <= MAX_IMAGES:
            raise ValueError(f"max_images must be from {MIN_IMAGES} to {MAX_IMAGES}")
        if self.max_queue < 0:
            raise ValueError("max_queue must be 0 or more")
        if not self.upload_timeout_s > 0:
            raise ValueError("upload_timeout_s must be positive")
        if not self.upload_deadline_s > 0:
            raise ValueError("upload_deadline_s must be positive")

    @property
    def fields(self) -> tuple[str, ...]:
        """The file fields a request may use."""
        return FIELDS[:self.max_images]

    @property
    def max_request_bytes(self) -> int:
        return self.max_images * self.max_upload_bytes + MULTIPART_OVERHEAD
