"""kopitui: a terminal portal for KopiCloud AD API tokens."""

__version__ = "0.1.0"
