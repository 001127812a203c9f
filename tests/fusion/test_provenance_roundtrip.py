"""A fused image's record rebuilds the options it was made with (review of the provenance record):
`FuseOptions(**record["options"])` failed for a camera rig (a dict), a fixed stretch ("unknown stretch") and
any option the record shortened to "...", which docs/features.md promised it rebuilt. `FuseOptions.from_record`
rebuilds every kind of field, and refuses what the record left out in one line naming it."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from defusion.fusion.errors import OptionsError, UnknownOptionError
from defusion.fusion.options import FuseOptions
from defusion.fusion.provenance import LEFT_OUT, MAX_RECORD_BYTES, SHIPPED, MadeBy, fused_label, weights_sha256
from defusion.fusion.rig import Rig
from defusion.fusion.stretch import FixedStretch

#: A calibration's marks: the first camera's corners, and where a half-size second camera sees them.
MARKS = np.array([[10, 10], [300, 20], [40, 220], [280, 230]], float)


def _rig(cameras: int = 1, motion: str = "affine") -> Rig:
    return Rig.from_points((320, 240), [((160, 120), MARKS, MARKS / 2 + k) for k in range(cameras)], motion)


def _record_options(options: FuseOptions) -> dict:
    record = MadeBy(options, sha256="0" * 12).record()
    assert len(record.encode()) <= MAX_RECORD_BYTES
    return json.loads(record)["options"]


EVERY_KIND = {
    # ints, strings of each choice, floats, a bool, a rig, a fixed stretch per source, a palette's range
    "all": FuseOptions(tile=256, overlap=32, auto_tile_pixels=500_000, auto_tile_size=512, color="rgb",
                       stack="sequential", order="exposure", scale=1, unique_gain=1.7, detail_gain=1.2,
                       align="affine", stretch=FixedStretch([0, 1], (0.0, 0.1), (0.06, 0.14)), deghost=True,
                       rig=_rig(), palette="inferno", infrared=1, palette_range=(0.1, 0.9)),
    "sources": FuseOptions(pixels="sources", scale=3, color="ycbcr", order="dark-first", tile=0,
                           stretch=FixedStretch([1], 0.1, 0.2), align="homography"),
    "unstretched": FuseOptions(stretch="none", unique_gain=0.0, detail_gain=0.0, palette="turbo", infrared=0),
    "homography rig": FuseOptions(rig=_rig(motion="homography")),
    "ivf": FuseOptions.for_task("ivf"), "mef": FuseOptions.for_task("mef"), "mff": FuseOptions.for_task("mff"),
    "paper": FuseOptions.paper(), "defaults": FuseOptions(),
}


@pytest.mark.parametrize("name", list(EVERY_KIND))
def test_every_kind_of_field_comes_back_from_the_record(name):
    options = EVERY_KIND[name]
    rebuilt = FuseOptions.from_record(_record_options(options))
    assert rebuilt == options
    assert type(rebuilt.stretch) is type(options.stretch) and type(rebuilt.rig) is type(options.rig)


def test_a_record_s_rig_is_a_rig_file():
    saved = _record_options(FuseOptions(rig=_rig()))["rig"]
    assert Rig.loads(json.dumps(saved)) == _rig()  # defusion fuse --rig takes it, saved as it is


def test_an_option_the_record_left_out_is_refused_naming_it():
    options = _record_options(FuseOptions(rig=_rig(cameras=6), unique_gain=1.7))  # six cameras: too long
    assert options["rig"] == LEFT_OUT and options["unique_gain"] == 1.7
    with pytest.raises(OptionsError, match=r"^the record left out rig \(too long for it\): .*Rig\.load") as caught:
        FuseOptions.from_record(options)
    assert "\n" not in str(caught.value)
    rest = {k: v for k, v in options.items() if k != "rig"}
    assert FuseOptions.from_record(rest) == FuseOptions(unique_gain=1.7)


@pytest.mark.parametrize("options, said", [
    ("{}", "a record's options are a JSON object"),
    ({"stretch": {"sources": [0], "low": 0.1}}, "the record's stretch is neither auto, none nor a fixed"),
    ({"rig": {"format": "defusion-rig", "version": 1}}, "the record's rig: malformed rig file"),
    ({"stretch": {"sources": [0], "low": 0.3, "high": 0.2}}, "a fixed stretch maps low to high"),
])
def test_what_cannot_be_rebuilt_is_refused_in_one_line(options, said):
    with pytest.raises(OptionsError, match=f"^{said}") as caught:
        FuseOptions.from_record(options)
    assert "\n" not in str(caught.value)
    with pytest.raises(UnknownOptionError, match="uniq_gain"):
        FuseOptions.from_record({"uniq_gain": 1.5})


def _fuser(metadata: dict | None = None) -> SimpleNamespace:
    """A Fuser as MadeBy.of reads one: a DeNet carries no metadata, an ONNX export its weights' digest."""
    model = SimpleNamespace(metadata=metadata) if metadata is not None else SimpleNamespace()
    return SimpleNamespace(model=model, options=FuseOptions(), device=SimpleNamespace(type="cpu"), half=False)


def test_weights_not_known_are_not_said_to_be_the_shipped_ones():
    unknown = MadeBy.of(_fuser(), weights_known=False)
    record = json.loads(unknown.record())
    assert record["weights"] is None and record["sha256"] is None and fused_label(unknown) == "fused"
    other = json.loads(MadeBy.of(_fuser({"weights_sha256_16": "0123456789abcdef"}), weights_known=False).record())
    assert other["weights"] is None and other["sha256"] == "0123456789ab"
    shipped = weights_sha256(None)[:16]  # an export of the shipped weights says so itself
    assert json.loads(MadeBy.of(_fuser({"weights_sha256_16": shipped}), weights_known=False).record())["weights"] == SHIPPED
    assert json.loads(MadeBy.of(_fuser()).record())["weights"] == SHIPPED  # the CLI's None: the shipped ones


def test_the_record_names_the_code_that_made_it():
    """The version stays 0.1.0 through unreleased changes: the record names the code by its fingerprint,
    as ``defusion bench``'s run.json does, so two builds' images are told apart."""
    import json

    from defusion.cli.build_info import this_build
    from defusion.fusion.options import FuseOptions
    from defusion.fusion.provenance import CODE_DIGEST_CHARS, MadeBy, code_fingerprint

    record = json.loads(MadeBy(FuseOptions()).record())
    assert record["code"] == code_fingerprint() == this_build()["code"]
    assert len(record["code"]) == CODE_DIGEST_CHARS and int(record["code"], 16) >= 0


@pytest.fixture
def uncached_fingerprint():
    """code_fingerprint computed afresh in the test, and again after it (its cache cleared both times)."""
    from defusion.fusion.provenance import code_fingerprint

    code_fingerprint.cache_clear()
    yield code_fingerprint
    code_fingerprint.cache_clear()


@pytest.mark.parametrize("where", ["no .py files", "a zip"])
def test_a_package_with_no_code_to_read_is_no_build(tmp_path, monkeypatch, uncached_fingerprint, where):
    """From a review: a zipped, zipapp or frozen install has no .py files to hash, and every such build got
    the hash of nothing (e3b0c44298fc), so two of them compared equal and no record warned of a change."""
    import defusion
    from defusion.cli.build_info import same_build, this_code
    from defusion.fusion.provenance import UNKNOWN_CODE

    root = tmp_path / "defusion"
    root.mkdir()
    (root / "__init__.pyc").write_bytes(b"")  # compiled only, as a frozen build ships it
    package = root / "__init__.pyc" if where == "no .py files" else tmp_path / "app.zip" / "defusion" / "__init__.py"
    monkeypatch.setattr(defusion, "__file__", str(package))
    assert uncached_fingerprint() == UNKNOWN_CODE
    assert not same_build(this_code(), this_code())  # warned of, never taken for the same build


def test_the_fingerprint_of_a_package_folder_is_its_code(uncached_fingerprint):
    from defusion.fusion.provenance import CODE_DIGEST_CHARS

    assert len(uncached_fingerprint()) == CODE_DIGEST_CHARS and uncached_fingerprint() != "e3b0c44298fc"
