"""The Textual face of kopitui. Only imported when the TUI runs."""
