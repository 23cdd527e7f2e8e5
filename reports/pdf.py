"""PDF by converting a report (Word, or a workbook) with LibreOffice headless, where it is installed.

LibreOffice runs with the packaged fonts standing in for 宋体 and its kin (`reports.fonts.fontconfig`),
so a PDF made on a server looks like the form printed in an office: one Song face for Chinese,
letters and digits.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from cuiban.reports.fonts import fontconfig

CONVERTERS = ("soffice", "libreoffice")
TIMEOUT_S = 180


class NoConverter(RuntimeError):
    """LibreOffice is not installed: PDF output is not available on this machine."""


def converter() -> str | None:
    return next((path for name in CONVERTERS if (path := shutil.which(name))), None)


def docx_to_pdf(docx: Path, out: Path) -> None:
    """The Word report `docx` as PDF (see `to_pdf`)."""
    to_pdf(docx, out)


def to_pdf(source: Path, out: Path) -> None:
    """`source` (.docx or .xlsx) as the PDF `out`."""
    with tempfile.TemporaryDirectory(prefix="cuiban-pdf-out-") as folder:
        (produced,) = to_pdfs([source], Path(folder))
        shutil.move(str(produced), out)


def to_pdfs(sources: list[Path], folder: Path) -> list[Path]:
    """Convert .docx and .xlsx files into `folder` (each as its stem + .pdf) in one LibreOffice run
    (starting LibreOffice is most of a conversion's time), with a throwaway profile (two conversions
    at once do not share a lock) and the packaged fonts for the forms' Chinese font names."""
    program = converter()
    if program is None:
        raise NoConverter(
            "PDF output needs LibreOffice, which is not installed here "
            "(Debian: apt install libreoffice-writer-nogui libreoffice-calc-nogui fonts-wqy-zenhei). "
            "Use --format docx, xlsx or html instead."
        )
    with tempfile.TemporaryDirectory(prefix="cuiban-pdf-") as work:
        profile = Path(work) / "profile"
        fonts = Path(work) / "fonts.conf"
        fonts.write_text(fontconfig(Path(work) / "font-cache"), encoding="utf-8")
        result = subprocess.run(
            [
                "env",  # the inherited environment plus our fonts (nothing here reads os.environ)
                f"FONTCONFIG_FILE={fonts}",
                program,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                work,
                *(str(source) for source in sources),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        written = []
        for source in sources:
            produced = Path(work) / (source.stem + ".pdf")
            if result.returncode != 0 or not produced.is_file():
                problem = result.stderr.strip() or result.stdout.strip()
                raise RuntimeError(f"LibreOffice could not convert {source.name} to PDF: {problem}")
            folder.mkdir(parents=True, exist_ok=True)
            written.append(Path(shutil.move(str(produced), folder / produced.name)))
        return written
