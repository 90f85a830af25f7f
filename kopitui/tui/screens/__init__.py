"""One module per portal page."""
