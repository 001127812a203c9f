"""HEIF (iPhones' HEIC, some cameras' HIF): read through the optional pillow-heif.

Phones shoot brackets and focus series as HEIC. Pillow opens them once pillow-heif registers its
opener (``pip install 'defusion[heif]'``); without it a HEIC input is one clear error that says
what to install, not "not an image".
"""

from __future__ import annotations

from pathlib import Path

#: Suffixes of HEIF files.
HEIF_SUFFIXES = (".heic", ".heif", ".hif")
#: How to get HEIF support.
HEIF_EXTRA = "pip install 'defusion[heif]'"
#: ``ftyp`` brands of HEIF images (HEVC-coded and the generic image brands).
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
_registered: bool | None = None


def is_heif(path: str | Path) -> bool:
    """Whether ``path`` is a HEIF file: by its ``ftyp`` brand, or else its suffix.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "photo.jpg")
        >>> _ = open(path, "wb").write(b"\\x00\\x00\\x00\\x18ftypheic\\x00\\x00\\x00\\x00")
        >>> is_heif(path), is_heif("missing.heic"), is_heif("missing.png")
        (True, True, False)
    """
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        head = b""
    if len(head) == 12 and head[4:8] == b"ftyp":
        return head[8:12] in _HEIF_BRANDS
    return Path(path).suffix.lower() in HEIF_SUFFIXES


def register_heif() -> bool:
    """Let Pillow open HEIF when pillow-heif is installed (registered once); whether it can."""
    global _registered
    if _registered is None:
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            _registered = False
        else:
            register_heif_opener()
            _registered = True
    return _registered
