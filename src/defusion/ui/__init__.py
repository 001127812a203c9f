"""The web UI: a Streamlit app (``app.py``, laid out from the parts in ``page/``) over the fusion core;
its Streamlit-free logic in the modules beside it, each imported by what it holds:

- ``settings`` (server-side settings from the environment) and ``errors`` (``InputError``: a problem a
  user can cause, in one line for ``st.error``);
- ``options`` (the sidebar's choices, their starting values, the FuseOptions they make) and
  ``option_advice`` (warnings on the choices and on what the uploads' EXIF shows);
- ``examples`` (the built-in pairs), ``upload_names``, ``uploads`` (decoding a pair or a stack by the
  rules of ``defusion.io.images.read_image``, checking sizes) and ``rig_uploads`` (a rig file read, two
  cameras calibrated);
- ``fusing`` (fusing and scoring), ``result_cache`` (fusions kept for re-runs), ``fusion_notes`` (what
  fusing and reading did) and ``image_output`` (PNG downloads, alt text);
- ``host_guard`` (the requests refused ahead of Streamlit: a foreign Host, a cross-origin WebSocket),
  which ``ui_server.py``, the server ``defusion ui`` starts, puts in front of ``app.py``.

Start it with ``defusion ui`` (needs the ``ui`` extra: ``pip install 'defusion[ui]'``).
"""

from pathlib import Path

#: The Streamlit script that ``defusion ui`` runs.
APP_PATH = Path(__file__).resolve().with_name("app.py")
#: What ``defusion ui`` hands ``streamlit run``: ``app.py`` as an ``st.App`` behind the Host guard.
SERVER_PATH = Path(__file__).resolve().with_name("ui_server.py")

__all__ = ["APP_PATH", "SERVER_PATH"]
