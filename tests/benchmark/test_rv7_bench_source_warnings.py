"""``defusion bench`` says a float source's warning once per pair, naming its file (not again per method as "a")."""

import numpy as np
import tifffile

from defusion.cli.main import main
from defusion.io.images import write_image

#: Float sources on 0..1.3: past 1, so the metrics clip them and warn (the reviewer's setup, 3 pairs).
OVER_ONE = 1.3


def test_a_float_source_warning_is_said_once_per_pair_naming_its_file(tmp_path, capsys):
    rng = np.random.default_rng(1)
    da, db = tmp_path / "vis", tmp_path / "inf"
    da.mkdir()
    db.mkdir()
    stems = ("p1", "p2", "p3")
    for stem in stems:
        tifffile.imwrite(da / f"{stem}.tif", (rng.random((32, 40)) * OVER_ONE).astype(np.float32))
        write_image(db / f"{stem}.png", rng.integers(0, 256, (32, 40), dtype=np.uint8))
    code = main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(tmp_path / "out"),
                 "--methods", "average,max", "--metrics", "EN,SSIM,Qabf", "--no-progress"])
    assert code == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert not [line for line in warnings if "warning: a: " in line]
    assert sorted(line.split("warning: ")[1].split(":")[0] for line in warnings) == [str(da / f"{s}.tif") for s in stems]
