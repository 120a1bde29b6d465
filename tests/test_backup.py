"""Backups of the SQLite database: checked copies on real files, kept and pruned, reported to the
admin chat once per failure streak, and restorable."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pytz.tzinfo import BaseTzInfo

from config import load_settings
from database.backup import BackupError, check_copy, integrity_problems, make_backup
from database.engine import Database
from database.migrate import migrate
from database.sqlite import SqliteDatabase, connect_sync
from domain.outcomes import Outcome
from domain.rules import Rules
from services.backups import BackupService, backup_trigger
from services.booking import ClientBookingService
from tests.conftest import AddService, at, sqlite_only
from tests.support.clock import FakeClock
from tests.test_migrations import ctx
from utils.timeutil import get_tz, to_local

ROOT = Path(__file__).resolve().parent.parent
WED, THU = date(2026, 12, 2), date(2026, 12, 3)
ALICE, BOB = 111, 222


class Reports:
    """The admin chat, as the service sees it."""

    def __init__(self) -> None:
        self.texts: list[str | None] = []  # why backups fail, or None: they work again

    async def __call__(self, reason: str | None) -> None:
        self.texts.append(reason)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows (and the schema itself), in a comparable order."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {
            name: sorted((tuple(r) for r in conn.execute(f'SELECT * FROM "{name}"')), key=repr)
            for name in names
        }
        found["sqlite_master"] = sorted(
            conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"), key=repr
        )
        return found
    finally:
        conn.close()


def corrupt_an_index(path: Path, column: str = "price") -> None:
    """The kind of damage integrity_check finds and plain queries do not: an index that no
    longer matches its table (here its definition is swapped under it)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE name = 'ix_bookings_client'",
            (f"CREATE INDEX ix_bookings_client ON bookings({column})",),
        )
        conn.execute("PRAGMA writable_schema = OFF")
    finally:
        conn.close()


def wipe_a_page(path: Path, index: str) -> None:
    """Zeroes an index's root page in the file (the bot stopped: no -wal to mind)."""
    conn = sqlite3.connect(path)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,))
    finally:
        conn.close()
    assert not path.with_name(path.name + "-wal").exists()
    with path.open("r+b") as file:
        file.seek((root[0] - 1) * page_size)
        file.write(bytes(page_size))


def repair_the_index(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("REINDEX ix_bookings_client")
    finally:
        conn.close()


def backups_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what most systems give: files 0644, folders 0755
    yield
    os.umask(old)


@pytest.fixture
def migrated(db_path: Path, tz: BaseTzInfo) -> Path:
    migrate(db_path, ctx(tz))
    return db_path


async def book_a_few(
    booking: ClientBookingService, add_service: AddService, tz: BaseTzInfo
) -> None:
    haircut = await add_service("Haircut", 60, 1500)
    colour = await add_service("Colouring", 120, 4000, buffer=15)
    made = [
        await booking.book(ALICE, haircut.id, at(tz, WED, "10:00")),
        await booking.book(BOB, colour.id, at(tz, WED, "11:00")),
        await booking.book(ALICE, colour.id, at(tz, THU, "15:00")),
        await booking.book(BOB, haircut.id, at(tz, THU, "10:00")),
    ]
    assert [r.outcome for r in made] == [Outcome.BOOKED] * 4
    cancelled = made[3].booking
    assert cancelled is not None
    assert (await booking.cancel(cancelled.id, BOB)).outcome is Outcome.CANCELLED


# ---------------------------------------------------------------- the copy and a restore


@sqlite_only
async def test_a_backup_holds_every_booking_and_restores_as_a_working_database(
    db_path: Path,
    booking: ClientBookingService,
    add_service: AddService,
    rules: Rules,
    tz: BaseTzInfo,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    await book_a_few(booking, add_service, tz)
    reports = Reports()
    service = BackupService(
        db_path, tmp_path / "backups", keep=7, tz=tz, report=reports, clock=clock
    )

    copy = await service.run_once()  # online: the bot's connections stay open

    assert copy is not None
    assert copy.name == "bot-20261201-080000.db"  # Moscow's wall clock, sortable
    assert integrity_problems(copy) == ["ok"]
    assert tables(copy) == tables(db_path)
    assert len(tables(copy)["bookings"]) == 4
    assert reports.texts == []

    # Restore: the bot stopped, the copy put where DATABASE_URL points, the bot started.
    restored_path = tmp_path / "restored" / "bot.db"
    restored_path.parent.mkdir()
    shutil.copyfile(copy, restored_path)
    assert migrate(restored_path, ctx(tz)).applied == []
    restored = SqliteDatabase(restored_path)
    await restored.open()
    try:
        again = ClientBookingService(restored, rules, clock)
        for client in (ALICE, BOB):
            assert await again.upcoming(client) == await booking.upcoming(client)
        assert len(await again.upcoming(ALICE)) == 2
    finally:
        await restored.close()


def test_copies_are_private_whatever_the_umask(
    migrated: Path, tmp_path: Path, usual_umask: None
) -> None:
    folder = tmp_path / "backups" / "daily"  # neither exists yet
    copy = make_backup(migrated, folder, now=datetime(2026, 12, 3, 3, 30, tzinfo=UTC), keep=3)
    assert mode(copy) == 0o600
    assert mode(folder) == mode(folder.parent) == 0o700
    # One self-contained file: no temporary name, journal, -wal or -shm left beside it.
    assert backups_in(folder) == ["bot-20261203-033000.db"]


# ---------------------------------------------------------------- pruning


def test_pruning_keeps_the_newest_copies_and_never_touches_other_files(
    migrated: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    others = [
        "notes.txt",
        "bot-latest.db",
        "bot-20261101-033000.db.gz",
        "bot-20261101-0330.db",
        "other-20261101-033000.db",
        ".bot-20261101-033000.db.partial",
    ]
    for name in others:
        (folder / name).write_text("not a backup of ours")
    (folder / "bot-20261102-033000.db").mkdir()  # a folder with a backup's name is no backup
    made = []
    for day in range(1, 6):
        now = datetime(2026, 12, day, 3, 30, tzinfo=UTC)
        made.append(make_backup(migrated, folder, now=now, keep=3).name)
    assert made[-1] == "bot-20261205-033000.db"
    expected = ["bot-20261203-033000.db", "bot-20261204-033000.db", "bot-20261205-033000.db"]
    assert backups_in(folder) == sorted([*expected, *others, "bot-20261102-033000.db"])

    # A second copy within the same second gets a name of its own, sorting after the first.
    second = make_backup(migrated, folder, now=datetime(2026, 12, 5, 3, 30, tzinfo=UTC), keep=2)
    assert second.name == "bot-20261205-033000-2.db"
    kept = [n for n in backups_in(folder) if n.endswith(".db") and n.startswith("bot-2026120")]
    assert kept == ["bot-20261205-033000-2.db", "bot-20261205-033000.db"]

    # A clock set back does not make the copy just taken the "oldest" one to delete.
    back = make_backup(migrated, folder, now=datetime(2026, 11, 1, 3, 30, tzinfo=UTC), keep=1)
    assert back.exists()
    assert [n for n in backups_in(folder) if n.startswith("bot-2026")] == sorted(
        ["bot-20261101-033000.db", "bot-20261101-033000.db.gz", "bot-20261101-0330.db",
         "bot-20261102-033000.db"]
    )  # fmt: skip


# ---------------------------------------------------------------- failures and the admin chat


@sqlite_only
async def test_a_copy_failing_integrity_check_is_deleted_and_reported_once_per_streak(
    db: Database,
    db_path: Path,
    booking: ClientBookingService,
    add_service: AddService,
    tz: BaseTzInfo,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    await book_a_few(booking, add_service, tz)
    await db.close()  # damage the file as a failing disk would, with nobody writing
    corrupt_an_index(db_path)
    folder = tmp_path / "backups"
    reports = Reports()
    service = BackupService(db_path, folder, keep=3, tz=tz, report=reports, clock=clock)

    assert await service.run_once() is None
    clock.advance(days=1)
    assert await service.run_once() is None

    assert backups_in(folder) == []  # the bad copies are gone, temporary names included
    assert len(reports.texts) == 1  # the second failure is only logged
    reason = reports.texts[0]
    assert reason is not None and reason.startswith("the copy failed integrity_check:")
    assert "missing from index ix_bookings_client" in reason

    repair_the_index(db_path)
    clock.advance(days=1)
    copy = await service.run_once()
    assert copy is not None and backups_in(folder) == [copy.name]
    assert reports.texts[1:] == [None]  # they work again
    clock.advance(days=1)
    assert await service.run_once() is not None
    assert len(reports.texts) == 2  # working backups are not news

    # A new streak is news again.
    corrupt_an_index(db_path, "duration_minutes")
    clock.advance(days=1)
    assert await service.run_once() is None
    assert len(reports.texts) == 3 and reports.texts[2] is not None
    assert len(backups_in(folder)) == 2  # nothing pruned for a copy that failed


async def test_an_unwritable_folder_or_a_missing_database_is_reported_once(
    migrated: Path, tmp_path: Path, tz: BaseTzInfo, clock: FakeClock
) -> None:
    not_a_folder = tmp_path / "backups"
    not_a_folder.write_text("BACKUP_DIR points at a file")
    reports = Reports()
    service = BackupService(migrated, not_a_folder, keep=3, tz=tz, report=reports, clock=clock)
    assert await service.run_once() is None
    assert await service.run_once() is None
    assert len(reports.texts) == 1
    assert str(reports.texts[0]).startswith(f"Not a directory: {not_a_folder}/.bot-")

    missing = BackupService(
        tmp_path / "gone.db", tmp_path / "ok", keep=3, tz=tz, report=reports, clock=clock
    )
    assert await missing.run_once() is None
    assert reports.texts[1] == f"no database at {tmp_path / 'gone.db'}"
    assert not (tmp_path / "gone.db").exists()  # a backup never creates an empty database


async def test_a_report_that_could_not_be_sent_is_tried_again_at_the_next_failure(
    tmp_path: Path, tz: BaseTzInfo, clock: FakeClock
) -> None:
    attempts: list[str | None] = []

    async def flaky(reason: str | None) -> None:
        attempts.append(reason)
        if len(attempts) == 1:
            raise ConnectionError("Telegram is down too")

    service = BackupService(
        tmp_path / "gone.db", tmp_path, keep=1, tz=tz, report=flaky, clock=clock
    )
    for _ in range(3):
        assert await service.run_once() is None
    assert len(attempts) == 2  # the lost one, then one that got through; then silence


# ---------------------------------------------------------------- while the bot writes


def test_a_backup_taken_while_another_connection_writes_is_consistent(
    migrated: Path, tmp_path: Path
) -> None:
    stop, progress = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        # Each transaction adds a row and moves the counter: a torn copy would disagree.
        conn = connect_sync(migrated)
        try:
            i = 0
            while not stop.is_set():
                i += 1
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO app_state VALUES (?, ?)", (f"row-{i:06d}", "x" * 500))
                conn.execute(
                    "INSERT INTO app_state VALUES ('rows', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(i),),
                )
                conn.execute("COMMIT")
                progress.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    counts = []
    try:
        for n in range(5):
            assert progress.wait(10)  # the writer is busy before, between and after the copies
            progress.clear()
            now = datetime(2026, 12, 1, 3, 30, n, tzinfo=UTC)
            copy = make_backup(migrated, tmp_path / "backups", now=now, keep=10)
            check_copy(copy)
            conn = sqlite3.connect(copy)
            rows = conn.execute("SELECT count(*) FROM app_state WHERE key LIKE 'row-%'")
            count = rows.fetchone()[0]
            counter = conn.execute("SELECT value FROM app_state WHERE key = 'rows'").fetchone()
            conn.close()
            assert counter is not None and int(counter[0]) == count
            counts.append(count)
        assert progress.wait(10)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert counts == sorted(counts) and counts[0] > 0


# ---------------------------------------------------------------- the schedule


@pytest.mark.parametrize(
    ("after", "expected_utc"),
    [
        # Spring forward (29 March 2026): 03:30 CET is 02:30 UTC, 03:30 CEST is 01:30 UTC.
        (datetime(2026, 3, 27, 12, 0, tzinfo=UTC), datetime(2026, 3, 28, 2, 30, tzinfo=UTC)),
        (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        # Fall back (25 October 2026): the other way round.
        (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
        (datetime(2026, 10, 23, 12, 0, tzinfo=UTC), datetime(2026, 10, 24, 1, 30, tzinfo=UTC)),
    ],
)
def test_the_backup_fires_at_the_local_time_across_the_dst_change(
    after: datetime, expected_utc: datetime
) -> None:
    settings = load_settings(_env_file=None, timezone="Europe/Berlin", backup_time="03:30")
    fire = backup_trigger(settings).get_next_fire_time(None, after)
    assert fire.astimezone(UTC) == expected_utc
    local = to_local(get_tz("Europe/Berlin"), fire)
    assert (local.hour, local.minute) == (3, 30)


# ---------------------------------------------------------------- python -m database.backup


def run_backup_command(database: Path, target: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "database.backup", str(target)],
        cwd=cwd,  # no stray .env from the checkout
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite:///{database}",
            "TIMEZONE": "Europe/Moscow",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_backup_command_makes_a_checked_copy(
    migrated: Path, tmp_path: Path, usual_umask: None
) -> None:
    conn = connect_sync(migrated)
    conn.execute("INSERT INTO app_state VALUES ('seen', 'yes')")
    conn.close()
    target = tmp_path / "manual" / "copy.db"

    run = run_backup_command(migrated, target, tmp_path)

    assert run.returncode == 0, run.stderr
    assert "integrity_check: ok" in run.stdout + run.stderr
    assert integrity_problems(target) == ["ok"]
    assert tables(target) == tables(migrated)
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db"]

    again = run_backup_command(migrated, target, tmp_path)  # never overwrites a copy
    assert again.returncode == 1
    assert "exists" in again.stdout + again.stderr


def test_the_backup_command_refuses_a_copy_that_fails_its_check(
    migrated: Path, tmp_path: Path
) -> None:
    wipe_a_page(migrated, "ix_bookings_start")  # the backup API copies pages as they are
    target = tmp_path / "copy.db"

    run = run_backup_command(migrated, target, tmp_path)

    assert run.returncode == 1
    assert "failed integrity_check" in run.stdout + run.stderr
    assert [p.name for p in tmp_path.iterdir() if "copy" in p.name] == []  # nothing left


def test_check_copy_names_what_is_wrong(migrated: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 200)
    with pytest.raises(BackupError, match="cannot be read"):
        check_copy(garbage)
    check_copy(migrated)  # a sound file passes
