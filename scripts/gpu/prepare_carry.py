"""Make the training images small enough to travel to a lent GPU machine.

The device tool sends the working tree plus carried folders, at most 64 MiB in all; the
1000 training images are 107 MB. This writes a copy whose shorter side is at most
``--short-side`` pixels (JPEG) into an ignored folder, and says how much will travel.

Usage: python scripts/gpu/prepare_carry.py [--src ../shared/data/train/natural] [--dst .carry/natural]
       [--short-side 320] [--quality 85]
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from PIL import Image, ImageOps
from tqdm import tqdm

from defusion.data.dataset import find_images

REPO = Path(__file__).resolve().parents[2]
LIMIT_MIB = 64


def tracked_bytes() -> int:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    return sum((REPO / f.decode()).stat().st_size for f in files if f and (REPO / f.decode()).is_file())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", type=Path, default=REPO.parent / "shared" / "data" / "train" / "natural")
    p.add_argument("--dst", type=Path, default=REPO / ".carry" / "natural")
    p.add_argument("--short-side", type=int, default=320)
    p.add_argument("--quality", type=int, default=85)
    args = p.parse_args()

    exclude = REPO / ".git" / "info" / "exclude"
    exclude.parent.mkdir(exist_ok=True)
    known = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    if "/.carry/" not in known.splitlines():
        exclude.write_text(known + "/.carry/\n", encoding="utf-8")
    args.dst.mkdir(parents=True, exist_ok=True)
    for src in tqdm(find_images(args.src), unit="image"):
        with Image.open(src) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            scale = args.short_side / min(im.size)
            if scale < 1:
                im = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
            im.save(args.dst / f"{src.stem}.jpg", quality=args.quality)
    carried = sum(f.stat().st_size for f in args.dst.iterdir())
    tree = tracked_bytes()
    total = (carried + tree) / 2**20
    print(f"{args.dst}: {carried / 2**20:.1f} MiB; working tree {tree / 2**20:.1f} MiB; "
          f"{total:.1f} MiB of the {LIMIT_MIB} MiB that may travel")
    if total > LIMIT_MIB:
        raise SystemExit("too large: lower --short-side or --quality")


if __name__ == "__main__":
    main()
