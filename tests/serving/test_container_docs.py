"""What the Dockerfile's comments and docs/container.md say of the server image is what it does."""

from __future__ import annotations

import re

from tests.conftest import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
CONTAINER = (REPO / "docs" / "container.md").read_text(encoding="utf-8")


def test_the_healthcheck_comment_says_nothing_answers_while_loading():
    """The audit: the comment said "503 while loading", but `defusion serve` answers nothing until the
    model is loaded, then 200 (docs/serving.md, GET /healthz)."""
    comment = DOCKERFILE.split("HEALTHCHECK", 1)[0].rsplit("\n\n", 1)[-1]
    assert "503" not in comment and "200 once the model is loaded" in comment
    assert "nothing answers while it loads" in comment
    serving = (REPO / "docs" / "serving.md").read_text(encoding="utf-8")
    assert "once the model is loaded" in serving.split("### `GET /healthz`", 1)[1].split("###", 1)[0]


def test_what_the_image_is_names_the_default_extras():
    """The audit: docs/container.md said the image installs defusion "with the `serve` extra", where the
    Dockerfile's default is ARG EXTRAS=serve,raw,heif (as its own table of build arguments says)."""
    (extras,) = re.findall(r"^ARG EXTRAS=(\S+)$", DOCKERFILE, re.MULTILINE)
    what = CONTAINER.split("What the image is:", 1)[1].split("\n\n", 2)[1]
    assert "with the `serve` extra" not in what
    assert f"by default `{extras}`" in what.replace("\n  ", " "), what
