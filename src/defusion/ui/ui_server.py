"""The server ``defusion ui`` starts: ``app.py`` as a Streamlit ``st.App``, behind :class:`HostGuard`.

``streamlit run`` on this file finds ``app`` (an ASGI app) and serves it with uvicorn, the page
being ``app.py``; :class:`~defusion.ui.host_guard.HostGuard` sees every request before Streamlit
does (Streamlit's own ``server.allowedHosts`` checks only the WebSocket). The Host names it answers
to come from ``DEFUSION_UI_ALLOWED_HOSTS``, which ``defusion ui`` sets.

The app is made only where this file is imported as a module of its own, as ``streamlit run``
imports it (its folder on ``sys.path``), not as ``defusion.ui.ui_server``: importing the package's
modules (pytest's doctest collection) neither needs Streamlit nor makes an ``st.App``, which pins
Streamlit's process-wide script folder.
"""

if "." not in __name__:
    import streamlit as st
    from starlette.middleware import Middleware

    from defusion.io.notes import lines_for_process
    from defusion.ui import APP_PATH
    from defusion.ui.host_guard import HostGuard, allowed_from_env

    lines_for_process()  # the web UI's process: what is not shown on the page goes to its log as lines

    app = st.App(APP_PATH, middleware=[Middleware(HostGuard, allowed=allowed_from_env())])
