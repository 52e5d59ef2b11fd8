

def ctrl_c_reaches_it() -> None:
    """`preexec_fn` of a command a test stops with SIGINT, as Ctrl-C in a terminal does: a
    test run started in the background of a script (`.ci/run &`) inherits SIGINT ignored, as
    POSIX shells start background jobs, and the command would never see it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
