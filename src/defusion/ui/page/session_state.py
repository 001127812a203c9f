"""What the page keeps in Streamlit's session state across runs that Streamlit itself would forget.

Streamlit forgets a widget's value in a run that does not draw it: switching to an example, or to
the calibration page that draws none of the sidebar's options, and back reset them; and an
uploader's files, which no code can put back into it.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

#: Sidebar choices kept while their widget is not on the page. Uploads cannot be kept this way
#: (Streamlit does not let code set an uploader; :func:`uploaded` keeps their files instead); a
#: stack's infrared image is kept while its file is still uploaded.
KEPT_CHOICES = ("kind", "color", "tile", "align", "stretch", "palette", "infrared", "infrared_stack",
                "resize")
KEPT_PREFIXES = ("gain-", "detail-", "pixels-", "scale-", "deghost-")
#: Where the files of each upload widget are kept, by its key, as (name, bytes) pairs.
KEPT_UPLOADS = "kept_uploads"


def keep_choices() -> None:
    """Re-assign the kept choices, which tells Streamlit they are still wanted."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and (key in KEPT_CHOICES or key.startswith(KEPT_PREFIXES)):
            st.session_state[key] = st.session_state[key]


def unless_kept(key: str, **default: Any) -> dict[str, Any]:
    """A widget's starting value (``default``, as its keyword), unless the session keeps a value for
    ``key`` (:func:`keep_choices`): Streamlit warns of a widget given both, and takes the kept one."""
    return {} if key in st.session_state else default


def uploaded(place: ModuleType | DeltaGenerator, label: str, *, key: str, **kwargs: Any) -> list[tuple[str, bytes]]:
    """The files in upload widget ``key`` drawn in ``place`` (``st`` or a column), as (name, bytes),
    or the files it held when the page last left it.

    Streamlit forgets an uploader's files in a run that does not draw it (a look at an example, the
    calibration page), and no code can put them back into it; so they are kept here and used, said
    under the empty widget, until the user uploads others or removes them (the button)."""
    kept: dict[str, list[tuple[str, bytes]]] = st.session_state.setdefault(KEPT_UPLOADS, {})
    value = place.file_uploader(label, key=key, on_change=kept.pop, args=(key, None), **kwargs)
    files = [(f.name, f.getvalue()) for f in (value if isinstance(value, list) else [value]) if f is not None]
    if files:
        kept[key] = files
    elif kept.get(key):
        files = kept[key]
        place.caption(f"Using {', '.join(name for name, _ in files)}, uploaded earlier.")
        if place.button("Remove", key=f"forget_{key}"):
            kept.pop(key, None)
            st.rerun()
    return files
