"""Fetch real typeset PDFs from Debian documentation packages into a cache (never the repo).

``apt-get download r-doc-pdf live-manual-pdf`` then ``dpkg-deb -x``: no install, no root
needed beyond apt's own cache. The licences travel inside the packages
(``usr/share/doc/*/copyright`` under the cache folder).

Usage: ``python scripts/fetch_real_pdfs.py [--cache DIR]``; the cache defaults to
``$DOCQA_REAL_PDFS`` or ``~/.cache/docqa/real-pdfs``. Prints the PDFs it unpacked.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PACKAGES = ("r-doc-pdf", "live-manual-pdf")
ENV_VAR = "DOCQA_REAL_PDFS"


def default_cache() -> Path:
    """Where the real PDFs live: ``$DOCQA_REAL_PDFS`` or ``~/.cache/docqa/real-pdfs``."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path.home() / ".cache" / "docqa" / "real-pdfs"


def fetch(cache: Path) -> list[Path]:
    """Download and unpack :data:`PACKAGES` into ``cache``; return the PDFs found there."""
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", *PACKAGES], cwd=tmp, check=True)
        for deb in sorted(Path(tmp).glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(cache)], check=True)
    # live-manual ships most of its PDFs gzipped.
    for packed in cache.rglob("*.pdf.gz"):
        target = packed.with_suffix("")
        if not target.exists():
            with gzip.open(packed) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
    return sorted(p for p in cache.rglob("*.pdf") if p.is_file() and not p.is_symlink())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=default_cache())
    args = parser.parse_args()
    for path in fetch(args.cache):
        print(path)


if __name__ == "__main__":
    main()
