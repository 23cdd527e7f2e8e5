"""What a failing command prints: one sentence naming the thing and what to do, and an exit code.

Exit codes: 0 done; 1 the environment stopped the command (the database is down, locked
or read-only, a disk is full, permissions) — fix that and run it again; 2 the input or a
setting was refused (a bad path, URL, file or value) — fix the command line or the
settings; 3 `cuiban run` is already running; 128 + N stopped by signal N (143 SIGTERM,
130 SIGINT), the transaction in progress rolled back.

`CuibanGroup` (the `cuiban` group's class) is the one place where exceptions become
sentences: the known kinds (database errors, OSErrors naming a file, a plan or file
refused) get their own, anything else a short one with "run with --debug for details".
`--debug` (or CUIBAN_DEBUG=1) prints the traceback as well. Passwords in database URLs
are never printed.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

EXIT_FAILED = 1
"""The environment: database down, locked or read-only, disk full, permissions."""
EXIT_INVALID = 2
"""The input or a setting was refused."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
DATABASE = "cuiban.database"
"""ctx.meta key: the URL of the database the command opened (for the sentences)."""
BUSY_TIMEOUT = "cuiban.busy_timeout"
"""ctx.meta key: how long SQLite waited for a lock, in seconds."""
URL_HINT = "sqlite:///FILE (a SQLite file) or postgresql+psycopg://USER@HOST:PORT/DATABASE"


class Refused(click.ClickException):
    """The input was refused: the message alone on stderr (no "Error:"), exit 2."""

    exit_code = EXIT_INVALID

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


class SettingsError(Refused, ValueError):
    """A setting in the environment (CUIBAN_*) has a value that cannot be used; exit 2.

    A ValueError too, so code that already turns ValueErrors into sentences keeps working."""


class Stopped(BaseException):  # noqa: N818 - it is not an error: the command was asked to stop
    """Raised in the main thread by the handler of SIGTERM or SIGINT while a command runs.

    A BaseException, so `except Exception` blocks let it through and every `with`
    block on the way out runs: transactions roll back, child processes are ended."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(self.name)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGINT raise `Stopped` (once; a second one waits for the
    clean-up). Only in the main thread (signals are delivered there); elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise Stopped(signum)

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# ── URLs and secrets ──

_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@\s]*(@)")


def shown_url(url: str) -> str:
    """The URL with its password as ***, whether or not it parses."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        return _PASSWORD_IN_URL.sub(r"\1***\2", url)


def _password(url: str | None) -> str | None:
    if not url:
        return None
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password
    except Exception:  # noqa: BLE001 - an unparseable URL: the pattern hides what it can
        match = re.search(r"://[^:/@\s]*:([^@\s]*)@", url)
        return match.group(1) if match else None


def scrubbed(text: str, url: str | None) -> str:
    """`text` with the database URL's password, and any password in a URL, as ***."""
    password = _password(url)
    if password:
        text = text.replace(str(password), "***")
    return _PASSWORD_IN_URL.sub(r"\1***\2", text)


def sqlite_file(url: str | None) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    if not url:
        return None
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    name = parsed.database.removeprefix("file:") if parsed.query.get("uri") else parsed.database
    return Path(name)


def database_name(url: str | None) -> str:
    """How a sentence names the database: the SQLite file, or the URL without its password."""
    if not url:
        return "the database"
    file = sqlite_file(url)
    return str(file) if file is not None else shown_url(url)


# ── exceptions → sentences ──


@dataclass(frozen=True)
class Explained:
    sentence: str
    exit_code: int
    lines: tuple[str, ...] = ()
    """Lines printed before the sentence (a rejected file's problems, a plan's errors)."""


def explain(
    error: BaseException, url: str | None = None, busy_timeout: float | None = None, language: str = "zh"
) -> Explained | None:
    """The sentence and exit code for a known kind of error; None for an unexpected one.

    `language`: the plan's (zh unless en), in which a refused file or input is named."""
    from sqlalchemy import exc

    from cuiban.intake.tables import UnreadableFile
    from cuiban.planfile.loader import PlanInvalid
    from cuiban.services.rejection import FileRejected, Refusal, said
    from cuiban.workflow.wording import say

    if isinstance(error, FileRejected):
        sentence = error.summary().say(language)
        return Explained(sentence, EXIT_INVALID, tuple(error.lines(language)))
    if isinstance(error, PlanInvalid):
        errors, source = error.loaded.errors, error.loaded.source
        sentence = say(error.loaded.language, "plan.invalid", file=source, count=len(errors))
        return Explained(sentence, EXIT_INVALID, tuple(str(p) for p in errors))
    if isinstance(error, Refusal | UnreadableFile):  # the services' refusals, each one sentence
        return Explained("\n".join(said(error, language)), EXIT_INVALID)
    if isinstance(error, exc.DBAPIError) and error.orig is not None:
        return _database_error(error.orig, url, busy_timeout)
    if isinstance(error, exc.NoSuchModuleError):
        return Explained(
            f"cuiban cannot open this kind of database ({error}); write the URL as {URL_HINT}", EXIT_INVALID
        )
    if isinstance(error, exc.ArgumentError) and "URL" in str(error):
        shown = shown_url(url) if url else "the database URL"
        return Explained(f"{shown} is not a database URL; write it as {URL_HINT}", EXIT_INVALID)
    if isinstance(error, OSError):
        return _os_error(error)
    return None


def _database_error(orig: BaseException, url: str | None, busy_timeout: float | None) -> Explained | None:
    name = database_name(url)
    message = str(orig).strip()
    first = message.splitlines()[0] if message else type(orig).__name__
    if type(orig).__module__.startswith("sqlite3"):
        return _sqlite_error(first, url, name, busy_timeout)
    if type(orig).__module__.startswith("psycopg"):
        return _postgres_error(orig, first, message, name)
    return None


def _sqlite_error(message: str, url: str | None, name: str, busy_timeout: float | None) -> Explained | None:
    lowered = message.lower()
    file = sqlite_file(url)
    if "locked" in lowered or "busy" in lowered:
        waited = f" after waiting {busy_timeout:g} s" if busy_timeout is not None else ""
        return Explained(
            f"the database {name} is locked by another process (still busy{waited}); run the command "
            "again when the other one has finished, or set CUIBAN_DB_BUSY_TIMEOUT (seconds) to wait longer",
            EXIT_FAILED,
        )
    if "unable to open database file" in lowered:
        return _sqlite_unopenable(file, name)
    if "readonly database" in lowered or "read-only" in lowered:
        return _sqlite_read_only(file, name)
    if "disk is full" in lowered:
        return Explained(f"the disk holding the database {name} is full; free some space and run again", 1)
    if "not a database" in lowered or "malformed" in lowered:
        return Explained(
            f"{name} is not a SQLite database (or it is damaged); give --db the cuiban database's file",
            EXIT_INVALID,
        )
    if "disk i/o error" in lowered:
        return Explained(f"a disk error while using the database {name}; check the disk and run again", 1)
    return None


def _sqlite_unopenable(file: Path | None, name: str) -> Explained:
    if file is None:
        return Explained(f"cannot open the SQLite database {name}; check the path in --db or $CUIBAN_DB", 1)
    folder = file.absolute().parent
    if file.is_dir():
        return Explained(
            f"{file} is a folder; --db must name a SQLite file, e.g. sqlite:///{file / 'cuiban.sqlite3'}",
            EXIT_INVALID,
        )
    if not folder.is_dir():
        return Explained(
            f"cannot create the SQLite database {file}: the folder {folder} does not exist; "
            "create it or give --db a path in an existing folder",
            EXIT_INVALID,
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return Explained(
            f"cannot create the SQLite database {file}: the folder {folder} is not writable by this user; "
            "fix its permissions or give --db a path in a writable folder",
            EXIT_FAILED,
        )
    if file.exists() and not os.access(file, os.R_OK | os.W_OK):
        return Explained(
            f"cannot open the SQLite database {file}: this user may not read and write it; "
            "fix its permissions",
            EXIT_FAILED,
        )
    return Explained(f"cannot open the SQLite database {file}; check the path and its permissions", 1)


def _sqlite_read_only(file: Path | None, name: str) -> Explained:
    if file is not None and file.exists() and not os.access(file, os.W_OK):
        why = "the file is read-only for this user; make it writable"
    elif file is not None and not os.access(file.absolute().parent, os.W_OK | os.X_OK):
        why = (
            f"its folder {file.absolute().parent} is read-only for this user, and SQLite writes its "
            f"journal ({file.name}-wal) there; make the folder writable"
        )
    else:
        why = "it was opened read-only (a read-only mount or mode=ro); open it writable"
    return Explained(f"cannot write to the database {name}: {why}", EXIT_FAILED)


_UNREACHABLE = (
    "connection refused",
    "could not translate host name",
    "name or service not known",
    "no route to host",
    "timeout expired",
    "timed out",
    "network is unreachable",
    "server closed the connection",
    "no such file or directory",  # a Unix socket that is not there
    "connection reset",
    "the database system is starting up",
    "the database system is shutting down",
)


def _postgres_error(orig: BaseException, first: str, message: str, name: str) -> Explained | None:
    lowered = message.lower()
    state = getattr(orig, "sqlstate", None) or ""
    reason = re.sub(r"^connection failed: ", "", first)
    reason = re.sub(r'^connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: ', "", reason)
    reason = reason.removeprefix("FATAL:").strip()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return Explained(
            f"the PostgreSQL server refused the login for {name}: {reason}; "
            "check the user and password in --db or $CUIBAN_DB",
            EXIT_INVALID,
        )
    if re.search(r'(database|role) "[^"]*" does not exist', lowered):
        return Explained(
            f"cannot use the database {name}: {reason}; create it or fix the name in --db or $CUIBAN_DB",
            EXIT_INVALID,
        )
    if state == "25006" or "read-only transaction" in lowered:
        return Explained(
            f"cannot write to the database {name}: the server accepts reads only (a standby?); "
            "point --db at the primary server",
            EXIT_FAILED,
        )
    if state == "53100" or "no space left" in lowered:
        return Explained(f"the PostgreSQL server of {name} is out of disk space; free some and run again", 1)
    if state in ("55P03", "40P01") or "lock timeout" in lowered:
        return Explained(f"the database {name} is locked by another process; run the command again later", 1)
    connecting = lowered.startswith("connection failed") or "connection to server" in lowered
    if state.startswith(("08", "57P")) or connecting or any(w in lowered for w in _UNREACHABLE):
        return Explained(
            f"cannot reach the database {name}: {reason}; is the PostgreSQL server running, "
            "and are the host and port in --db or $CUIBAN_DB right?",
            EXIT_FAILED,
        )
    return None


def _os_error(error: OSError) -> Explained:
    name = error.filename
    what = error.strerror or str(error)
    if name is None:
        if error.errno == errno.ENOSPC:
            return Explained("the disk is full; free some space and run again", EXIT_FAILED)
        return Explained(f"the system refused: {what}; run with --debug for details", EXIT_FAILED)
    if isinstance(error, IsADirectoryError):
        return Explained(f"{name} is a folder where a file is expected; name a file", EXIT_INVALID)
    if isinstance(error, NotADirectoryError):
        return Explained(f"{name}: part of this path is a file where a folder is expected", EXIT_INVALID)
    if isinstance(error, FileNotFoundError):
        return Explained(f"{name}: no such file or folder; check the path", EXIT_INVALID)
    if isinstance(error, FileExistsError):
        return Explained(f"{name} is already there (a file where a folder is expected?); choose another", 2)
    if isinstance(error, PermissionError):
        return Explained(f"permission denied for {name}; check its owner and permissions", EXIT_FAILED)
    if error.errno == errno.ENOSPC:
        return Explained(f"the disk holding {name} is full; free some space and run again", EXIT_FAILED)
    if error.errno == errno.EROFS:
        return Explained(f"{name} is on a read-only file system; choose a writable place", EXIT_FAILED)
    return Explained(f"{name}: {what}", EXIT_FAILED)


def unexpected(error: BaseException) -> str:
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError) and error.orig is not None:  # the driver's words, not the SQL
        error = error.orig
    text = " ".join(str(error).split())
    if len(text) > 160:
        text = text[:157] + "…"
    return (
        f"cuiban failed: {type(error).__name__}"
        + (f": {text}" if text else "")
        + ("; run with --debug for details")
    )


HELP_ASKED = "cuiban.help_asked"
"""`ctx.meta` key: a subcommand's --help is on the command line, so settings are not read."""


class CuibanGroup(click.Group):
    """The `cuiban` group: runs a command with SIGTERM/SIGINT as `Stopped`, and turns what it
    raises into one sentence on stderr and an exit code (the traceback too with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        from cuiban.models.unit_of_work import commits

        # A command's help reads nothing: someone fixing a bad setting can still read it.
        ctx.meta[HELP_ASKED] = any(arg in ctx.help_option_names for arg in ctx.args)
        committed = commits()
        try:
            with stop_on_signals():
                return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Stopped as stop:
            self._traceback(ctx)
            if commits() == committed:
                sentence = f"stopped by {stop.name}; nothing was changed"
            else:
                sentence = (
                    f"stopped by {stop.name}; the transaction in progress was rolled back "
                    "(what earlier steps committed, e.g. messages already sent, is kept)"
                )
            click.echo(sentence, err=True)
            raise SystemExit(stop.exit_code) from None
        except Exception as error:  # noqa: BLE001 - the one place every failure becomes a sentence
            url = ctx.meta.get(DATABASE)
            known = explain(error, url, ctx.meta.get(BUSY_TIMEOUT), self._language(ctx))
            self._traceback(ctx)
            if known is None:
                click.echo(scrubbed(unexpected(error), url), err=True)
                raise SystemExit(EXIT_FAILED) from None
            for line in known.lines:
                click.echo(scrubbed(line, url), err=True)
            click.echo(scrubbed(known.sentence, url), err=True)
            raise SystemExit(known.exit_code) from None

    @staticmethod
    def _language(ctx: click.Context) -> str:
        """The plan's language when the command has loaded its plan (never loaded here), else zh."""
        loaded = vars(ctx.obj).get("loaded") if ctx.obj is not None and hasattr(ctx.obj, "__dict__") else None
        plan = getattr(loaded, "plan", None)
        return "en" if getattr(plan, "language", "zh") == "en" else "zh"

    @staticmethod
    def _traceback(ctx: click.Context) -> None:
        settings = getattr(ctx.obj, "settings", None)  # the application's, once the group has made it
        if ctx.params.get("debug") or getattr(settings, "debug", False):
            url = ctx.meta.get(DATABASE)
            text = "".join(traceback.format_exception(*sys.exc_info()))
            click.echo(scrubbed(text, url), err=True, nl=False)
