"""Extract one file in a worker process with memory, CPU and wall-clock limits.

Parsers of PDF, DOCX and HTML can be driven into long or memory-hungry work by small
hostile files. A child process is the only way to stop such work from outside (a thread
cannot be killed), and ``resource`` limits on it keep one file from taking the host.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import spawn
from multiprocessing.connection import Connection
from pathlib import Path

from index.errors import DocqaError, ExtractionError, IngestCancelledError
from index.formats import extract
from index.formats.extracted import Extracted
from index.formats.guards import check_extracted, check_html, check_pdf
from index.formats.pdf.ocr import DEFAULT_OCR, OcrOptions

logger = logging.getLogger(__name__)
_POLL_S = 0.05
_PR_SET_PDEATHSIG = 1
# forkserver: a fresh, single-threaded parent to fork from (forking a server with
# encoder and web threads is unsafe), with the parsers imported once, not per file.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["index.formats.sandbox"])
_LOCAL = threading.local()
_preparation_data = spawn.get_preparation_data


def _without_main(name: str) -> dict[str, object]:
    # Every child re-imports the program's main module (a whole web server) before it
    # runs; the worker needs nothing from it. Python 3.11's forkserver cannot preload a
    # script's main either, so our children are told there is none: milliseconds, not
    # seconds, per file. Other users of multiprocessing are untouched.
    data: dict[str, object] = _preparation_data(name)
    if getattr(_LOCAL, "starting", False):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


spawn.get_preparation_data = _without_main


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds on extracting one file, and how scanned pages are read (``DOCQA_`` settings)."""

    timeout_s: float = 30.0
    memory_mb: int = 1024
    cpu_s: int = 60
    max_file_chars: int = 2_000_000
    max_page_chars: int = 200_000
    max_html_depth: int = 512
    pdf_max_stream_reuse: int = 4
    ocr: OcrOptions = DEFAULT_OCR


def extract_checked(path: Path, limits: ExtractLimits) -> Extracted:
    """Extract ``path`` in this process, with every content check of ``limits``."""
    suffix = path.suffix.lower()
    if suffix in {".html", ".htm"}:
        check_html(path, path.read_bytes(), limits.max_html_depth)
    elif suffix == ".pdf":
        check_pdf(path, path.read_bytes(), limits.pdf_max_stream_reuse)
    extracted = extract(path, limits.ocr)
    check_extracted(path, extracted, limits.max_file_chars, limits.max_page_chars)
    return extracted


def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _die_with_parent() -> None:
    # Our parent is the forkserver, which exits with the server: without this, a killed
    # server would leave an extraction running on (until its CPU limit).
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the CPU limit still ends it


def _child(conn: Connection, path: str, limits: ExtractLimits) -> None:
    _die_with_parent()
    # The memory limit is on top of what the process already maps (libraries, arenas).
    extra = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + extra,) * 2)
    used = int(resource.getrusage(resource.RUSAGE_SELF).ru_utime)
    resource.setrlimit(resource.RLIMIT_CPU, (used + limits.cpu_s, used + limits.cpu_s + 1))
    try:
        reply: tuple[str, object] = ("ok", extract_checked(Path(path), limits))
    except DocqaError as exc:
        reply = ("error", getattr(exc, "reason", str(exc)))
    except MemoryError:
        reply = ("error", _memory_message(limits))
    except RecursionError:
        reply = ("error", "nested too deeply to read")
    except Exception as exc:  # a parser's own error on a malformed file
        reply = ("error", f"cannot read file ({type(exc).__name__})")
    try:
        conn.send(reply)
    except OSError:
        pass  # the requester is gone (cancelled, or its process died): nobody to tell
    finally:
        conn.close()


def _memory_message(limits: ExtractLimits) -> str:
    return (
        f"extraction needs more memory than the limit of {limits.memory_mb} MB "
        "(DOCQA_EXTRACT_MEMORY_MB)"
    )


def _death(limits: ExtractLimits, exitcode: int | None) -> str:
    if exitcode == -signal.SIGXCPU:
        return f"extraction used more CPU than the limit of {limits.cpu_s} s (DOCQA_EXTRACT_CPU_S)"
    return f"the extraction process died ({exitcode}); {_memory_message(limits)}?"


def extract_bounded(
    path: Path, limits: ExtractLimits, cancelled: Callable[[], bool] | None = None
) -> Extracted:
    """Extract ``path`` in a worker process, within ``limits``.

    Raises:
        ExtractionError: the file is unreadable or went over a limit (the message names it).
        IngestCancelledError: ``cancelled()`` turned true while waiting.
    """
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(sender, str(path), limits), daemon=True)
    _LOCAL.starting = True
    try:
        process.start()
    finally:
        _LOCAL.starting = False
    sender.close()
    deadline = time.monotonic() + limits.timeout_s
    try:
        while True:
            if receiver.poll(_POLL_S):
                try:
                    kind, value = receiver.recv()
                except EOFError:  # died without a word: killed by a limit
                    process.join(1)
                    raise ExtractionError(str(path), _death(limits, process.exitcode)) from None
                if kind == "ok":
                    assert isinstance(value, Extracted)
                    return value
                raise ExtractionError(str(path), str(value))
            if cancelled is not None and cancelled():
                raise IngestCancelledError("the upload was cancelled")
            if time.monotonic() > deadline:
                raise ExtractionError(
                    str(path),
                    f"extraction took longer than the limit of {limits.timeout_s:g} s "
                    "(DOCQA_EXTRACT_TIMEOUT_S)",
                )
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
