"""Contact sheets: images side by side, each labelled, on white. ``defusion fuse --compare``'s picture
of the sources and the fused image (:func:`compare_sheet`), and the tiles of ``defusion bench``'s
comparison grids (:func:`labelled_tile`, :func:`tile_rows`).

Pure drawing: arrays in, a Pillow image out; writing it is the caller's.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from defusion.io.display import viewable

#: Height of each tile in a comparison grid (``defusion bench``).
GRID_TILE_HEIGHT = 240
#: The longest side of each tile of a compare sheet, in pixels: a 24 MP bracket makes a sheet of a few
#: hundred kilobytes, a 64 px test pair one its labels can be read on.
SHEET_TILE_SIDE = 512
#: The widest a compare sheet's row may be before its tiles wrap onto more rows (five tiles of 512 px:
#: a screen's width).
SHEET_MAX_WIDTH = 2600
#: White space between a compare sheet's tiles, in pixels.
SHEET_GAP = 8
#: The size of a compare sheet's labels (points of Pillow's default font, where it is scalable).
SHEET_LABEL_SIZE = 16
#: JPEG quality of a compare sheet written as JPEG.
SHEET_JPEG_QUALITY = 90
#: How many times :data:`SHEET_TILE_SIDE` a large image is first thinned to (every n-th pixel) before it is
#: converted to 8 bits and resized smoothly: a 24 MP 16-bit source is not converted whole for a preview.
PREVIEW_OVERSAMPLE = 2
#: Where a label's text starts in its tile, and the black box's margin around the text.
LABEL_OFFSET = 4
LABEL_PAD = 3
#: What stands for the middle of a label shortened to fit its tile.
ELLIPSIS = "..."
#: The shortest side of a compare sheet's tile: room for a label; a thinner image (a 1-pixel strip) is
#: stretched to it.
MIN_TILE_SIDE = 32
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def labelled_tile(image: np.ndarray, label: str, height: int = GRID_TILE_HEIGHT,
                  font: ImageFont.ImageFont | ImageFont.FreeTypeFont | None = None,
                  width: int | None = None) -> Image.Image:
    """``image`` (uint8, grey or RGB) scaled to ``height`` (and ``width``; None: as its aspect ratio
    makes it) with ``label`` in its top-left corner, white on a black box (``font``: Pillow's default
    where None; characters a bitmap font cannot draw become "?")."""
    im = Image.fromarray(image if image.ndim == 3 else np.dstack([image] * 3))
    width = width or max(1, round(im.width * height / im.height))
    im = im.resize((width, height), Image.BILINEAR)
    label = drawable(label, font)
    draw = ImageDraw.Draw(im)
    box = draw.textbbox((LABEL_OFFSET, LABEL_OFFSET), label, font=font)
    draw.rectangle((box[0] - LABEL_PAD, box[1] - LABEL_PAD, box[2] + LABEL_PAD, box[3] + LABEL_PAD), fill=BLACK)
    draw.text((LABEL_OFFSET, LABEL_OFFSET), label, fill=WHITE, font=font)
    return im


def tile_rows(rows: list[list[Image.Image]], gap: int = 0) -> Image.Image:
    """Rows of tiles side by side, stacked top to bottom on white (the widest row sets the width),
    ``gap`` pixels of white between tiles and between rows."""
    width = max(sum(t.width for t in row) + gap * (len(row) - 1) for row in rows)
    height = sum(max(t.height for t in row) for row in rows) + gap * (len(rows) - 1)
    sheet = Image.new("RGB", (width, height), WHITE)
    top = 0
    for row in rows:
        left = 0
        for tile in row:
            sheet.paste(tile, (left, top))
            left += tile.width + gap
        top += max(t.height for t in row) + gap
    return sheet


def compare_sheet(sources: Sequence[tuple[str, np.ndarray]], fused: np.ndarray, label: str = "fused",
                  side: int = SHEET_TILE_SIDE, max_width: int = SHEET_MAX_WIDTH) -> Image.Image:
    """The sources (each ``(label, pixels)``, a file name say) then ``fused`` (labelled ``label``) side by
    side, each scaled to a longest side of ``side`` pixels and labelled in its top-left corner: one row
    where it fits in ``max_width``, else rows of equal length. Grey, RGB(A), 16-bit and float pixels are
    shown in 8 bits as ``defusion bench`` shows them (:func:`~defusion.io.display.viewable`).

    Example:
        >>> bracket = [(f"ev{i}.tif", np.full((4000, 6000, 3), 20000 * i, np.uint16)) for i in range(3)]
        >>> compare_sheet(bracket, np.zeros((4000, 6000), np.uint8)).size  # 4 tiles of 512 x 341, 3 gaps
        (2072, 341)
        >>> compare_sheet(bracket * 2, np.zeros((4000, 6000), np.uint8)).size  # 7 tiles: rows of 4 and 3
        (2072, 690)
    """
    return contact_sheet([*sources, (label, fused)], side, max_width)


def contact_sheet(images: Sequence[tuple[str, np.ndarray]], side: int = SHEET_TILE_SIDE,
                  max_width: int = SHEET_MAX_WIDTH, gap: int = SHEET_GAP) -> Image.Image:
    """``images`` (each ``(label, pixels)``) labelled, in order, in as few rows as ``max_width`` allows
    (:func:`sheet_rows`), each scaled to a longest side of ``side`` (:func:`compare_sheet`)."""
    font = label_font()
    tiles = []
    for label, pixels in images:
        tile_height, tile_width = tile_size(*pixels.shape[:2], side)
        tiles.append(labelled_tile(preview(pixels, side), fitted(label, tile_width, font), tile_height, font,
                                   tile_width))
    return tile_rows(sheet_rows(tiles, max_width, gap), gap)


def tile_size(height: int, width: int, side: int = SHEET_TILE_SIDE) -> tuple[int, int]:
    """(height, width) of a compare sheet's tile for an image of ``height`` x ``width``: its longest side
    ``side``, its shortest at least :data:`MIN_TILE_SIDE` (room for a label).

    Example:
        >>> tile_size(4000, 6000), tile_size(1, 4000), tile_size(64, 48)
        ((341, 512), (32, 512), (512, 384))
    """
    scale = side / max(height, width)
    return (max(MIN_TILE_SIDE, round(height * scale)), max(MIN_TILE_SIDE, round(width * scale)))


def sheet_rows(tiles: list[Image.Image], max_width: int, gap: int = 0) -> list[list[Image.Image]]:
    """``tiles`` in order, in the fewest rows whose widths fit in ``max_width`` (the widest tile sets how
    many go in a row; one a row at least), as even as they can be (7 tiles that fit 4 a row: 4 and 3).

    Example:
        >>> tile = Image.new("RGB", (500, 300))
        >>> [len(row) for row in sheet_rows([tile] * 7, 2100)], [len(row) for row in sheet_rows([tile] * 3, 2100)]
        ([4, 3], [3])
    """
    widest = max(t.width for t in tiles)
    columns = max(1, (max_width + gap) // (widest + gap))
    rows = math.ceil(len(tiles) / columns)
    columns = math.ceil(len(tiles) / rows)
    return [tiles[i:i + columns] for i in range(0, len(tiles), columns)]


def preview(image: np.ndarray, side: int = SHEET_TILE_SIDE) -> np.ndarray:
    """``image`` as uint8 grey or RGB to be shown at a longest side of ``side``: thinned first where it is
    much larger (:data:`PREVIEW_OVERSAMPLE`), an alpha channel dropped, 16-bit and float pixels in 8 bits
    as ``defusion bench`` shows them (:func:`~defusion.io.display.viewable`).

    Example:
        >>> preview(np.full((3000, 2000, 4), 65535, np.uint16)).shape, preview(np.zeros((9, 9, 1))).dtype
        ((1500, 1000, 3), dtype('uint8'))
    """
    step = max(1, max(image.shape[:2]) // (PREVIEW_OVERSAMPLE * side))
    thinned = image[::step, ::step]
    if thinned.ndim == 3:  # grey (+ alpha) as grey, colour (+ alpha) as RGB
        thinned = thinned[..., 0] if thinned.shape[2] < 3 else thinned[..., :3]
    if thinned.dtype.kind == "f":  # NaN and infinities (a damaged float frame) shown as black
        thinned = np.nan_to_num(thinned, nan=0.0, posinf=0.0, neginf=0.0)
    return viewable(np.ascontiguousarray(thinned))


def label_font(size: int = SHEET_LABEL_SIZE) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's default font at ``size`` where it can scale it (FreeType, Pillow 10.1 on), else as it is."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow before 10.1, or without FreeType
        return ImageFont.load_default()


def drawable(label: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont | None = None) -> str:
    """``label`` as ``font`` can draw it: Pillow's bitmap font (no FreeType) draws Latin-1 only, so other
    characters (a Japanese file name) become "?" rather than an error after the fusion.

    Example:
        >>> drawable("日本.png", ImageFont.load_default_imagefont()), drawable("café.png")
        ('??.png', 'café.png')
    """
    if font is None:  # what ImageDraw draws with then
        font = ImageDraw.ImageDraw.font or ImageFont.load_default()
    if not isinstance(font, ImageFont.ImageFont):  # FreeType (or another scalable font) draws any character
        return label
    return label.encode("latin-1", "replace").decode("latin-1")


def fitted(label: str, width: int, font: ImageFont.ImageFont | ImageFont.FreeTypeFont | None = None) -> str:
    """``label`` with its middle replaced by :data:`ELLIPSIS` where it is wider than a tile ``width``
    pixels wide (its box and margins included), so that a long file name does not run off its tile: its
    end kept over its start, where paths and shot numbers differ (``.../camera_left/IMG_0001.JPG``). A label
    of several lines (a fused tile's options, wrapped) is fitted line by line.

    Example:
        >>> short = fitted("/mnt/nas/photos/2024/camera_right/IMG_0001.JPG", 200)
        >>> fitted("a.png", 200), short.startswith("/mnt"), ELLIPSIS in short, short.endswith("right/IMG_0001.JPG")
        ('a.png', True, True, True)
    """
    if "\n" in label:  # Pillow measures one line at a time
        return "\n".join(fitted(line, width, font) for line in label.split("\n"))
    label = drawable(label, font)
    room = width - 2 * (LABEL_OFFSET + LABEL_PAD)
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    if draw.textlength(label, font=font) <= room:
        return label
    def kept(count: int) -> str:  # a third of what is kept from the start, two thirds from the end
        start = count // 3
        return label[:start] + ELLIPSIS + label[len(label) - (count - start):]

    low, high = 0, len(label) - 1  # the most characters kept that fit: found by halving (widths grow with it)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if draw.textlength(kept(middle), font=font) <= room else (low, middle - 1)
    return kept(low) if low else label[-1:]
