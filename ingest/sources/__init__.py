"""One module per source; each exposes one obvious entry point."""
