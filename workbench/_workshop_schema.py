"""The workshop store's tables and their migrations (a small versioned schema, no Alembic).

Why not Alembic: the store has a handful of tables, two back ends (SQLite, PostgreSQL) and
is migrated by the workbench itself when it opens a store (a leader page, ``workbench
workshop``), never by an operator with a separate tool. Ordered steps in Python, each
recorded in ``ws_schema_version`` inside the same transaction as its DDL, give that with no
extra dependency, no ini file and no import cost; both back ends run DDL in transactions, so
a step is applied wholly or not at all. Alembic's strengths (autogenerate, branches,
downgrades) are not needed here. Adding a step: write ``_step_N(conn)`` with plain DDL that
both back ends accept, append it to :data:`STEPS`, update :func:`tables` to the new layout,
and add a test that migrates a database of version N-1 holding data.

Concurrency: a process that finds the schema behind takes the write lock (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: a transaction-level advisory lock), reads the version again and
applies what is still missing, so two processes opening a new store at once migrate it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from workbench.errors import UsageError

__all__ = ["LATEST", "STEPS", "Step", "tables", "schema_version", "migrate", "PREFIX"]

#: Every table of the store starts with this, so a shared PostgreSQL database can hold it
#: beside other applications' tables.
PREFIX = "ws_"

# An arbitrary constant for pg_advisory_xact_lock: "workbench workshop schema".
_PG_LOCK = 7_305_119_202_611


def _ids(meta: sa.MetaData, name: str, *columns: sa.Column, keyed: bool = True,
         **kw) -> sa.Table:
    """A record table: the unit and wave it belongs to, its columns, version and audit."""
    return sa.Table(
        PREFIX + name, meta,
        sa.Column("wave", sa.String(32), nullable=False, primary_key=keyed),
        sa.Column("unit_id", sa.String(200), nullable=False, primary_key=keyed),
        *columns,
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        **kw)


def _v1(meta: sa.MetaData) -> dict[str, sa.Table]:
    """The first layout: votes, chosen factors, future picture, action plan, parking lot,
    change log."""
    out = {
        "schema_version": sa.Table(
            PREFIX + "schema_version", meta,
            sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("description", sa.Text, nullable=False),
            sa.Column("applied_at", sa.String(32), nullable=False)),
        "choices": _ids(meta, "choices", sa.Column("factors", sa.Text, nullable=False)),
        "pictures": _ids(meta, "pictures",
                         sa.Column("employees", sa.Text, nullable=False),
                         sa.Column("leader", sa.Text, nullable=False),
                         sa.Column("organisation", sa.Text, nullable=False)),
        "votes": _ids(meta, "votes",
                      sa.Column("factor", sa.String(64), primary_key=True),
                      sa.Column("pleased", sa.Integer, nullable=False),
                      sa.Column("improve", sa.Integer, nullable=False),
                      sa.Column("pleased_reasons", sa.Text, nullable=False),
                      sa.Column("improve_reasons", sa.Text, nullable=False)),
        "actions": _ids(meta, "actions",
                        sa.Column("id", sa.String(32), primary_key=True),
                        sa.Column("ordinal", sa.Integer, nullable=False),
                        sa.Column("factor", sa.String(64), nullable=False),
                        sa.Column("area", sa.Text, nullable=False),
                        sa.Column("measure", sa.Text, nullable=False),
                        sa.Column("measure_key", sa.String(64), nullable=False),
                        sa.Column("goal", sa.Text, nullable=False),
                        sa.Column("responsible", sa.Text, nullable=False),
                        sa.Column("deadline", sa.String(10), nullable=True),
                        sa.Column("status", sa.String(10), nullable=False),
                        sa.UniqueConstraint("wave", "unit_id", "factor", "measure_key",
                                            name=PREFIX + "actions_measure"),
                        keyed=False),
        "parking": _ids(meta, "parking",
                        sa.Column("id", sa.String(32), primary_key=True),
                        sa.Column("ordinal", sa.Integer, nullable=False),
                        sa.Column("issue", sa.Text, nullable=False),
                        sa.Column("passed_by", sa.Text, nullable=False),
                        sa.Column("passed_to", sa.Text, nullable=False),
                        sa.Column("answer", sa.Text, nullable=False),
                        keyed=False),
        "changes": sa.Table(
            PREFIX + "changes", meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("at", sa.String(32), nullable=False),
            sa.Column("wave", sa.String(32), nullable=False),
            sa.Column("unit_id", sa.String(200), nullable=False),
            sa.Column("record", sa.String(16), nullable=False),
            sa.Column("record_id", sa.String(80), nullable=False),
            sa.Column("operation", sa.String(8), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("via", sa.String(16), nullable=False),
            sa.Column("actor", sa.String(200), nullable=False),
            sa.Column("before", sa.Text, nullable=True),
            sa.Column("after", sa.Text, nullable=True)),
    }
    sa.Index(PREFIX + "actions_unit", out["actions"].c.wave, out["actions"].c.unit_id)
    sa.Index(PREFIX + "parking_unit", out["parking"].c.wave, out["parking"].c.unit_id)
    sa.Index(PREFIX + "changes_unit", out["changes"].c.wave, out["changes"].c.unit_id)
    return out


def tables(meta: sa.MetaData | None = None) -> dict[str, sa.Table]:
    """The current layout (:data:`LATEST`), as the store reads and writes it."""
    meta = meta or sa.MetaData()
    out = _v1(meta)
    actions = out["actions"]
    # version 2: each measure's place in the priority matrix, and the extra columns of an
    # actions.csv (JSON text: both back ends store it the same way)
    actions.append_column(sa.Column("impact", sa.String(8), nullable=True))
    actions.append_column(sa.Column("feasibility", sa.String(8), nullable=True))
    actions.append_column(sa.Column("extra", sa.Text, nullable=False, server_default="{}"))
    return out


@dataclass(frozen=True)
class Step:
    """One migration: from ``version - 1`` to ``version``."""

    version: int
    description: str
    apply: Callable[[sa.Connection], None]


def _step_1(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    _v1(meta)
    meta.create_all(conn)


def _step_2(conn: sa.Connection) -> None:
    # plain ADD COLUMN: SQLite and PostgreSQL both accept it inside a transaction
    for ddl in ("ADD COLUMN impact VARCHAR(8)", "ADD COLUMN feasibility VARCHAR(8)",
                "ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'"):
        conn.execute(sa.text(f"ALTER TABLE {PREFIX}actions {ddl}"))


#: The migrations, in order; the schema's version is the last one applied.
STEPS: tuple[Step, ...] = (
    Step(1, "workshop records (votes, chosen factors, future picture, action plan, parking "
            "lot) and the change log", _step_1),
    Step(2, "priority matrix (impact, feasibility) and extra columns of the action plan",
         _step_2),
)

#: The schema version this workbench reads and writes.
LATEST = STEPS[-1].version


def schema_version(conn: sa.Connection) -> int:
    """The version of the store's schema (0: an empty database)."""
    if not sa.inspect(conn).has_table(PREFIX + "schema_version"):
        return 0
    found = conn.execute(sa.text(f"SELECT MAX(version) FROM {PREFIX}schema_version")).scalar()
    return int(found or 0)


def _too_new(version: int) -> UsageError:
    return UsageError(f"the workshop store has schema version {version}, newer than this "
                      f"workbench knows ({LATEST}); upgrade the workbench")


def migrate(engine: sa.Engine, target: int | None = None, now: str = "") -> int:
    """Bring the store's schema up to ``target`` (default :data:`LATEST`); return the version.

    Safe to call from several processes at once: the steps run under the database's write
    lock and the version is read again once the lock is held.
    """
    target = LATEST if target is None else int(target)
    if not 0 <= target <= LATEST:
        raise UsageError(f"schema version {target} is not known; versions 1-{LATEST}")
    with engine.connect() as conn:
        version = schema_version(conn)
    if version > LATEST:
        raise _too_new(version)
    if version >= target:
        return version
    writer = engine.execution_options(workbench_write=True)
    with writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        version = schema_version(conn)
        if version > LATEST:
            raise _too_new(version)
        for step in STEPS:
            if version < step.version <= target:
                step.apply(conn)
                conn.execute(sa.text(f"INSERT INTO {PREFIX}schema_version (version, "
                                     "description, applied_at) VALUES (:v, :d, :t)"),
                             {"v": step.version, "d": step.description, "t": now})
                version = step.version
    return version
