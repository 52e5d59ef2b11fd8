"""Per-deployment watching (no Textual): see watcher.py."""
