"""The one error the web UI raises for what a user can fix: a line for ``st.error``."""


class InputError(ValueError):
    """Inputs that cannot be fused as given (too large, different sizes)."""


__all__ = ["InputError"]
