"""Assemble docs/benchmarks.md from the output folders of scripts/run_benchmarks.sh.

Copies each benchmark's summary chart and one comparison grid into docs/images/ and prints
the Markdown document (header from docs/benchmarks_header.md, then each summary table, then
docs/benchmarks_footer.md: measurements that are not a benchmark folder).
"""

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
ORDER = ("vifb", "tno", "mefb", "mfifb")


def main(out: str) -> None:
    root = Path(out)
    images = DOCS / "images"
    images.mkdir(parents=True, exist_ok=True)
    header = DOCS / "benchmarks_header.md"
    parts = [header.read_text() if header.exists() else "# Benchmarks\n"]
    for name in ORDER:
        folder = root / name
        if not (folder / "summary.md").exists():
            continue
        parts.append((folder / "summary.md").read_text())
        shutil.copy(folder / "summary.png", images / f"bench_{name}.png")
        parts.append(f"![{name} summary](images/bench_{name}.png)\n")
        grids = sorted((folder / "grids").glob("*.jpg"))
        if grids:
            shutil.copy(grids[0], images / f"grid_{name}.jpg")
            parts.append(f"Example ({grids[0].stem}): sources A, B, then every method.\n\n"
                         f"![{name} example](images/grid_{name}.jpg)\n")
    footer = DOCS / "benchmarks_footer.md"
    if footer.exists():
        parts.append(footer.read_text())
    print("\n".join(parts))


if __name__ == "__main__":
    main(sys.argv[1])
