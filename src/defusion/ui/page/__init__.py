"""The web UI's page (``ui/app.py``) in parts, each drawing one piece of it with Streamlit:

- ``sidebar``: the choice of images and the fusion options;
- ``session_state``: what the page keeps across runs that Streamlit would forget (the sidebar's
  choices while not drawn, an uploader's files);
- ``pair`` and ``stack``: two images (an example or uploads), or an uploaded bracket or focus stack:
  their uploads, their fusion and the result shown;
- ``calibrate``: the page that calibrates a camera rig;
- ``caches``: the network, the fusions made and what an upload's reading found, kept across runs
  and sessions;
- ``messages`` and ``metrics``: notes, advice and errors around a fusion; the metrics table.

Here, free of Streamlit (the app imports them without it): the names of the pages besides the
examples, and the wording that several parts, and the tests, share.
"""

from defusion.io.images import READ_FORMATS

#: The sidebar's *Images* choices besides the examples: the pages of the app.
UPLOAD = "Upload two images"
UPLOAD_STACK = "Upload a bracket or focus stack"
CALIBRATE = "Calibrate a camera rig"
#: What the uploaders take, as the captions say it (ui.uploads.UPLOAD_TYPES: what defusion.io.images reads).
FORMATS = f"{READ_FORMATS}; 8 or 16 bit, or a 32-bit float TIFF"
#: Under the palette, off while the pixels come from the sources (the fusion core refuses both).
SOURCES_TAKE_NO_PALETTE = ("A thermal palette colours the network's fusion; pixels from the sources keep their own "
                           "colours, so the palette is off until the pixels come from the network.")

__all__ = ["CALIBRATE", "FORMATS", "SOURCES_TAKE_NO_PALETTE", "UPLOAD", "UPLOAD_STACK"]
