"""Live inputs of a video fusion: a stream by URL, a capture device by path, or a camera by index,
told from a file or folder by how it is written (:func:`live_spec`) and opened as a :class:`LiveSource`.

- a URL: anything written ``scheme://...`` (``rtsp://``, ``rtsps://``, ``http://``, ``https://``,
  ``udp://``), opened by OpenCV's FFmpeg as written (never through :class:`~pathlib.Path`, which would
  fold ``//`` into ``/``); but a ``file://`` URL is the file or folder it names (:func:`file_url_path`),
  not live;
- a capture device: a character device (``/dev/video0``, ``/dev/v4l/by-id/...``, stable across
  reboots), or a ``/dev/videoN`` that is not there (a camera unplugged: said as such);
- a camera by index: ``cam:N`` (``cam:0`` the first), the spelling that works on every system (a bare
  ``0`` would be a file named 0; a file named ``cam:0`` is reached as ``./cam:0``).

A live source has no frame count: it is read until it ends, stalls (:data:`READ_TIMEOUT_S`), or the fusion
is stopped. A camera, a device, or a stream of a real-time protocol (:data:`REAL_TIME_SCHEMES`) does not
wait for the fusion (:attr:`LiveSource.real_time`): it is read on a thread of its own from its opening
(:class:`NewestFrameReader`), which keeps only its newest frame, so that each pair the fusion takes is
the newest it sent (a slow fusion skips the frames sent meanwhile, and counts them: :attr:`LiveSource.skipped`),
not one queued in OpenCV's or FFmpeg's buffers, the fused video lagging further and further behind the
scene; two such inputs' frames are paired as each delivers them, not by time. An http(s) URL may be a
file served (which waits) or a live MJPEG stream (which does not), told by whether it reports a frame
count; either is read in order, every frame (one that reports no count may be a file).

``cam:N`` opens ``/dev/videoN`` on Linux (V4L2): the two spellings of one device are refused together
(:func:`check_distinct_devices`), as a device streams to one reader at a time.

Example:
    >>> live_spec("rtsp://10.0.0.7:554/stream1")
    LiveSpec(kind='url', target='rtsp://10.0.0.7:554/stream1', name='rtsp://10.0.0.7:554/stream1')
    >>> live_spec("cam:1").target, live_spec("frames/") is None, live_spec("file:///clips/a.mp4") is None
    (1, True, True)
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import threading
from pathlib import Path
from typing import Iterator, NamedTuple
from urllib.parse import unquote_plus, urlsplit
from urllib.request import url2pathname

import cv2
import numpy as np

from defusion.fusion.video.errors import VideoError
from defusion.fusion.video.sources import PLAUSIBLE_FPS, FrameSource, bgr_to_rgb

#: A URL: a scheme of two characters or more (a Windows drive, ``C:``, is one), then ``://``.
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")
#: A camera by index, as written on the command line: ``cam:0`` the first.
CAMERA_INDEX = re.compile(r"cam:(\d+)")
#: A Linux capture device's usual name: one that is not there is a camera unplugged, not a missing file.
DEVICE_NAME = re.compile(r"/dev/video\d+")
#: Seconds a stream may take to open, and to deliver each frame before it counts as ended: OpenCV's
#: FFmpeg waits 30 s for each by default; a LAN camera answers within a second or two, and an
#: address nothing listens on (``udp://``, or a host that drops the connection) should not hold the
#: command half a minute. Also how long Ctrl-C may wait on a stalled read.
OPEN_TIMEOUT_S = 10
READ_TIMEOUT_S = 10
#: Seconds between the fusion's looks for Ctrl-C or SIGTERM while it waits for a real-time source's next frame
#: (:meth:`NewestFrameReader.take`): the signal may reach the reader's thread, which does not wake the waiting
#: one; a tenth of a second is not felt.
WAKE_S = 0.1
#: Milliseconds in a second, for OpenCV's timeouts.
_MS = 1000
#: Where a URL's authority (``user:password@host:port``) ends and its path, query or fragment begins.
_AUTHORITY_END = re.compile(r"[/?#]")
#: A port (``host:554/...``), as a URL writes it after its host.
_PORT = re.compile(r"\d{1,5}")
#: A query parameter that carries a credential (``?user=admin&pwd=secret``, ``&token=...``, ``&sig=...``), by
#: its name: its value is hidden in what is said.
_SECRET_PARAMETER = re.compile(r"pass|pwd|token|auth|key|secret|sig", re.IGNORECASE)
#: A credential written in a URL's path (``/user=admin_password=...``, some cameras' style; ``;password=...``):
#: a name like :data:`_SECRET_PARAMETER`'s, ``=``, and its value up to the next separator, hidden.
_PATH_SECRET = re.compile(r"((?:pass|pwd|token|auth|secret|sig)[A-Za-z]*=)[^/;&_?#]*", re.IGNORECASE)
#: What hides a secret in what is said.
_HIDDEN = "***"
#: Schemes whose streams send their frames in real time, whether or not they are read (a camera's
#: protocols): a fusion slower than the stream drops the frames sent meanwhile. An http(s) URL is not
#: among them: it may be a video file served, which waits for each read like a file on disk.
REAL_TIME_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "rtp", "srt", "udp", "tcp"})


class LiveName(str):
    """How messages name a live source: its spelling, as given (a URL's password hidden). ``name`` is
    the whole of it, as a file's name stands for the file in a line."""

    @property
    def name(self) -> str:
        return str(self)


class LiveSpec(NamedTuple):
    """A live source: ``kind`` (``url``, ``device`` or ``index``), ``target`` (what OpenCV opens: the
    URL or device path as written, or the index) and ``name`` (how messages name it)."""

    kind: str
    target: str | int
    name: LiveName


def live_spec(text: str | Path) -> LiveSpec | None:
    """The live source ``text`` names (a URL, a capture device, ``cam:N``), or None for a file or folder.
    A ``cam:`` not followed by an index is a VideoError saying how to write one.

    A ``file://`` URL is None too: it names a file or folder (:func:`file_url_path`), which waits for the fusion.

    Example:
        >>> live_spec("rtsp://admin:secret@10.0.0.7/live").name
        'rtsp://admin:***@10.0.0.7/live'
        >>> live_spec("/dev/video9"), live_spec("C://clips/a.mp4")
        (LiveSpec(kind='device', target='/dev/video9', name='/dev/video9'), None)
    """
    text = str(text)
    if URL.match(text):
        if _scheme(text) == "file":
            return None
        return LiveSpec("url", text, LiveName(hide_secrets(text)))
    if text.startswith("cam:"):
        index = CAMERA_INDEX.fullmatch(text)
        if index is None:
            raise VideoError(f"{text}: a camera is written cam:N, N its index from 0 (cam:0 the first); "
                             f"a file so named is ./{text}")
        return LiveSpec("index", int(index[1]), LiveName(text))
    if DEVICE_NAME.fullmatch(text) or _character_device(text):
        return LiveSpec("device", text, LiveName(text))
    return None


def hide_secrets(url: str) -> str:
    """``url`` as said in messages (which end up in logs): its password (:func:`_hide_password`) and the
    values of query parameters named like a credential (:data:`_SECRET_PARAMETER`) hidden, the rest as
    written.

    Example:
        >>> hide_secrets("rtsp://admin:p@ss@10.0.0.7:554/live")
        'rtsp://admin:***@10.0.0.7:554/live'
        >>> hide_secrets("http://cam/video.cgi?user=admin&pwd=secret")
        'http://cam/video.cgi?user=admin&pwd=***'
        >>> hide_secrets("rtsp://10.0.0.7:554/user=admin_password=tlJw_channel=1.sdp")
        'rtsp://10.0.0.7:554/user=admin_password=***_channel=1.sdp'
    """
    url = _hide_password(url)
    head, mark, query = url.partition("?")
    head = _PATH_SECRET.sub(lambda found: found.group(1) + _HIDDEN, head)
    if not mark:
        return head
    query, hash_mark, fragment = query.partition("#")
    parameters = []
    for parameter in query.split("&"):
        name, equals, value = parameter.partition("=")
        hidden = equals and value and _SECRET_PARAMETER.search(unquote_plus(name))
        parameters.append(f"{name}={_HIDDEN}" if hidden else parameter)
    return f"{head}?{'&'.join(parameters)}{hash_mark}{fragment}"


def _hide_password(url: str) -> str:
    """``url`` with its password hidden: from the ``:`` of its user info (before the last ``@`` ahead of its
    path, as FFmpeg splits it: ``user:p@ss@host``, ``me@mail.org:pw@host``) to the last ``@`` of all, so
    that a password that holds a ``/``, ``?`` or ``#`` (``user:pa/ss@host``: FFmpeg would not even send it)
    is hidden all the same, and an ``@`` in the path after a password hides the host too (the two cannot
    be told apart: better too much hidden than a password said). Where no ``@`` comes at all, a named
    host's port is no password (``10.0.0.7:554/clips/a`` kept as written; ``john.doe:2024/x@host`` hidden)."""
    scheme, sep, rest = url.partition("://")
    end = _AUTHORITY_END.search(rest)
    authority = rest[:end.start()] if end else rest
    user_info = authority[:authority.rfind("@")] if "@" in authority else authority  # no @: it may run past
    colon, at = user_info.find(":"), rest.rfind("@")
    if colon < 0 or at < colon:
        return url
    host, port = authority[:colon], authority[colon + 1:]
    if "@" not in rest and _PORT.fullmatch(port) and ("." in host or host.lower() == "localhost"):
        return url
    return f"{scheme}{sep}{rest[:colon]}:{_HIDDEN}{rest[at:]}"


def file_url_path(text: str | Path) -> Path | None:
    """The file or folder a ``file://`` URL names (``file:///clips/a%20b.mp4``: ``/clips/a b.mp4``), opened as
    that path is: a file waits for the fusion, so it is not live; None for anything else. A URL of another
    host's file (``file://server/share/a.mp4``, outside Windows) is a VideoError saying to give its path.

    Example:
        >>> file_url_path("file:///clips/a%20b.mp4").as_posix(), file_url_path("clips/a.mp4")
        ('/clips/a b.mp4', None)
    """
    text = str(text)
    if not URL.match(text) or _scheme(text) != "file":
        return None
    parts = urlsplit(text)
    host = parts.netloc.lower()
    if host not in ("", "localhost") and os.name != "nt":
        raise VideoError(f"{text}: names a file on another host ({parts.netloc}); give its path as mounted here")
    path = url2pathname(f"//{parts.netloc}{parts.path}" if host not in ("", "localhost") else parts.path)
    if not path:
        raise VideoError(f"{text}: names no file; write file:///path/to/clip.mp4, or the path itself")
    return Path(path)


def _scheme(url: str) -> str:
    """A URL's scheme, lower case (schemes ignore case: ``RTSP://`` is ``rtsp://``)."""
    return url.partition("://")[0].lower()


def sends_in_real_time(spec: LiveSpec) -> bool:
    """Whether ``spec`` is known to send its frames whether or not they are read: a camera, a device, a
    stream of a real-time protocol (:data:`REAL_TIME_SCHEMES`); not an http(s) URL, which may be a file.

    Example:
        >>> sends_in_real_time(live_spec("cam:0")), sends_in_real_time(live_spec("https://host/clip.mp4"))
        (True, False)
    """
    return spec.kind != "url" or _scheme(str(spec.target)) in REAL_TIME_SCHEMES


def _character_device(text: str) -> bool:
    """Whether ``text`` is a character device (a capture device, followed through its links)."""
    try:
        return stat.S_ISCHR(os.stat(text).st_mode)
    except (OSError, ValueError):
        return False


def open_capture(spec: LiveSpec) -> cv2.VideoCapture:
    """An OpenCV capture of ``spec`` (any backend: FFmpeg for a URL, V4L2 for a device on Linux), its
    log lines kept quiet (a failure is said in one line by :class:`LiveSource`); a URL's open and read
    time-outs :data:`OPEN_TIMEOUT_S` and :data:`READ_TIMEOUT_S`. The one place a capture is made:
    tests replace it with a fake camera."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # FFmpeg's own "Connection refused" lines
    with _quiet_opencv():
        if spec.kind == "url":  # only FFmpeg reads these settings; a device backend refuses a setting it lacks
            return cv2.VideoCapture(spec.target, cv2.CAP_ANY, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_S * _MS,
                                                               cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_S * _MS])
        return cv2.VideoCapture(spec.target, cv2.CAP_ANY)


#: How many :func:`_quiet_opencv` blocks are open (any thread: a real-time source's reader reads inside one), and
#: OpenCV's log level before the first: a count, not a level saved and restored by each, so that blocks of
#: several threads closing in any order leave the level as it was. OpenCV's level is the process's: while a
#: reader reads a camera (nearly always inside a block), its warnings from elsewhere (the video writer's) are
#: quiet too, as they were during each read before readers had threads; its errors are not.
_quiet_depth = 0
_loud_level: int | None = None
_quiet_lock = threading.Lock()


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """OpenCV's warnings (``[ WARN:0@0.01] ... can't open camera by index``) kept off stderr inside."""
    global _quiet_depth, _loud_level
    logging = cv2.utils.logging
    with _quiet_lock:
        if _quiet_depth == 0:
            _loud_level = logging.getLogLevel()
            logging.setLogLevel(logging.LOG_LEVEL_ERROR)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                logging.setLogLevel(_loud_level)


class NewestFrameReader(threading.Thread):
    """Reads a capture that does not wait for the fusion (a camera, a real-time stream) on a thread of its
    own, as fast as it sends, keeping only its newest frame: :meth:`take` gives it (waiting for the next
    where it was taken), so that a fusion slower than the source fuses its present, not a backlog queued
    in OpenCV's or FFmpeg's buffers; a frame replaced before it was taken is counted (``skipped``, of
    ``received``: from :meth:`count_from_here` on). It stops where a read fails (the stream ended or
    stalled, the device went away: :meth:`take` then gives None), or on :meth:`stop`; an error a read
    raises is raised by :meth:`take`, after the frames read before it.

    ``wanted`` is set while :meth:`take` waits (and on :meth:`stop`): a test's fake camera, which answers a
    read at once where a camera takes a frame's time, sends its next frame then, as a camera whose pace
    the fusion keeps up with.
    """

    def __init__(self, cap: cv2.VideoCapture, first: np.ndarray, name: str) -> None:
        super().__init__(name=f"defusion reader of {name}", daemon=True)  # never holds the command's exit
        self.wanted = threading.Event()
        self.stopping = threading.Event()
        self.received, self.skipped = 1, 0
        self._cap = cap
        self._arrived = threading.Condition()
        self._frame: np.ndarray | None = first
        self._ended = self._done = self._release_when_done = False
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                with _quiet_opencv():
                    ok, frame = self._cap.read()
                if not ok or frame is None:
                    break
                with self._arrived:
                    if self._frame is not None:  # not taken: a newer one takes its place
                        self.skipped += 1
                    self.received += 1
                    self._frame = frame
                    self._arrived.notify_all()
        except BaseException as exc:  # noqa: BLE001 - raised where the frames are taken (cv2.error; a fake's)
            self._error = exc
        finally:
            with self._arrived:
                self._ended = self._done = True
                self._arrived.notify_all()
                if self._release_when_done:  # :meth:`stop` did not wait for a stalled read
                    self._cap.release()

    def count_from_here(self) -> None:
        """Count the frames received and skipped from now (the fusion's start), the one waiting the first:
        those replaced while the model loaded were not skipped to keep up with the fusion."""
        with self._arrived:
            self.received, self.skipped = int(self._frame is not None), 0

    def take(self) -> np.ndarray | None:
        """The newest frame not yet taken, waiting for the next where there is none; None once the source
        ended. Ctrl-C (or SIGTERM) stops the wait within :data:`WAKE_S`."""
        with self._arrived:
            if self._frame is None and not self._ended:
                self.wanted.set()
                try:
                    while self._frame is None and not self._ended:
                        self._arrived.wait(WAKE_S)
                finally:
                    self.wanted.clear()
            frame, self._frame = self._frame, None
            if frame is None and self._error is not None:
                error, self._error = self._error, None
                raise error
            return frame

    def stop(self) -> bool:
        """Stop reading: whether the caller is to release the capture (True where the thread had ended).
        Else the thread releases it itself as it ends (False), which a read does within a frame's time, a
        stalled stream's within :data:`READ_TIMEOUT_S`: waited for here, as before a read of its own, and
        a second Ctrl-C during that wait still leaves the capture to be released."""
        self.stopping.set()
        self.wanted.set()  # a fake camera waiting for a demand goes on, and finds the reader stopping
        with self._arrived:
            if self._done:
                return True
            self._release_when_done = True  # before the wait: an interrupt in it keeps the release
        self.join(READ_TIMEOUT_S)
        return False


class LiveSource(FrameSource):
    """A live source's frames as they come (``count`` None), its first read on opening to check it;
    ``fps`` what the stream reports (None where it reports none, or an implausible one); ``real_time``
    True where it is known not to wait for the fusion (:func:`sends_in_real_time`), None where it may not
    (a stream that reports no frame count: a live MJPEG stream over http), False where it waits (an
    http(s) URL of a video file, which reports its frame count). One that does not wait (True) is read
    from its opening on by a :class:`NewestFrameReader`: its frames are the newest each time, those sent
    meanwhile skipped (``skipped`` of ``received``); the others are read in order, every frame."""

    live = True

    def __init__(self, spec: LiveSpec, max_pixels: int) -> None:
        self.path = spec.name  # type: ignore[assignment]  # a name, not a file: said, never opened as one
        self.spec = spec
        self.count = None
        self._cap = open_capture(spec)
        try:
            first = self._first_frame(max_pixels)
        except BaseException:  # a refusal, or Ctrl-C while a stream is slow to send its first frame
            self._cap.release()
            raise
        self.size = (first.shape[1], first.shape[0])
        fps = float(self._cap.get(cv2.CAP_PROP_FPS))
        self.fps = fps if 0 < fps < PLAUSIBLE_FPS else None
        self.real_time = True if sends_in_real_time(spec) else (None if self._cap.get(cv2.CAP_PROP_FRAME_COUNT) <= 0
                                                                else False)
        self._first: np.ndarray | None = first
        self._reader = NewestFrameReader(self._cap, first, spec.name) if self.real_time else None
        self._closed = False
        if self._reader is not None:  # drained from now on (while the model loads, too): its buffers hold no backlog
            self._reader.start()

    @property
    def skipped(self) -> int:  # type: ignore[override]
        """Frames skipped since the fusion began, a newer one taken in their place (0 for a source read in order)."""
        return self._reader.skipped if self._reader is not None else 0

    @property
    def received(self) -> int:  # type: ignore[override]
        """Frames received since the fusion began, those skipped among them (0 for a source read in order)."""
        return self._reader.received if self._reader is not None else 0

    def _first_frame(self, max_pixels: int) -> np.ndarray:
        """The first frame, read to check the source: a VideoError where it cannot be opened, sends no
        frame, or frames over ``max_pixels``."""
        name = self.spec.name
        if not self._cap.isOpened():
            raise VideoError(cannot_open(self.spec))
        with _quiet_opencv():
            ok, first = self._cap.read()
        if not ok or first is None:
            raise VideoError(f"{name}: opened, but it sent no frame (within {READ_TIMEOUT_S} s for a stream); "
                             f"{_no_frame_hint(self.spec)}")
        h, w = first.shape[:2]
        if w * h > max_pixels:
            raise VideoError(f"{name}: frames of {w}x{h} are over the limit of {max_pixels / 1e6:.1f} MP "
                             "(raise it with --max-pixels)")
        return first

    def frames(self) -> Iterator[np.ndarray]:
        """Each frame as it comes (a real-time source's newest each time: :class:`NewestFrameReader`), until
        a read fails (the stream ended, stalled, or the device went away)."""
        if self._reader is not None:
            yield from self._newest_frames(self._reader)
            return
        frame, self._first = self._first, None
        while frame is not None:
            yield bgr_to_rgb(frame)
            with _quiet_opencv():
                ok, frame = self._cap.read()
            if not ok:
                frame = None

    def _newest_frames(self, reader: NewestFrameReader) -> Iterator[np.ndarray]:
        """The newest frame each time one is asked for, the skipped ones counted from the first."""
        self._first = None
        reader.count_from_here()
        while (frame := reader.take()) is not None:
            yield bgr_to_rgb(frame)

    def close(self) -> None:
        """Stop the reader (if any) and release the capture; again, nothing."""
        if self._closed:
            return
        self._closed = True
        if self._reader is None or self._reader.stop():
            self._cap.release()


def cannot_open(spec: LiveSpec) -> str:
    """Why ``spec`` could not be opened, in one line naming it as written, with what to check: the URL
    and its server; the device's presence and permission (the ``video`` group on Linux).

    Example:
        >>> print(cannot_open(live_spec("rtsp://10.0.0.7/live")))  # doctest: +NORMALIZE_WHITESPACE
        rtsp://10.0.0.7/live: cannot open the stream: is the URL right, and its server reachable from here
        (waited up to 10 s)? A camera's RTSP URL often needs its path and credentials:
        rtsp://user:password@host:554/path
    """
    if spec.kind == "url":
        return (f"{spec.name}: cannot open the stream: is the URL right, and its server reachable from here (waited up "
                f"to {OPEN_TIMEOUT_S} s)? A camera's RTSP URL often needs its path and credentials: "
                "rtsp://user:password@host:554/path")
    said = f"{spec.name}: cannot open the camera"
    device = spec.target if spec.kind == "device" else f"/dev/video{spec.target}"
    if sys.platform.startswith("linux") and not os.path.exists(device):
        return f"{said}: no {device}; is the camera plugged in? (ls /dev/video* lists the capture devices present)"
    if sys.platform.startswith("linux") and not os.access(device, os.R_OK | os.W_OK):
        return (f"{said}: permission denied on {device}; add yourself to its group, video on most systems "
                "(sudo usermod -aG video $USER, then log in again)")
    return f"{said}: is it plugged in, and not in use by another program?"


def device_path(spec: LiveSpec | None) -> str | None:
    """The capture device ``spec`` opens, followed through its links (``/dev/v4l/by-id/...``), where known:
    a device's path, and ``cam:N``'s ``/dev/videoN`` on Linux (V4L2 numbers its devices as OpenCV does);
    None for a URL, a file, or ``cam:N`` elsewhere.

    Example:
        >>> device_path(live_spec("rtsp://host/live")), device_path(None)
        (None, None)
    """
    if spec is None or spec.kind == "url":
        return None
    if spec.kind == "index":
        return os.path.realpath(f"/dev/video{spec.target}") if sys.platform.startswith("linux") else None
    return os.path.realpath(str(spec.target))


def check_distinct_devices(a: LiveSpec | None, b: LiveSpec | None) -> None:
    """Refuse one camera given as both inputs, however written (``cam:0`` and ``/dev/video0`` on Linux, a
    ``/dev/v4l/by-id/`` link and the device it names, ``cam:0`` twice): a VideoError in one line. A device
    streams to one reader at a time, so its second opening would fail as if another program held it, and
    a camera fused with itself gains nothing. A URL given twice is not refused: a server may serve it twice.

    Example:
        >>> check_distinct_devices(live_spec("cam:1"), live_spec("rtsp://host/live"))  # a camera and a stream
        >>> check_distinct_devices(live_spec("cam:1"), live_spec("cam:1"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.video.errors.VideoError: cam:1 is given twice: a camera streams to one reader at a time...
    """
    if a is None or b is None or a.kind == "url" or b.kind == "url":
        return
    same = a.target == b.target if a.kind == b.kind == "index" else _same_device(device_path(a), device_path(b))
    if not same:
        return
    hint = "give two cameras" + (" (ls /dev/video* lists the capture devices present)"
                                 if sys.platform.startswith("linux") else "")
    if a.name == b.name:
        raise VideoError(f"{a.name} is given twice: a camera streams to one reader at a time, and fused with "
                         f"itself gains nothing; {hint}")
    index = next((spec for spec in (a, b) if spec.kind == "index"), None)
    how = f" (cam:{index.target} opens /dev/video{index.target})" if index is not None else ""
    raise VideoError(f"{a.name} and {b.name} are the same camera{how}: a camera streams to one reader at a time, "
                     f"and fused with itself gains nothing; {hint}")


def _same_device(a: str | None, b: str | None) -> bool:
    """Whether two device paths (followed through links) are one device: one path, or one device number."""
    if a is None or b is None:
        return False
    if a == b:
        return True
    try:
        first, second = os.stat(a), os.stat(b)
    except OSError:  # one not there (unplugged): told by its path alone
        return False
    return stat.S_ISCHR(first.st_mode) and stat.S_ISCHR(second.st_mode) and first.st_rdev == second.st_rdev


def _no_frame_hint(spec: LiveSpec) -> str:
    """What to check where ``spec`` opened but sent no frame."""
    if spec.kind == "url":
        return "is the stream running? (a server that accepts the connection may still send nothing)"
    return ("is it in use by another program? (a camera's second device, /dev/video1 beside /dev/video0, often "
            "carries its metadata, not pictures)")


__all__ = ["CAMERA_INDEX", "OPEN_TIMEOUT_S", "READ_TIMEOUT_S", "REAL_TIME_SCHEMES", "URL", "WAKE_S", "LiveName",
           "LiveSource", "LiveSpec", "NewestFrameReader", "cannot_open", "check_distinct_devices", "device_path",
           "file_url_path", "hide_secrets", "live_spec", "open_capture", "sends_in_real_time"]
