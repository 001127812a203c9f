"""The web UI: a Streamlit app (``app.py``, laid out from the parts in ``page/``) over the fusion core;
its Streamlit-free logic in the modules beside it, all of it gathered in one import in ``core.py``.

Start it with ``defusion ui`` (needs the ``ui`` extra: ``pip install 'defusion[ui]'``).
"""

from pathlib import Path

#: The Streamlit script that ``defusion ui`` runs.
APP_PATH = Path(__file__).resolve().with_name("app.py")

__all__ = ["APP_PATH"]
