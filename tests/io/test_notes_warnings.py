"""What defusion has to say reaches a Python caller (a script, a notebook) as warnings of its own
categories, which ``warnings`` filters silence, record or raise; the ``defusion`` command still says it
as ``defusion: warning: ...`` / ``defusion: note: ...`` lines on stderr, once per process; a page or a
server still gathers it with ``collecting()``. It was written straight to stderr for everyone, once per
process: no filter reached it, ``catch_warnings(record=True)`` saw nothing, a second call said nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
from PIL import Image

from defusion.cli.main import main
from defusion.errors import DefusionNote, DefusionWarning
from defusion.io import notes
from defusion.io.images import read_image

#: What reading an image with transparent pixels says (after its path).
ALPHA = ("has transparent pixels (alpha); alpha is ignored: they fuse as their colour values (flatten it onto a "
         "background first to fuse what it shows)")


@pytest.fixture
def transparent(tmp_path):
    """A fused image and a source with transparent pixels: reading the source says so."""
    rgba = np.full((16, 16, 4), 200, np.uint8)
    rgba[..., 0] = np.arange(16, dtype=np.uint8) * 10
    rgba[:8, :, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "a.png")
    Image.fromarray(rgba[..., :3]).save(tmp_path / "f.png")
    return tmp_path / "f.png", tmp_path / "a.png"


def test_the_categories_are_user_warnings_and_exported():
    import defusion.errors

    assert issubclass(DefusionWarning, UserWarning) and issubclass(DefusionNote, DefusionWarning)
    assert notes.DefusionWarning is DefusionWarning and notes.DefusionNote is DefusionNote
    assert {"DefusionWarning", "DefusionNote"} <= set(defusion.errors.__all__) & set(notes.__all__)
    assert notes.CATEGORIES == {"warning": DefusionWarning, "note": DefusionNote}


def test_a_python_caller_can_record_them_and_nothing_goes_to_stderr(capfd):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notes.warn("x.png has transparent pixels")
        notes.note("x.tif holds 3 frames; only the first is read")
        notes.say("note", "said again")
    assert [(w.category, str(w.message)) for w in caught] == [
        (DefusionWarning, "x.png has transparent pixels"),
        (DefusionNote, "x.tif holds 3 frames; only the first is read"), (DefusionNote, "said again")]
    assert caught[0].filename == __file__  # the caller's line, not the library's
    assert capfd.readouterr().err == ""


def test_filters_silence_notes_alone_or_raise_warnings(capfd):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=DefusionNote)
        notes.note("only worth knowing")
        notes.warn("the result may not be what you expect")
    assert [w.category for w in caught] == [DefusionWarning]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DefusionWarning, match="^x.png has transparent pixels$"):
            notes.warn("x.png has transparent pixels")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DefusionWarning)
        notes.warn("silenced")
        notes.note("silenced too")
    assert capfd.readouterr().err == ""


def test_each_call_is_told_not_once_per_process(transparent):
    """Python's default filter: once per calling line; a second call from another line is told again."""
    source = transparent[1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(2):
            read_image(source)  # once for this line
        read_image(source)  # and again for this one
    assert [str(w.message) for w in caught] == [f"{source} {ALPHA}"] * 2


def test_the_audited_fusion_of_a_narrow_float_image_raises_under_an_error_filter(tiny_weights, rng):
    """``fuser.fuse(a/255*0.1+0.1, b/255)`` in ``simplefilter("error")`` only wrote to stderr."""
    from defusion.fusion.fuser import Fuser

    fuser = Fuser.from_pretrained(tiny_weights, device="cpu")
    a, b = rng.random((32, 32)), rng.random((32, 32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DefusionWarning, match="image 1 is grey float data spanning under 25%"):
            fuser.fuse(a * 0.1 + 0.1, b)


def test_the_command_says_lines_once_per_process_and_no_warnings(transparent, capsys, fresh_notes, recwarn):
    fused, source = transparent
    args = ["metrics", str(fused), str(source), str(source), "--names", "EN"]
    assert main(args) == 0 and main(args) == 0
    assert capsys.readouterr().err == f"defusion: warning: {source} {ALPHA}\n"
    assert not [w for w in recwarn if issubclass(w.category, DefusionWarning)]
    with pytest.warns(DefusionWarning, match="transparent pixels"):  # after the command: a Python caller again
        read_image(source)
    assert not notes.saying_lines()


def test_the_command_s_lines_ignore_python_s_warning_filters(transparent):
    """``python -W error`` or PYTHONWARNINGS set for other code changes nothing the command says."""
    fused, source = transparent
    env = {**os.environ, "PYTHONWARNINGS": "error::UserWarning", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "defusion", "metrics", str(fused), str(source), str(source),
                           "--names", "EN"], capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == f"defusion: warning: {source} {ALPHA}\n"


def test_the_command_s_threads_say_lines_too(capsys, fresh_notes, recwarn):
    """Process-wide, not per thread: a thread the command starts does not inherit its context."""
    with notes.as_lines():
        worker = threading.Thread(target=notes.note, args=("said in a thread",))
        worker.start()
        worker.join()
    assert capsys.readouterr().err == "defusion: note: said in a thread\n"
    assert not [w for w in recwarn if issubclass(w.category, DefusionWarning)]


def test_collecting_still_gathers_per_thread_for_a_page_or_a_server(capfd, recwarn):
    said: dict[str, list[str]] = {}

    def request(name: str) -> None:
        with notes.collecting() as lines:
            notes.warn(f"{name}.png has transparent pixels")
            notes.note(f"{name}.tif holds 3 frames")
        said[name] = lines

    with notes.as_lines():
        threads = [threading.Thread(target=request, args=(name,)) for name in ("one", "two")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    request("three")  # a Python caller's server: gathered as well, no warning
    assert said == {name: [f"warning: {name}.png has transparent pixels", f"note: {name}.tif holds 3 frames"]
                    for name in ("one", "two", "three")}
    assert capfd.readouterr().err == "" and not [w for w in recwarn if issubclass(w.category, DefusionWarning)]
