"""The words the TUI and the headless CLI share: task labels, durations, times, state words and
glyphs, error descriptions and the log line prefix. Plain strings only: no Textual, no Rich."""
