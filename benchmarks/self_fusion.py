"""How much detail survives the network: each image fused with itself.

DeFusion's fused image is a reconstruction (Pr of the embeddings), so it can carry no more
detail than the network reproduces from a single image. Fusing an image with itself makes
that ceiling measurable without any reference: an ideal network returns the image unchanged
(PSNR infinite, SF and SD ratios 1.0). A ratio under 1 is detail or contrast the network
loses, the "soft and low in contrast" failure case of the model card, in one number.

Prints, per weight file and inference scale (``--scales``, see defusion.fusion.resample) side by
side: PSNR of the self-fusion against the image (dB, 8-bit
luminance), and the spatial frequency (SF) and standard deviation (SD) of the self-fusion over
the image's own, averaged over the images.

Usage: python benchmarks/self_fusion.py --images DIR [DIR ...] [--weights shipped cand.safetensors]
       [--scales 1 2] [--limit 10] [--max-side 512]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from defusion import Fuser
from defusion.data.dataset import find_images
from defusion.fusion.color import luminance, to_float, to_uint8
from defusion.io.images import read_image
from defusion.metrics import psnr_standard, spatial_frequency, standard_deviation


def self_fusion_scores(fuser: Fuser, image: np.ndarray) -> dict[str, float]:
    """PSNR, SF ratio and SD ratio of ``fuser.fuse(image, image)`` against ``image`` (luminance)."""
    fused = fuser.fuse(image, image)
    y, fy = (to_uint8(np.asarray(luminance(to_float(im)), np.float32)).astype(np.float64)
             for im in (image, fused))
    return {
        "PSNR": psnr_standard(fy, y, y),
        "SF ratio": spatial_frequency(fy, y, y) / max(spatial_frequency(y, y, y), 1e-9),
        "SD ratio": standard_deviation(fy, y, y) / max(standard_deviation(y, y, y), 1e-9),
    }


def centre_crop(image: np.ndarray, max_side: int) -> np.ndarray:
    """At most ``max_side`` pixels a side (a centre crop: no resampling, which would soften)."""
    h, w = image.shape[:2]
    top, left = max(0, (h - max_side) // 2), max(0, (w - max_side) // 2)
    return image[top:top + max_side, left:left + max_side]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", nargs="+", type=Path, required=True, help="folders of images")
    p.add_argument("--weights", nargs="+", default=["shipped"], help="weight files ('shipped' = the package's)")
    p.add_argument("--scales", nargs="+", type=int, default=[1], help="inference scales (default 1)")
    p.add_argument("--limit", type=int, default=10, help="images per folder (default 10)")
    p.add_argument("--max-side", type=int, default=512, help="centre-crop larger images (default 512)")
    args = p.parse_args(argv)
    images = [(folder.name, path) for folder in args.images for path in find_images(folder)[:args.limit]]
    if not images:
        raise SystemExit("no images found")
    sources = [centre_crop(read_image(path), args.max_side) for _, path in images]
    print(f"{len(images)} images from {', '.join(str(f) for f in args.images)} (at most "
          f"{args.max_side} px a side); each fused with itself")
    print(f"{'weights':40s} {'scale':>5s} {'PSNR (dB)':>10s} {'SF ratio':>9s} {'SD ratio':>9s}")
    for weights in args.weights:
        for scale in args.scales:
            fuser = Fuser.from_pretrained(None if weights == "shipped" else weights, device="cpu", scale=scale)
            scores = [self_fusion_scores(fuser, im) for im in sources]
            mean = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
            print(f"{weights[-40:]:40s} {scale:5d} {mean['PSNR']:10.2f} {mean['SF ratio']:9.3f} "
                  f"{mean['SD ratio']:9.3f}")


if __name__ == "__main__":
    main()
