"""``python -m infragate`` and the ``infragate`` command.

A stop that comes while the interpreter is still importing infragate is an interruption like any
other (exit 2, one line), not a death by signal: nothing has been done to any target yet.
"""

from __future__ import annotations

import os
import signal
import sys

from infragate.recovery.stopping import interrupt


def run() -> None:
    """Run the command line with SIGTERM unwinding like Ctrl-C from the start (commands that must do
    more on a stop, such as verify, put their own handler in place)."""
    signal.signal(signal.SIGTERM, interrupt)
    try:
        from infragate.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("infragate: interrupted while starting; nothing was done\n")
        sys.stderr.flush()
        # Not SystemExit: a KeyboardInterrupt that went through an import leaves the interpreter
        # set to die by SIGINT at exit (-2), whatever the code; nothing is open yet to finalise.
        os._exit(2)
    main()


if __name__ == "__main__":
    run()
