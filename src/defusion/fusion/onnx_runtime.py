"""``OnnxDeNet``: an exported DeNet in onnxruntime that a :class:`Fuser` can drive like the real one
(``--runtime onnxruntime``, :func:`defusion.fusion.runtime.load_network`), and the cache of the exports
that runtime makes on first use (:func:`cached_onnx_export`).

Here in fusion, beside the runtimes that load it.

Example:
    >>> fuser = load_onnx_fuser("denet.onnx", tile=0)  # doctest: +SKIP
    >>> fused = fuser.fuse(ir, vis)  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch

from defusion.errors import DefusionError
from defusion.fusion.errors import FusionInputError
from defusion.model.denet import SIZE_MULTIPLE, DeNetConfig, DeNetOutput, default_detail_gain
from defusion.io.notes import tell

if TYPE_CHECKING:
    import onnxruntime as ort

    from defusion.fusion.fuser import Fuser

#: ONNX Runtime's memory pattern planner (``SessionOptions.enable_mem_pattern``), off on a CPU: it holds
#: a buffer per tensor of a tile's planned shape alive across a pass, which cost ``defusion fuse`` 0.35-0.49
#: GB of peak memory at 6-24 MP and bought no speed (docs/features.md, "Slimmer buffers").
MEMORY_PATTERN = False
#: Sessions of unpickled (and deep-copied) networks kept per process (:func:`_reopened`), the used last:
#: a pool's ``map(job, [fuser] * n, ...)`` unpickles the Fuser once per task, and opening the shipped
#: weights' export took 1.2 s each time (4 tasks on one worker: 3.85 s, against 0.75 s with
#: ``initializer=``; kept, 1.9 s against 1.1 s on a loaded 2-core CPU). A session holds its export's weights
#: (32.5 MB for the shipped ones): four cover a worker given a few Fusers at once.
REOPENED_SESSIONS_KEPT = 4


class OnnxModelError(DefusionError, ValueError):
    """An ONNX file that is missing, unreadable or not an exported DeNet."""


class OnnxDeNet:
    """Runs an ONNX export of DeNet (see :mod:`defusion.fusion.export`) with onnxruntime.

    ``__call__(x1, x2, unique_gain, detail_gain)`` takes and returns torch tensors like :class:`DeNet`; ``to``/``eval``
    are what :class:`Fuser` calls. Inference runs on onnxruntime's providers (CUDA when
    ``device`` is CUDA and onnxruntime has the CUDA provider, else CPU); outputs are moved to
    ``device``. An fp16 export (``defusion export --half``) takes and returns float32 like the
    fp32 one; ``half()`` accepts only such a file.
    """

    runtime = "onnxruntime"

    def __init__(self, path: str | Path, device: str | torch.device = "cpu", threads: int | None = None,
                 sha256: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise OnnxModelError(f"ONNX model not found: {self.path}")
        self._threads = threads
        # what a pickled copy opens (__reduce__): the file itself, whatever folder it is unpickled in, and the
        # bytes this session runs: a copy refuses a file written over since (40 ms for the shipped export;
        # ``sha256``: already hashed by the caller, :func:`_reopened`, which hashed it a moment ago)
        self._file = self.path.resolve()
        self._sha256 = sha256 if sha256 is not None else _sha256_of(self._file)
        #: The weights file this network was loaded from, where :meth:`Fuser.from_pretrained` says (a
        #: Fuser's ``weights`` and repr name it); None: not known. Pickled with the network.
        self.loaded_from: Path | None = None
        self.device = torch.device("cpu")
        try:
            self._session = self._make_session(self._providers(torch.device(device)))
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            if "INVALID_PROTOBUF" in str(exc):
                raise OnnxModelError(f"{self.path} is not an ONNX model (its contents cannot be parsed as one); "
                                     "make one with defusion export --format onnx -o model.onnx") from None
            raise OnnxModelError(f"cannot load ONNX model {self.path}: {exc}") from None
        names_in = [i.name for i in self._session.get_inputs()]
        names_out = [o.name for o in self._session.get_outputs()]
        if len(names_in) not in (2, 3, 4) or len(names_out) != 4:
            raise OnnxModelError(f"{self.path} is not an exported DeNet (inputs {names_in}, outputs {names_out})")
        # Older exports: two inputs (before unique_gain, 2026-12-04) run only the paper's Pr; three
        # (before detail_gain) run only the detail gain that goes with the unique gain.
        self._inputs = names_in
        wanted = list(DeNetOutput._fields)
        self._outputs = wanted if sorted(names_out) == sorted(wanted) else names_out
        meta = self._session.get_modelmeta().custom_metadata_map
        self.metadata = {k: v for k, v in meta.items() if k != "config"}
        self.size_multiple = _size_multiple(meta)
        try:
            self.cfg = DeNetConfig.from_dict(json.loads(meta["config"])) if "config" in meta else None
        except (ValueError, TypeError, AttributeError) as exc:
            raise OnnxModelError(f"{self.path}: its DeNet config is not valid ({exc})") from None
        self.to(device)

    def _providers(self, device: torch.device) -> list[str]:
        import onnxruntime as ort

        if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        return ["CPUExecutionProvider"]

    def _make_session(self, providers: list[str]) -> ort.InferenceSession:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if self._threads:
            options.intra_op_num_threads = self._threads
        if providers[0] == "CPUExecutionProvider":  # measured on a CPU only; CUDA keeps ONNX Runtime's default
            options.enable_mem_pattern = MEMORY_PATTERN
        return ort.InferenceSession(str(self.path), sess_options=options, providers=providers)

    @property
    def providers(self) -> list[str]:
        return list(self._session.get_providers())

    # -- what Fuser uses --------------------------------------------------------------
    def to(self, device: str | torch.device) -> "OnnxDeNet":
        device = torch.device(device)
        if device.type != self.device.type:
            wanted = self._providers(device)
            if wanted[0] not in self.providers:
                self._session = self._make_session(wanted)
        self.device = device
        return self

    def eval(self) -> "OnnxDeNet":
        return self

    @property
    def precision(self) -> str:
        """``fp16`` for an export made with ``--half`` (fp16 compute, float32 inputs and outputs), else ``fp32``."""
        return self.metadata.get("precision", "fp32")

    def half(self) -> "OnnxDeNet":
        if self.precision != "fp16":
            from defusion.fusion.device import asked

            raise OnnxModelError(f"{self.path} computes in fp32; for fp16 ({asked(half=True)}) export it with "
                                 "`defusion export --format onnx --half`")
        return self

    def float(self) -> "OnnxDeNet":
        return self

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor, unique_gain: float | torch.Tensor = 1.0,
                 detail_gain: float | torch.Tensor | None = None) -> DeNetOutput:
        if x1.shape != x2.shape:
            raise FusionInputError(f"sources differ in shape: {tuple(x1.shape)} vs {tuple(x2.shape)}")
        if x1.shape[-1] % self.size_multiple or x1.shape[-2] % self.size_multiple:
            raise FusionInputError(f"height and width must be multiples of {self.size_multiple} for {self.path}, an "
                             f"export made before the graph padded itself, got {tuple(x1.shape[-2:])}: pad first "
                             "(the Fuser does), or export it again with `defusion export`")
        gain = float(unique_gain)
        detail = default_detail_gain(gain) if detail_gain is None else float(detail_gain)
        if len(self._inputs) == 2 and (gain != 1.0 or detail != 1.0):
            raise OnnxModelError(f"{self.path} was exported before the unique gain existed and runs only gain 1; "
                                 "export it again with `defusion export`, or fuse with --unique-gain 1")
        if len(self._inputs) == 3 and detail != default_detail_gain(gain):
            raise OnnxModelError(f"{self.path} was exported before the detail gain existed and runs only "
                                 f"{default_detail_gain(gain):g} at unique gain {gain:g}; export it again with "
                                 "`defusion export`, or leave --detail-gain out")
        feeds = {name: np.ascontiguousarray(x.detach().float().cpu().numpy())
                 for name, x in zip(self._inputs, (x1, x2))}
        for name, value in zip(self._inputs[2:], (gain, detail)):
            feeds[name] = np.asarray(value, dtype=np.float32)
        outs = self._session.run(self._outputs, feeds)
        return DeNetOutput(*(torch.from_numpy(o).to(self.device) for o in outs))

    forward = __call__

    def __reduce__(self) -> tuple[Callable[..., OnnxDeNet], tuple[Any, ...], dict[str, Any]]:
        """Pickled (and deep-copied) as what rebuilds it: its file's absolute path and SHA-256, device,
        threads and metadata, not its ONNX Runtime session, which cannot be pickled. The copy opens a
        session on the same file (a second or so for the shipped weights' export, once per process:
        :func:`_reopened` keeps it for the next copy) and fuses bit-identically; :func:`_reopened` refuses
        a file that is gone or whose bytes are no longer those this network loaded."""
        return (_reopened, (str(self._file), str(self.device), self._threads, dict(self.metadata), self._sha256),
                {"loaded_from": self.loaded_from})

    def _sharing(self) -> OnnxDeNet:
        """A network of its own (its device, its ``loaded_from``) that runs this one's session: ONNX
        Runtime runs one session from several threads at once."""
        twin = object.__new__(OnnxDeNet)
        twin.__dict__.update(self.__dict__)
        twin.metadata = dict(self.metadata)
        twin.loaded_from = None
        return twin

    def __repr__(self) -> str:
        return f"OnnxDeNet({str(self.path)!r}, providers={self.providers})"


#: Unpickled networks' sessions (:func:`_reopened`), by (absolute path, the file's SHA-256, device, threads):
#: a network each, never handed out (each copy gets its own :meth:`OnnxDeNet._sharing` of it), the used last
#: at the end; at most :data:`REOPENED_SESSIONS_KEPT`. Keyed by the bytes, not the file's mtime or inode: the
#: export cache touches its file on every use (:func:`cached_onnx_export`), and a file rewritten in place may
#: keep its size and mtime.
_reopened_sessions: OrderedDict[tuple[str, str, str, int | None], OnnxDeNet] = OrderedDict()
#: Held only while :data:`_reopened_sessions` or :data:`_opening` is read or changed, never while a session
#: opens (a second or so): unpickling another file waits for no one.
_reopened_lock = threading.Lock()
#: A lock per key whose session is being opened: two threads unpickling one file open it once.
_opening: dict[tuple[str, str, str, int | None], threading.Lock] = {}
#: Sessions a forked child inherited from its parent: never run there (ONNX Runtime's thread pools do not
#: survive a fork), nor destroyed (their threads are not there to join); kept until the child exits.
_inherited: list[OrderedDict[Any, OnnxDeNet]] = []


def _identity(path: Path) -> tuple[int, ...]:
    """Its device, inode, size and mtime in ns: what tells that a file was written over while a session
    was being opened on it (:func:`_reopened`)."""
    info = path.stat()
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _reopened(path: str, device: str, threads: int | None, metadata: dict[str, str], sha256: str) -> OnnxDeNet:
    """The :class:`OnnxDeNet` pickled as :meth:`OnnxDeNet.__reduce__` says: the ONNX file at ``path`` (absolute)
    opened, refused (:class:`OnnxModelError`) where it is gone (a cached export pruned meanwhile) or its
    SHA-256 is no longer ``sha256`` or its metadata ``metadata`` (another export written over it), rather than
    fusing with other weights. The file is hashed each time (40 ms for the shipped export); the session is
    opened once per process for those bytes, path, device and thread count, and kept (the
    :data:`REOPENED_SESSIONS_KEPT` used last): each further copy runs it.

    Example:
        >>> _reopened("/nowhere/denet.onnx", "cpu", None, {}, "0" * 64)
        Traceback (most recent call last):
        ...
        defusion.fusion.onnx_runtime.OnnxModelError: cannot unpickle the ONNX network: its file /nowhere/denet.onnx is gone (a pickled network keeps the file's path, not the file); pickle the Fuser again, or load it with Fuser.from_pretrained
    """
    file = Path(path)
    try:
        identity = _identity(file) if file.is_file() else None
    except OSError:
        identity = None
    digest = _sha256_of(file) if identity is not None else None
    if digest is None:
        raise OnnxModelError(f"cannot unpickle the ONNX network: its file {path} is gone (a pickled network keeps "
                             "the file's path, not the file); pickle the Fuser again, or load it with "
                             "Fuser.from_pretrained")
    changed = OnnxModelError(f"cannot unpickle the ONNX network: its file {path} has changed since it was pickled "
                             "(its SHA-256 differs: another export was written over it); pickle the Fuser again")
    if digest != sha256:  # refused before a session opens
        raise changed
    key = (str(file), digest, device, threads)
    with _reopened_lock:
        kept = _reopened_sessions.get(key)
        if kept is not None:
            _reopened_sessions.move_to_end(key)
        else:
            opening = _opening.setdefault(key, threading.Lock())
    if kept is None:
        kept = _opened(key, opening, identity)
    if kept.metadata != metadata:
        raise changed
    return kept._sharing()


def _opened(key: tuple[str, str, str, int | None], opening: threading.Lock, identity: tuple[int, ...]) -> OnnxDeNet:
    """The session for ``key`` (:func:`_reopened`), opened here under its own lock ``opening`` unless another
    thread opened it meanwhile, and kept. ``identity``: the file's when it was hashed; a file written over
    since is refused, as its session may not run the bytes hashed."""
    path, digest, device, threads = key
    with opening:
        try:
            with _reopened_lock:
                kept = _reopened_sessions.get(key)  # another thread opened it while this one waited
            if kept is not None:
                return kept
            kept = OnnxDeNet(path, device=device, threads=threads, sha256=digest)
            if _identity(Path(path)) != identity:
                raise OnnxModelError(f"cannot unpickle the ONNX network: its file {path} was written over while it "
                                     "was being opened; unpickle it again once nothing writes the file")
            with _reopened_lock:
                _reopened_sessions[key] = kept
                while len(_reopened_sessions) > REOPENED_SESSIONS_KEPT:
                    _reopened_sessions.popitem(last=False)
            return kept
        finally:
            with _reopened_lock:
                if _opening.get(key) is opening:
                    del _opening[key]


def _sha256_of(file: Path) -> str | None:
    """The SHA-256 of ``file`` (:func:`~defusion.model.weights.file_sha256`); None where it cannot be read."""
    from defusion.model.weights import file_sha256

    try:
        return file_sha256(file)
    except OSError:
        return None


def _forget_inherited_sessions() -> None:
    """In a forked child: start with no kept sessions and free locks. The parent's sessions cannot run
    here (a fork copies no ONNX Runtime thread pool; one that ran in the parent hangs), and a lock another
    parent thread held at the fork would never be released. This keeps a forked child from running or
    waiting on what it inherited; it does not make fork safe once the parent has run a session (the
    child's own session may hang in ONNX Runtime): use a spawn or forkserver pool (:class:`Fuser`)."""
    global _reopened_sessions, _reopened_lock, _opening
    _inherited.append(_reopened_sessions)
    _reopened_sessions, _reopened_lock, _opening = OrderedDict(), threading.Lock(), {}


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_inherited_sessions)


def _size_multiple(meta: dict[str, str]) -> int:
    """The sides an export takes are multiples of this, from its ``size_multiple`` metadata: 1 (any)
    for exports that pad inside the graph, SIZE_MULTIPLE for older ones and files that do not say.

    Example:
        >>> _size_multiple({"size_multiple": "1"}), _size_multiple({}), _size_multiple({"size_multiple": "x"})
        (1, 8, 8)
    """
    try:
        value = int(meta.get("size_multiple", SIZE_MULTIPLE))
    except ValueError:
        return SIZE_MULTIPLE
    return value if value >= 1 else SIZE_MULTIPLE


def load_onnx_fuser(path: str | Path, device: str = "cpu", threads: int | None = None, task: str | None = None,
                    **fuse_options: Any) -> Fuser:
    """A :class:`Fuser` whose network is the ONNX export at ``path`` (whatever its name):
    :meth:`Fuser.from_pretrained` of that file with ``onnx=True``, on ``device`` ``cpu`` by default.

    ``task`` and ``fuse_options`` (:class:`~defusion.fusion.options.FuseOptions` fields: ``tile``,
    ``scale``, ``color``, ...) as in :meth:`Fuser.from_pretrained`; ``device`` is ``cpu``,
    ``cuda`` or ``auto``; ``threads`` bounds onnxruntime's intra-op threads (default: one per
    physical core) and, as :meth:`Fuser.from_pretrained` does, PyTorch's (the up-sampling at
    ``scale`` 2; process-wide).
    """
    from defusion.fusion.fuser import Fuser

    return Fuser.from_pretrained(path, device=device, threads=threads, task=task, onnx=True, **fuse_options)


#: Environment variable naming the folder for cached exports (default ~/.cache/defusion).
ENV_CACHE = "DEFUSION_CACHE"
#: Cached exports kept: the most recently used (each use touches its file's mtime); older ones are deleted.
#: An export of the shipped weights is 32.5 MB: eight of them take about 260 MB.
CACHED_EXPORTS_KEPT = 8
#: An export used this recently is never deleted, however many others are newer: another process may have
#: just checked it and be about to open it.
PRUNE_GRACE_SECONDS = 600.0
#: The graph revision in a cached export's name. "gdd2": unique_gain and detail_gain inputs
#: (DeNet.forward), split attention summed per radix group (1.2x faster in ONNX Runtime than "gdd"'s
#: ReduceSum, same inputs and outputs). Older exports ("-gdd", "-gd": a detail term tied to the gain,
#: "-g": no detail term, none: no gain) are not reused; they are pruned like any other export.
EXPORT_TAG = "gdd2"
#: The names this cache gives its exports (``denet-<16 hex digits>-gdd2.onnx``, and earlier versions'
#: ``-gdd``, ``-gd``, ``-g`` and bare ones): the only files in the folder it ever deletes.
_EXPORT_NAME = re.compile(r"denet-[0-9a-f]{16}(-g|-gd|-gdd|-gdd2)?\.onnx")


def cache_dir() -> Path:
    """Where automatic ONNX exports are kept: ``$DEFUSION_CACHE``, else ``$XDG_CACHE_HOME/defusion``."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "defusion"


def cached_onnx_export(weights: str | Path | None = None, on_export: Callable[[Path], None] | None = None) -> Path:
    """The ONNX export of a weights file (default: the shipped one), made on first use.

    Exports are keyed by the weights file's SHA-256, so new weights get a new export and the
    same weights are exported once per machine. ``on_export(path)`` is called before an export.
    The folder keeps the :data:`CACHED_EXPORTS_KEPT` exports used last (:func:`prune_exports`).

    The file's name is predictable, so it is trusted only where no one else could have put it
    there: a cache folder that another user owns or may write to is not used (one warning; the
    export goes to a private temporary folder for this process). A cached file whose
    ``weights_sha256_16`` metadata is not the weights' digest, or that does not parse (a field running
    past its end: a truncated file), is exported again in its place, with one warning saying why. That
    metadata is read from the file's top-level fields (:func:`export_metadata`): a cached export neither
    imports onnx nor parses its graph before ONNX Runtime does.
    """
    from defusion.model.weights import load_weights, shipped_weights_path, weights_digest
    # loaded only to export: the exporter needs torch.onnx, which a cached export does not
    from defusion.fusion.export import export_onnx

    source = Path(weights) if weights is not None else shipped_weights_path()
    if not source.is_file():
        load_weights(source)  # says what is wrong: not found, a folder, a training run's
    digest = weights_digest(source)
    path = _export_folder() / f"denet-{digest}-{EXPORT_TAG}.onnx"
    if path.is_file():
        problem = _untrusted(path) or _not_an_export_of(path, digest)
        if problem is None:
            with suppress(OSError):  # a read-only cache still serves; it only forgets what was used last
                os.utime(path)
            prune_exports(path.parent, keep=path)
            return path
        _warn(f"the cached ONNX export {path} {problem}; exporting it again")
    model = load_weights(source)  # only to export (a cached export's digest vouches for its file); validates it
    if on_export:
        on_export(path)
    export_onnx(model, path, metadata={"weights_sha256_16": digest})  # atomic: no half-written file
    if hasattr(os, "getuid"):  # as the folder: writable by its owner only, or the next use would refuse it
        path.chmod(path.stat().st_mode & 0o755)
    prune_exports(path.parent, keep=path)
    return path


def prune_exports(folder: Path, keep: Path | None = None, kept: int = CACHED_EXPORTS_KEPT) -> list[Path]:
    """Delete the cached exports in ``folder`` beyond the ``kept`` used last (newest mtime first; ``keep``,
    the one about to be used, always stays), and return those deleted. Only files named as this cache
    names its exports are counted or deleted, never anything else there; one used in the last
    ``PRUNE_GRACE_SECONDS`` stays (another process may be about to open it); a file that cannot be deleted
    (another process took it first, a read-only folder) is left, never failing the fusion that pruned.

    Example:
        >>> folder = Path(tempfile.mkdtemp())
        >>> for age, digest in enumerate(("0" * 16, "1" * 16, "2" * 16)):  # the last one used last
        ...     (folder / f"denet-{digest}-gdd2.onnx").touch(); os.utime(folder / f"denet-{digest}-gdd2.onnx", (age, age))
        >>> (folder / "notes.txt").touch()
        >>> [p.name for p in prune_exports(folder, kept=2)]
        ['denet-0000000000000000-gdd2.onnx']
        >>> sorted(p.name for p in folder.iterdir())
        ['denet-1111111111111111-gdd2.onnx', 'denet-2222222222222222-gdd2.onnx', 'notes.txt']
        >>> shutil.rmtree(folder)
    """
    found = []
    with suppress(OSError):
        with os.scandir(folder) as entries:
            for entry in entries:
                if not _EXPORT_NAME.fullmatch(entry.name) or keep is not None and entry.name == keep.name:
                    continue
                with suppress(OSError):  # gone meanwhile (another process pruned it)
                    if entry.is_file(follow_symlinks=False):
                        found.append((entry.stat(follow_symlinks=False).st_mtime, Path(entry.path)))
    found.sort(key=lambda each: each[0], reverse=True)
    deleted = []
    recent = time.time() - PRUNE_GRACE_SECONDS
    for used, old in found[max(kept - (keep is not None), 0):]:
        if used > recent:
            continue
        with suppress(OSError):
            old.unlink()
            deleted.append(old)
    return deleted


#: Where exports go for this process when the cache folder is not safe to use (made on first need).
_private_folder: Path | None = None
#: The cache folders already warned about: one warning per folder and process.
_warned: set[Path] = set()


def _export_folder() -> Path:
    """The folder for cached exports: ``cache_dir()/onnx`` (made private, 0700, where missing), or a
    private temporary folder for this process where it, or ``cache_dir()``, belongs to another user
    or may be written by others."""
    global _private_folder
    base = cache_dir()
    folder = base / "onnx"
    if not hasattr(os, "getuid"):  # no POSIX owners to check (Windows)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    for each in (base, folder):
        if not each.exists():
            each.mkdir(mode=0o700, parents=True, exist_ok=True)  # parents as the umask says
        _made_private(each)
        problem = _untrusted(each)
        if problem is None:
            continue
        if each not in _warned:
            _warned.add(each)
            _warn(f"not using the ONNX cache folder {each}: it {problem}, so a file planted there would be run; "
                  f"exporting to a private temporary folder instead (chmod go-w {each}, or set {ENV_CACHE} to "
                  "a folder of your own)")
        if _private_folder is None:
            _private_folder = Path(tempfile.mkdtemp(prefix="defusion-onnx-"))  # 0700, this user's
            atexit.register(shutil.rmtree, _private_folder, ignore_errors=True)
        return _private_folder
    return folder


def _made_private(folder: Path) -> None:
    """Take group write off a cache folder of this user's that only its group may also write: what a
    umask of 002 (Debian, Ubuntu, Fedora) gave the folders earlier versions made, which would
    otherwise be refused on every run. One others may write (0o002) is left as it is, and refused."""
    info = folder.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o020 and not info.st_mode & 0o002:
        folder.chmod(info.st_mode & ~0o020 & 0o7777)


def _untrusted(path: Path) -> str | None:
    """Why ``path`` (a cache folder or file) could hold someone else's file: it belongs to another
    user, or its group or others may write to it. None where it is this user's alone, and where
    there are no POSIX owners (no ``os.getuid``)."""
    if not hasattr(os, "getuid"):
        return None
    info = path.stat()
    if info.st_uid != os.getuid():
        return f"belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"may be written by {'others' if info.st_mode & 0o002 else 'its group'} (mode {info.st_mode & 0o777:o})"
    return None


def _not_an_export_of(path: Path, digest: str) -> str | None:
    """Why the ONNX file at ``path`` is not the export of the weights with ``digest`` (its
    ``weights_sha256_16`` metadata, written at export); None where it is.

    Read by :func:`export_metadata`, not ``onnx.load``: importing onnx and parsing the 32 MB graph cost
    every cached run 0.8-1.1 s of CPU (2.9 s of a 58 s fusion under load), for one key ONNX Runtime
    parses the whole file for anyway when it opens it.
    """
    try:
        found = export_metadata(path).get("weights_sha256_16")
    except (OSError, ValueError) as exc:  # not the export either way
        return f"cannot be parsed as ONNX ({exc})"
    if found != digest:
        return f"is not an export of these weights (its weights_sha256_16 is {found!r}, theirs {digest!r})"
    return None


#: Protobuf's wire types (protobuf.dev, "Encoding"): what follows a field's tag. Groups (3, 4) are not
#: in ONNX's schema.
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
#: Bytes a value of a fixed-size wire type takes.
_FIXED_BYTES = {_I64: 8, _I32: 4}
#: onnx.proto: ``ModelProto.metadata_props = 14`` (repeated StringStringEntryProto) and that entry's
#: ``key = 1`` and ``value = 2``.
_METADATA_FIELD, _KEY_FIELD, _VALUE_FIELD = 14, 1, 2
#: The most bytes a varint takes: 64 bits, 7 to a byte.
_VARINT_BYTES = 10


def export_metadata(path: str | Path) -> dict[str, str]:
    """An ONNX file's ``metadata_props`` (its custom metadata, as ONNX Runtime's ``custom_metadata_map``
    has them), read from the file's top-level protobuf fields without onnx: the graph and every other
    field are skipped by their lengths, not read. :class:`OnnxModelError` (a ``ValueError``) where the
    file is not a well-formed protobuf message at that level (a truncated file: a field runs past its
    end), ``OSError`` where it cannot be read.

    Example:
        >>> import tempfile
        >>> entry = bytes([0x0A, 1]) + b"k" + bytes([0x12, 2]) + b"v1"  # key "k", value "v1"
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "m.onnx").write_bytes(bytes([0x08, 8, 0x3A, 3]) + b"abc" + bytes([0x72, len(entry)]) + entry)
        >>> export_metadata(folder / "m.onnx")
        {'k': 'v1'}
        >>> _ = (folder / "m.onnx").write_bytes(bytes([0x08, 8, 0x3A, 9]) + b"abc")
        >>> export_metadata(folder / "m.onnx")
        Traceback (most recent call last):
        ...
        defusion.fusion.onnx_runtime.OnnxModelError: field 7 runs past the end of the file (9 bytes from byte 4, 3 left)
        >>> shutil.rmtree(folder)
    """
    found: dict[str, str] = {}
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        while file.tell() < size:
            number, kind = _tag(file)
            if kind == _LEN:
                length = _varint(file)
                start = file.tell()
                if length > size - start:
                    raise OnnxModelError(f"field {number} runs past the end of the file ({length} bytes from byte "
                                     f"{start}, {size - start} left)")
                if number == _METADATA_FIELD:
                    key, value = _entry(file.read(length))
                    found[key] = value  # the last of a repeated key, as protobuf's map reading keeps
                else:
                    file.seek(length, os.SEEK_CUR)
            elif kind == _VARINT:
                _varint(file)
            elif kind in _FIXED_BYTES:
                if len(file.read(_FIXED_BYTES[kind])) != _FIXED_BYTES[kind]:
                    raise OnnxModelError(f"field {number} runs past the end of the file")
            else:
                raise OnnxModelError(f"field {number} has wire type {kind}, which ONNX does not use")
    return found


def _tag(file: Any) -> tuple[int, int]:
    """(field number, wire type) of the field whose tag starts at ``file``'s position."""
    tag = _varint(file)
    if tag >> 3 == 0:
        raise OnnxModelError(f"a field numbered 0 at byte {file.tell()}")
    return tag >> 3, tag & 7


def _varint(file: Any) -> int:
    """The protobuf varint at ``file``'s position (a file or an ``io.BytesIO``)."""
    value = 0
    for shift in range(0, 7 * _VARINT_BYTES, 7):
        byte = file.read(1)
        if not byte:
            raise OnnxModelError("the file ends inside a number")
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
    raise OnnxModelError(f"a number longer than {_VARINT_BYTES} bytes at byte {file.tell()}")


def _entry(data: bytes) -> tuple[str, str]:
    """The key and value of a serialized ``StringStringEntryProto`` (missing ones: empty, as protobuf reads them)."""
    import io

    fields = {_KEY_FIELD: "", _VALUE_FIELD: ""}
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        number, kind = _tag(stream)
        if kind != _LEN:
            raise OnnxModelError(f"a metadata entry's field {number} has wire type {kind}, not a string's")
        length = _varint(stream)
        text = stream.read(length)
        if len(text) != length:
            raise OnnxModelError("a metadata entry runs past its end")
        fields[number] = text.decode("utf-8", errors="replace")
    return fields[_KEY_FIELD], fields[_VALUE_FIELD]


def _warn(message: str) -> None:
    tell("warning", message)


__all__ = ["OnnxDeNet", "OnnxModelError", "CACHED_EXPORTS_KEPT", "REOPENED_SESSIONS_KEPT", "cache_dir", "cached_onnx_export", "load_onnx_fuser",
           "prune_exports"]
