"""Let SIGTERM/SIGINT reach running uploads, not only the server loop.

uvicorn stops accepting requests on SIGTERM and then waits for open ones; an upload
indexing in a worker thread would hold it (and the index writer) until done. Chaining
to uvicorn's handler, this also sets an event that uploads poll, so they stop at once,
commit nothing and release the writer.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(event: threading.Event) -> Iterator[None]:
    """Set ``event`` on SIGTERM/SIGINT (then run the previous handler) while inside."""
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be installed from the main thread (e.g. a test server)
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}

    def handler(signum: int, frame: FrameType | None) -> None:
        event.set()
        chained = previous[signal.Signals(signum)]
        if callable(chained):
            chained(signum, frame)
        elif chained == signal.SIG_DFL:  # no server handler: die as the signal says
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    for sig in _SIGNALS:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
