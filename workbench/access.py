"""Signed leader links: HMAC-SHA256 tokens over (unit, wave, expiry) with a server-side secret.

A unit leader opens the leader page through a link made by ``workbench links``. The link
carries a token ``<payload>.<signature>`` (both base64url, no padding): the payload names the
unit, the wave and the expiry time; the signature is HMAC-SHA256 over the payload with a
secret that only the server knows. Nobody can make a link for another unit, or stretch the
expiry, without the secret; any change to a token is found by :func:`verify`.

The secret is 32 random bytes, written by workbench to ``<dataset>/.workbench/secret`` (or the
file named by ``$WORKBENCH_SECRET_FILE``, or an explicit path) with owner-only permissions
(folder 0700, file 0600). It never goes into a notebook, a page or a log; ``.workbench/`` is
git-ignored. Replace the file to revoke every link at once.

Examples
--------
>>> secret = b"0" * 32
>>> token = sign(secret, "NV-FYS", "2021", expires=4_102_444_800)
>>> verify(token, secret, now=1_700_000_000)
Grant(unit='NV-FYS', wave='2021', expires=4102444800)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import pandas as pd

from workbench.errors import UsageError, WorkbenchError

__all__ = ["SECRET_ENV", "QUERY_KEY", "REASONS", "Grant", "Refused", "secret_path",
           "workbench_folder",
           "ensure_secret", "load_secret", "sign", "verify", "token_from_query", "leader_url",
           "published_units", "links_table"]

#: Environment variable naming the secret file (overrides ``<dataset>/.workbench/secret``).
SECRET_ENV = "WORKBENCH_SECRET_FILE"
#: The query-string key that carries the token in a leader link (``...?t=<token>``).
QUERY_KEY = "t"
#: Why a token is refused, in the order :func:`verify` checks.
REASONS = ("missing", "malformed", "tampered", "expired", "unknown_unit")

_CONTEXT = b"workbench-leader-link-v1\n"  # domain separation: this secret signs links only
_SECRET_BYTES = 32
_MAX_TOKEN = 600  # a real token is ~120 characters; longer input is refused unparsed


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: one unit (and its subtree) in one wave, until ``expires``."""

    unit: str
    wave: str
    expires: int


class Refused(WorkbenchError):
    """A token that grants nothing; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"link refused ({reason}){': ' + detail if detail else ''}")
        self.reason = reason


# ---------------------------------------------------------------------------------------------
# the secret


def secret_path(dataset: str | Path | None = None, explicit: str | Path | None = None) -> Path:
    """Where the secret lives: ``explicit``, else ``$WORKBENCH_SECRET_FILE``, else
    ``<dataset>/.workbench/secret``.

    ``dataset`` may also be a release folder: the dataset's own release
    (``<dataset>/.workbench/release``) shares the dataset's secret, and another release folder
    keeps it in a ``.workbench`` folder beside it (never inside the release, which is
    replaced whole when it is built again).
    """
    if explicit:
        return Path(explicit)
    if os.environ.get(SECRET_ENV):
        return Path(os.environ[SECRET_ENV])
    if dataset is None:
        raise UsageError(f"no secret file: give the dataset folder or set {SECRET_ENV}")
    return workbench_folder(dataset) / "secret"


def workbench_folder(path: str | Path) -> Path:
    """The ``.workbench`` folder that belongs to a dataset or a release folder.

    A dataset's is ``DATASET/.workbench``; its own release (``DATASET/.workbench/release``)
    belongs to the same one; another release folder has one beside it.
    """
    folder = Path(path)
    if (folder / "manifest.json").is_file() and not (folder / "survey.yaml").is_file():
        return folder.parent if folder.parent.name == ".workbench" else \
            folder.parent / ".workbench"
    return folder / ".workbench"


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(f"the secret {path} can be read by other users (mode "
                         f"{stat.filemode(mode)}); run 'chmod 600 {path}' or delete it to make "
                         "a new one (old links stop working)")


def load_secret(path: str | Path) -> bytes:
    """Read the secret; UsageError when it is missing, malformed or readable by others."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no secret at {path}: run 'workbench links' or 'workbench serve' to "
                         "make one")
    _check_private(path)
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        raise UsageError(f"the secret {path} is not what workbench writes (64 hex digits); "
                         "delete it to make a new one (old links stop working)") from None
    if len(secret) < 16:
        raise UsageError(f"the secret {path} is too short; delete it to make a new one")
    return secret


def ensure_secret(path: str | Path) -> bytes:
    """Load the secret at ``path``, creating it (0600, folder 0700) when it does not exist."""
    path = Path(path)
    if path.exists():
        return load_secret(path)
    value = secrets.token_bytes(_SECRET_BYTES)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once never overwrite each other's secret
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_secret(path)
    except OSError as exc:
        raise UsageError(f"cannot write the secret {path} ({exc.strerror}); set "
                         f"{SECRET_ENV} to a file in a folder you can write to") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value.hex() + "\n")
    return value


# ---------------------------------------------------------------------------------------------
# tokens


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _CONTEXT + payload, hashlib.sha256).digest()


def sign(secret: bytes, unit: str, wave: str, expires: int | float) -> str:
    """A token for ``unit`` in ``wave`` valid until ``expires`` (seconds since the epoch)."""
    if not secret:
        raise UsageError("sign needs the secret (see ensure_secret)")
    payload = json.dumps({"u": str(unit), "w": str(wave), "e": int(expires)},
                         separators=(",", ":"), sort_keys=True).encode("utf-8")
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify(token: str | None, secret: bytes, now: float | None = None,
           known: Callable[[str, str], bool] | None = None) -> Grant:
    """Check a token; return its :class:`Grant` or raise :class:`Refused`.

    Parameters
    ----------
    token
        The token from the link (None or empty: ``missing``).
    secret
        The server-side secret.
    now
        The time to check expiry against (default: now).
    known
        ``known(unit, wave)`` is True when the unit exists and is published in that wave;
        otherwise the token is refused as ``unknown_unit``.

    Raises
    ------
    Refused
        ``missing``, ``malformed`` (not two base64url parts), ``tampered`` (the signature does
        not match: a changed unit, wave or expiry, or another secret), ``expired``,
        ``unknown_unit``. Nothing in a token is trusted before its signature is checked.
    """
    if token is None or not str(token).strip():
        raise Refused("missing")
    token = str(token).strip()
    if len(token) > _MAX_TOKEN or token.count(".") != 1:
        raise Refused("malformed")
    encoded, signature = token.split(".")
    try:
        payload, given = _unb64(encoded), _unb64(signature)
    except (ValueError, binascii.Error):
        raise Refused("malformed") from None
    if not hmac.compare_digest(_mac(secret, payload), given):
        raise Refused("tampered")
    try:
        data = json.loads(payload.decode("utf-8"))
        grant = Grant(unit=str(data["u"]), wave=str(data["w"]), expires=int(data["e"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise Refused("malformed") from None
    if (time.time() if now is None else now) >= grant.expires:
        raise Refused("expired")
    if known is not None and not known(grant.unit, grant.wave):
        raise Refused("unknown_unit")
    return grant


def token_from_query(query: str | None) -> str | None:
    """The token in a query string (``t=...``); None when absent or given twice."""
    if not query:
        return None
    values = parse_qs(query.lstrip("?"), keep_blank_values=True).get(QUERY_KEY, [])
    return values[0] if len(values) == 1 else None


def leader_url(base_url: str, token: str) -> str:
    """The leader link: ``base_url`` with ``?t=<token>`` (base_url must be http or https)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--base-url must be an http(s) address such as "
                         f"http://127.0.0.1:8867/, got {base_url!r}")
    if parts.query or parts.fragment:
        raise UsageError(f"--base-url must not have a query or fragment, got {base_url!r}")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}?{urlencode({QUERY_KEY: token})}"


# ---------------------------------------------------------------------------------------------
# which units get a link


def published_units(table: pd.DataFrame) -> list[str]:
    """Units of a published stats table with at least one row that is not suppressed."""
    shown = table.loc[~table["suppressed"].astype(bool), "unit_id"]
    order = pd.unique(table["unit_id"])
    keep = set(shown)
    return [u for u in order if u in keep]


def links_table(release, secret: bytes, base_url: str, wave: str | None = None,
                days: float = 60, now: float | None = None, lang: str | None = None
                ) -> pd.DataFrame:
    """One signed link per unit published in ``wave`` (default: the last wave).

    Units the privacy rules hide (fewer than ``min_n`` answers, or hidden by the complement
    rule) get no link: their page would show nothing.

    Parameters
    ----------
    release
        A :class:`workbench.release.Release` (or a dataset or release folder).

    Returns
    -------
    DataFrame
        ``unit_id, unit_name, wave, url``, in the order of ``units.csv``.
    """
    from workbench.release import Release, open_release
    from workbench.stats import check_wave

    if not isinstance(release, Release):
        release = open_release(release)
    if days <= 0:
        raise UsageError(f"--days must be positive, got {days}")
    label = release.waves[-1] if wave is None else check_wave(release, wave)[0]
    lang = lang or release.config.language
    factors = release.tables["factors"]
    table = factors.loc[factors["wave"].astype(str) == label, ["unit_id", "suppressed"]]
    hierarchy = release.hierarchy(label)
    expires = int((time.time() if now is None else now) + days * 86400)
    rows = [{"unit_id": unit, "unit_name": hierarchy.name(unit, lang), "wave": label,
             "url": leader_url(base_url, sign(secret, unit, label, expires))}
            for unit in published_units(table)]
    return pd.DataFrame(rows, columns=["unit_id", "unit_name", "wave", "url"])
