"""The metrics table under a fused pair or stack."""

from __future__ import annotations

import streamlit as st

from defusion.ui.fusing import metric_rows


def show_metrics(values: dict[str, float], caption: str) -> None:
    """The metrics' ``values`` as a table under a *Metrics* heading, with ``caption`` saying how they
    were computed and how to read them."""
    st.subheader("Metrics")
    import pandas as pd

    st.table(pd.DataFrame(metric_rows(values)).set_index("metric"))
    st.caption(caption)
