"""PDF by converting the Word report with LibreOffice headless, where it is installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CONVERTERS = ("soffice", "libreoffice")
TIMEOUT_S = 180


class NoConverter(RuntimeError):
    """LibreOffice is not installed: PDF output is not available on this machine."""


def converter() -> str | None:
    return next((path for name in CONVERTERS if (path := shutil.which(name))), None)


def docx_to_pdf(docx: Path, out: Path) -> None:
    """Convert with a throwaway LibreOffice profile (two conversions at once do not share a lock)."""
    program = converter()
    if program is None:
        raise NoConverter(
            "PDF output needs LibreOffice, which is not installed here "
            "(Debian: apt install libreoffice-writer-nogui fonts-wqy-zenhei). "
            "Use --format docx, xlsx or html instead."
        )
    with tempfile.TemporaryDirectory(prefix="cuiban-pdf-") as work:
        profile = Path(work) / "profile"
        result = subprocess.run(
            [
                program,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                work,
                str(docx),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        produced = Path(work) / (docx.stem + ".pdf")
        if result.returncode != 0 or not produced.is_file():
            raise RuntimeError(f"LibreOffice could not convert {docx.name} to PDF: {result.stderr.strip()}")
        shutil.move(str(produced), out)
