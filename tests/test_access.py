"""Signed leader links: tokens, the secret, and ``workbench links``."""

from __future__ import annotations

import base64
import hmac
import json
import os
import stat

import pandas as pd
import pytest
from conftest import SAMPLES

from workbench import access
from workbench.access import (
    Grant,
    Refused,
    ensure_secret,
    leader_url,
    links_table,
    load_secret,
    sign,
    token_from_query,
    verify,
)
from workbench.cli import main
from workbench.errors import UsageError
from workbench.stats import stats_table

SECRET = bytes(range(32))
NOW = 1_800_000_000.0
LATER = int(NOW) + 3600


def reason(token, secret=SECRET, **kwargs) -> str:
    with pytest.raises(Refused) as caught:
        verify(token, secret, now=NOW, **kwargs)
    return caught.value.reason


def test_sign_and_verify():
    token = sign(SECRET, "NV-FYS", "2021", LATER)
    assert verify(token, SECRET, now=NOW) == Grant("NV-FYS", "2021", LATER)
    # urlsafe: nothing in it needs escaping in a query string
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_signature_is_hmac_sha256_of_the_payload():
    token = sign(SECRET, "U", "2023", LATER)
    payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert json.loads(raw) == {"u": "U", "w": "2023", "e": LATER}
    expected = hmac.new(SECRET, b"workbench-leader-link-v1\n" + raw, "sha256").digest()
    assert base64.urlsafe_b64decode(signature + "=") == expected


def test_missing_and_malformed():
    for token in (None, "", "   "):
        assert reason(token) == "missing"
    good = sign(SECRET, "U", "2023", LATER)
    for token in ("abc", "a.b.c", good + ".x", "!!!." + good.split(".")[1], "x" * 700,
                  good.split(".")[0] + ".", "." + good.split(".")[1], "ab$.cd"):
        assert reason(token) == "malformed", token


def test_tampered():
    token = sign(SECRET, "NV-FYS", "2021", LATER)
    payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert reason(f"{payload}.{flipped}") == "tampered"
    # another unit's payload with this unit's signature (the "other-unit link")
    other = sign(SECRET, "NV-KJE", "2021", LATER).split(".")[0]
    assert reason(f"{other}.{signature}") == "tampered"
    # a longer expiry written into the payload by hand
    forged = base64.urlsafe_b64encode(json.dumps(
        {"e": LATER * 2, "u": "NV-FYS", "w": "2021"}, separators=(",", ":")).encode())
    assert reason(forged.decode().rstrip("=") + "." + signature) == "tampered"
    # signed with another secret
    assert reason(sign(b"another secret of enough bytes!", "NV-FYS", "2021", LATER)) == "tampered"


def test_expired_only_after_the_signature_is_checked():
    assert reason(sign(SECRET, "U", "2023", int(NOW))) == "expired"
    assert reason(sign(SECRET, "U", "2023", int(NOW) - 86400)) == "expired"
    assert verify(sign(SECRET, "U", "2023", int(NOW) + 1), SECRET, now=NOW).unit == "U"


def test_unknown_unit():
    token = sign(SECRET, "GONE", "2023", LATER)
    assert reason(token, known=lambda unit, wave: unit != "GONE") == "unknown_unit"


def test_compare_is_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(access.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    verify(sign(SECRET, "U", "2023", LATER), SECRET, now=NOW)
    assert calls == [1]


def test_token_from_query():
    assert token_from_query("t=abc.def") == "abc.def"
    assert token_from_query("?t=abc.def&lang=en") == "abc.def"
    assert token_from_query("t=a&t=b") is None  # two tokens: neither is trusted
    assert token_from_query("") is None
    assert token_from_query(None) is None
    assert token_from_query("unit=EU") is None


def test_leader_url():
    assert leader_url("http://127.0.0.1:8867", "a.b") == "http://127.0.0.1:8867/?t=a.b"
    assert leader_url("https://x.example/leder/", "a.b") == "https://x.example/leder/?t=a.b"
    for bad in ("ftp://x/", "127.0.0.1:8867", "http://x/?a=1", "javascript:alert(1)"):
        with pytest.raises(UsageError):
            leader_url(bad, "a.b")


def test_secret_is_made_owner_only(tmp_path):
    path = tmp_path / "ds" / ".workbench" / "secret"
    secret = ensure_secret(path)
    assert len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert ensure_secret(path) == secret == load_secret(path)
    path.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        load_secret(path)
    path.chmod(0o600)
    path.write_text("not hex\n")
    with pytest.raises(UsageError):
        load_secret(path)
    with pytest.raises(UsageError, match="no secret"):
        load_secret(tmp_path / "missing")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if not os.access(locked, os.W_OK):  # root may write anyway
        with pytest.raises(UsageError, match="WORKBENCH_SECRET_FILE"):
            ensure_secret(locked / ".workbench" / "secret")


def test_secret_path(tmp_path, monkeypatch):
    monkeypatch.delenv(access.SECRET_ENV, raising=False)
    assert access.secret_path(tmp_path) == tmp_path / ".workbench" / "secret"
    # a dataset's own release shares the dataset's secret; another release keeps one beside
    # it, never inside (a release folder is replaced whole when it is built again)
    own = tmp_path / ".workbench" / "release"
    own.mkdir(parents=True)
    (own / "manifest.json").write_text('{"format": 1}')
    assert access.secret_path(own) == tmp_path / ".workbench" / "secret"
    other = tmp_path / "out" / "rel"
    other.mkdir(parents=True)
    (other / "manifest.json").write_text('{"format": 1}')
    assert access.secret_path(other) == tmp_path / "out" / ".workbench" / "secret"
    monkeypatch.setenv(access.SECRET_ENV, str(tmp_path / "s"))
    assert access.secret_path(tmp_path) == tmp_path / "s"
    assert access.secret_path(tmp_path, tmp_path / "e") == tmp_path / "e"


def test_links_only_for_published_units(municipality_release):
    release = municipality_release
    table = links_table(release, SECRET, "http://127.0.0.1:8867/", now=NOW, days=30)
    assert list(table.columns) == ["unit_id", "unit_name", "wave", "url"]
    published = stats_table(release, wave="2023")
    hidden = published.groupby("unit_id")["suppressed"].all()
    assert set(table["unit_id"]) == set(hidden.index[~hidden])
    assert hidden.any(), "the sample should have units under min_n"
    # a unit without a single published cell gets no link, whatever hid it
    assert not set(hidden.index[hidden]) & set(table["unit_id"])
    assert table["unit_id"].tolist() == [u for u in release.hierarchy("2023").ids
                                         if u in set(table["unit_id"])]
    names = release.hierarchy("2023")
    assert table["unit_name"].tolist() == [names.name(u) for u in table["unit_id"]]
    for _, row in table.iterrows():
        assert row["url"].startswith("http://127.0.0.1:8867/?t=")
        grant = verify(token_from_query(row["url"].split("?", 1)[1]), SECRET, now=NOW)
        assert (grant.unit, grant.wave) == (row["unit_id"], "2023")
        assert grant.expires == int(NOW + 30 * 86400)
    # the same from the release folder, in English
    again = links_table(release.path, SECRET, "http://127.0.0.1:8867/", now=NOW, days=30,
                        lang="en")
    assert again["unit_id"].tolist() == table["unit_id"].tolist()
    assert again["unit_name"].tolist() == [names.name(u, "en") for u in table["unit_id"]]


def test_links_command(tmp_path, capsys):
    secret = tmp_path / "secret"
    out = tmp_path / "links.csv"
    code = main(["links", str(SAMPLES / "municipality"), "--base-url", "http://h:1/",
                 "--out", str(out), "--secret", str(secret), "--wave", "2021", "--days", "2"])
    assert code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # the links are keys
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    table = pd.read_csv(out, dtype=str)
    assert (table["wave"] == "2021").all() and len(table) > 10
    grant = verify(token_from_query(table["url"].iloc[0].split("?")[1]), load_secret(secret))
    assert grant.unit == table["unit_id"].iloc[0]
    assert main(["links", str(SAMPLES / "municipality"), "--base-url", "nope",
                 "--secret", str(secret)]) == 2
    assert "--base-url" in capsys.readouterr().err
