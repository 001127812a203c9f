"""An ops audit: `defusion serve` ignored the DEFUSION_* settings (`docker run -e DEFUSION_MAX_PIXELS=...` was
dropped silently: the container runs `defusion serve`), though its Host refusal told users to set
DEFUSION_ALLOWED_HOSTS; and a misspelt DEFUSION_* name was not said with the setting it looked like. It
now reads them as `uvicorn --factory ...:app_from_env` does, the command line's options winning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from defusion.serving.env_settings import ENV_VARIABLES, OTHER_ENV_VARIABLES, EnvSettingError, unknown_variables

SRC = Path(__file__).resolve().parents[2] / "src" / "defusion"


@pytest.fixture
def no_env(monkeypatch):
    """No DEFUSION_* setting from the shell the tests run in."""
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_serve_takes_the_settings_the_command_line_leaves(no_env, served_settings, capsys):
    for name, value in {"DEFUSION_MAX_IMAGES": "8", "DEFUSION_MAX_PIXELS": "1000", "DEFUSION_TASK": "mff",
                        "DEFUSION_ALLOWED_HOSTS": "api.example.com"}.items():
        no_env.setenv(name, value)
    seen = served_settings()
    assert (seen["limits"].max_images, seen["limits"].max_pixels, seen["task"]) == (8, 1000, "mff")
    assert seen["allowed_hosts"] == ("api.example.com",)  # as the Host refusal says to set it
    assert ("defusion: settings from the environment: DEFUSION_MAX_PIXELS=1000, DEFUSION_MAX_IMAGES=8, "
            "DEFUSION_TASK=mff, DEFUSION_ALLOWED_HOSTS=api.example.com") in capsys.readouterr().err


def test_the_command_line_wins_even_at_the_default_value(no_env, served_settings, capsys):
    no_env.setenv("DEFUSION_MAX_IMAGES", "8")
    no_env.setenv("DEFUSION_MAX_PIXELS", "1000")
    seen = served_settings("--max-images", "4", "--max-pixels", "2000")  # 4: the default, given all the same
    assert (seen["limits"].max_images, seen["limits"].max_pixels) == (4, 2000)
    assert ("the command line overrides DEFUSION_MAX_PIXELS (--max-pixels), DEFUSION_MAX_IMAGES (--max-images)"
            in capsys.readouterr().err)


def test_weights_given_override_an_onnx_variable(no_env, served_settings, tiny_weights):
    no_env.setenv("DEFUSION_ONNX", "elsewhere.onnx")
    seen = served_settings("--weights", tiny_weights)
    assert (seen["weights"], seen["onnx"]) == (tiny_weights, None)


def test_a_bad_variable_is_one_line_naming_it_unless_the_command_line_overrides_it(no_env, served_settings):
    from defusion.cli import serve as serve_cli

    no_env.setenv("DEFUSION_MAX_IMAGES", "abc")
    with pytest.raises(EnvSettingError, match=r"^DEFUSION_MAX_IMAGES='abc': invalid int value"):
        served_settings()
    assert EnvSettingError in serve_cli.EXPECTED_ERRORS or issubclass(EnvSettingError, serve_cli.EXPECTED_ERRORS)
    assert served_settings("--max-images", "3")["limits"].max_images == 3
    no_env.setenv("DEFUSION_MAX_IMAGES", "9")
    with pytest.raises(EnvSettingError, match=r"^DEFUSION_MAX_IMAGES must be from 2 to 8, got 9$"):
        served_settings()


def test_a_misspelt_name_is_warned_about_once_each_with_the_setting_it_looks_like(no_env, served_settings, capsys):
    no_env.setenv("DEFUSION_PALETE", "inferno")
    no_env.setenv("DEFUSION_MAXPIXELS", "5")
    no_env.setenv("DEFUSION_CACHE", "/tmp/cache")
    served_settings()
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warned == [
        "defusion: warning: DEFUSION_MAXPIXELS is not a setting of the server and is ignored; did you mean "
        "DEFUSION_MAX_PIXELS?",
        "defusion: warning: DEFUSION_PALETE is not a setting of the server and is ignored; did you mean "
        "DEFUSION_PALETTE?"]


def test_a_name_like_no_setting_points_to_the_list():
    assert unknown_variables({"DEFUSION_FOO": "1"}) == [
        'DEFUSION_FOO is not a setting of the server and is ignored; the settings are listed in docs/serving.md '
        '("Running the server")']


def test_no_name_defusion_reads_elsewhere_is_warned_about():
    """Every DEFUSION_* name the package or its tests and build read is a setting or known as another's."""
    read = set()
    for root in (SRC, SRC.parents[1] / "tests", SRC.parents[1] / "scripts"):
        for path in root.rglob("*.py"):
            read |= set(re.findall(r"[\"'](DEFUSION_[A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    read -= {"DEFUSION_VARIANTS"}  # a benchmark's table, not a variable
    read = {name for name in read if not name.startswith(("DEFUSION_SACLE", "DEFUSION_PALETE", "DEFUSION_MAXPIX",
                                                           "DEFUSION_FOO"))}  # these tests' typos
    assert unknown_variables({name: "1" for name in read}) == []
    assert set(OTHER_ENV_VARIABLES).isdisjoint(ENV_VARIABLES)


def test_the_image_count_a_setting_takes_is_the_servers_limit():
    from defusion.serving.limits import FIELDS, MAX_IMAGES, MIN_IMAGES

    assert ENV_VARIABLES["DEFUSION_MAX_IMAGES"] == ("--max-images", f"a whole number from {MIN_IMAGES} to {MAX_IMAGES}")
    assert (MIN_IMAGES, MAX_IMAGES) == (2, 8) and MAX_IMAGES == len(FIELDS)
