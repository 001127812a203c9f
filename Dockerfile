# DeFusion CPU server image: `defusion serve` on port 8000, or any `defusion` command.
#
#   docker build -t defusion .
#   docker run --rm -p 127.0.0.1:8000:8000 defusion    # this machine only: the API has no authentication
#   docker run --rm -v "$PWD:/data" --user "$(id -u):$(id -g)" defusion fuse a.png b.png -o fused.png
#
# Build args (docs/container.md):
#   BASE_IMAGE        Python base image; any Debian-like image with python3 and its venv module
#                     (default python:3.11-slim)
#   TORCH_SPEC        the torch requirement (default torch==2.13.0, the version tested)
#   TORCH_INDEX_URL   where torch comes from (default: PyTorch's CPU-only index; a plain
#                     `pip install torch` from PyPI would pull a multi-GB CUDA build).
#                     Empty: pip's default index
#   TORCH_FIND_LINKS  a folder or URL of wheels pip also looks in for torch (default none), e.g. a
#                     local CPU wheel mounted at build time (`buildah bud --volume DIR:/wheels:ro`)
#   EXTRAS            defusion extras to install (default serve,raw,heif: FastAPI, uvicorn, ONNX
#                     Runtime; cameras' raw files and phones' HEIC, about 9 MB of wheels: LibRaw and
#                     libheif then parse uploads too). A public service: EXTRAS=serve

ARG BASE_IMAGE=python:3.11-slim

# ---- build: a virtual environment with torch (CPU) and defusion -------------------------------
FROM ${BASE_IMAGE} AS build

ARG TORCH_SPEC=torch==2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_FIND_LINKS=
ARG EXTRAS=serve,raw,heif

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH

RUN python3 -m venv /opt/venv

# The CPU build of torch first: defusion's own `torch>=2.5` is then already satisfied. Its C++
# headers (~60 MB) are only for compiling extensions, which a slim image cannot do anyway.
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} \
        ${TORCH_FIND_LINKS:+--find-links "$TORCH_FIND_LINKS"} "$TORCH_SPEC" \
 && python -W ignore -c "import sys, torch; sys.exit(f'torch {torch.__version__} is a CUDA build' if torch.version.cuda else 0)" \
 && rm -rf /opt/venv/lib/python3*/site-packages/torch/include

# Then defusion's dependencies, read from pyproject.toml, in a layer of their own: a change to
# src/ rebuilds only the small layer below (tomllib: the base needs Python 3.11 or newer).
COPY pyproject.toml /src/
RUN python -c "import sys, tomllib; p = tomllib.load(open('/src/pyproject.toml', 'rb'))['project']; \
print(*p['dependencies'], *(r for e in sys.argv[1].split(',') if e for r in p['optional-dependencies'][e]), \
sep='\n')" "$EXTRAS" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY README.md LICENSE /src/
COPY src /src/src
RUN pip install "/src${EXTRAS:+[$EXTRAS]}" \
 && python -c "import sys, torch; sys.exit(f'torch {torch.__version__} is a CUDA build' if torch.version.cuda else 0)" \
 && defusion --version

# ---- runtime: the virtual environment on a fresh base, run by a non-root user -----------------
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="defusion" \
      org.opencontainers.image.description="DeFusion image fusion: REST server and CLI, CPU build" \
      org.opencontainers.image.licenses="MIT"

RUN useradd --uid 10001 --user-group --create-home --home-dir /home/defusion \
        --shell /usr/sbin/nologin defusion \
 && mkdir -p /data \
 && chown 10001:10001 /data

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    HOME=/home/defusion \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    DEFUSION_CACHE=/home/defusion/.cache/defusion

USER 10001:10001

# The ONNX export of the shipped weights that `defusion serve` (ONNX Runtime, its CPU default) makes
# on first use, made here, by the same call, into the DEFUSION_CACHE it reads: a fresh container is
# ready in about 8 s instead of 47 s (69 s with `uvicorn --workers 2`, each worker exporting). Run as
# the runtime user: the cache trusts only its own user's files (defusion/fusion/onnx_runtime.py). A
# container run as another --user cannot read it (.cache is 0700) and runs PyTorch, saying so.
RUN python -c "from defusion.fusion.runtime import load_network; load_network(None, 'onnxruntime')" \
 && chmod 700 /home/defusion/.cache

WORKDIR /data
EXPOSE 8000

# 200 once the model is loaded; nothing answers while it loads (the probe waits and times out, which
# --start-period forgives). With the export above, loading takes about 8 s; the 120 s cover a start
# that exports (other --weights, an empty volume over DEFUSION_CACHE: 47 s, 69 s with two workers)
# on a slower machine. python is always there, curl is not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["defusion"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
