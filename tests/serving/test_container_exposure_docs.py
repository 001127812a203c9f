"""The container examples publish the unauthenticated API on the host's loopback only, and say which
parsers the default image runs on uploads (security audit, finding 7)."""

from __future__ import annotations

import re

from tests.conftest import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
CONTAINER = (REPO / "docs" / "container.md").read_text(encoding="utf-8")


def _published_ports(text: str) -> list[str]:
    return re.findall(r"docker run [^\n]*?-p (\S+)", text)


def test_every_run_example_publishes_on_loopback_only():
    for text in (DOCKERFILE, CONTAINER):
        ports = _published_ports(text)
        assert ports and all(port.startswith("127.0.0.1:") for port in ports), ports


def test_the_first_server_command_of_the_docs_is_the_safe_one():
    first = CONTAINER.split("## Run the server", 1)[1].split("```bash", 1)[1].strip().splitlines()[0]
    assert first == "docker run --rm -p 127.0.0.1:8000:8000 defusion"
    assert "every interface" in CONTAINER.split("## Run the server", 1)[1].split("```bash", 2)[1]


def test_the_docs_say_the_default_extras_parse_uploads_and_how_to_build_without():
    (extras,) = re.findall(r"^ARG EXTRAS=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert {"raw", "heif"} <= set(extras.split(","))
    text = " ".join(CONTAINER.split())
    assert "LibRaw" in text and "libheif" in text and "*client's* file name" in text
    assert "docker build -t defusion --build-arg EXTRAS=serve ." in CONTAINER
