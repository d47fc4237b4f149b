"""Start-up on a data folder that is not fine: a damaged or truncated database, a folder at the database's
path, a read-only folder, a database of a newer version. Each is a clear message with what to do and a
non-zero exit — never a traceback, never a damaged file shown as truth. Backups are taken (daily, before a
migration) and a damaged database can be replaced by the newest good one. Real app processes, real files."""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from app_manager import build_app
from core.accounting import Fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.settings import Settings
from core.state import StateManager
from core.tradingday import Period
from data.backup import is_good
from data.db import database_path, make_engine
from data.repository import PositionStore
from tests.app_process import run_app

T0 = datetime(2025, 11, 20, 14, 30, tzinfo=UTC)
ROUND_TRIPS = 60


def seed(data_dir: Path) -> Path:
    """A database with 60 closed trades (+1.00 point each on MES) and an open LONG 2; returns its path."""
    store = PositionStore(make_engine(data_dir))
    state = StateManager(store, InstrumentBook(), ModeClassifier())
    fills = []
    for i in range(ROUND_TRIPS):
        fills.append(Fill(f"E{2 * i}", "Sim1", "MESZ25", D(1), D("6000"), T0 + timedelta(minutes=2 * i)))
        fills.append(Fill(f"E{2 * i + 1}", "Sim1", "MESZ25", D(-1), D("6001"), T0 + timedelta(minutes=2 * i + 1)))
    fills.append(Fill("OPEN", "Sim1", "MESZ25", D(2), D("6000"), T0 + timedelta(hours=5)))
    state.apply_fills(fills, publish=False)
    state.close()
    store.engine.dispose()
    db = database_path(data_dir)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def stored(db: Path) -> tuple[int, list[tuple[str, str]]]:
    """(closed trades, open positions as (symbol, qty)) read straight from the file."""
    with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        trades = conn.execute("SELECT count(*) FROM traderecord").fetchone()[0]
        positions = conn.execute("SELECT symbol, qty FROM openposition").fetchall()
    return trades, positions


def garbage_in_trades_page(db: Path) -> None:
    """Overwrite part of one page of the trades table with garbage bytes."""
    with closing(sqlite3.connect(db)) as conn:
        pages = [p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'traderecord'")]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    assert len(pages) > 1
    with open(db, "r+b") as handle:
        handle.seek((pages[len(pages) // 2] - 1) * page_size + 100)
        handle.write(b"\xde\xad\xbe\xef" * 200)


def says_clearly(result: object, *phrases: str) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.returncode not in (0, 1), stderr  # type: ignore[attr-defined]  # 1: an uncaught exception
    assert "Traceback" not in stderr
    assert "What to do:" in stderr
    for phrase in phrases:
        assert phrase in stderr


@pytest.fixture
def damaged_folder(tmp_path: Path) -> Path:
    """A data folder whose database was backed up by a normal start, then got garbage in a trades page."""
    data_dir = tmp_path / "data"
    db = seed(data_dir)
    first = run_app(data_dir)
    assert first.returncode == 0, first.stderr
    garbage_in_trades_page(db)
    return data_dir


def test_damaged_trades_table_is_not_shown_as_zero_trades_the_app_says_so_and_offers_the_backup(
    damaged_folder: Path,
) -> None:
    before = database_path(damaged_folder).read_bytes()
    result = run_app(damaged_folder)
    says_clearly(result, "is damaged", "restore the newest good backup", "--restore-backup")
    assert database_path(damaged_folder).read_bytes() == before  # kept as it is until the trader decides


def test_restoring_the_backup_keeps_the_damaged_file_aside_and_brings_the_trades_back(
    damaged_folder: Path,
) -> None:
    result = run_app(damaged_folder, "--restore-backup")
    assert result.returncode == 0, result.stderr
    assert stored(database_path(damaged_folder)) == (ROUND_TRIPS, [("MESZ25", "2")])
    (aside,) = (damaged_folder / "damaged").glob("dtc-panel_*.db")
    assert not is_good(aside)  # the damaged file itself, kept for whoever wants to look at it
    again = run_app(damaged_folder)  # the restored database starts normally from now on
    assert again.returncode == 0, again.stderr


def test_window_says_which_backup_was_restored_and_where_the_damaged_file_is(
    damaged_folder: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    from data.storage import open_storage

    storage = open_storage(damaged_folder, restore=True)
    try:
        app = build_app(Settings.for_directories(damaged_folder), storage=storage)
        qtbot.addWidget(app.window)
        snap = app.window.last_snapshot
        assert snap is not None
        (note,) = [n.text for n in snap.notifications if n.kind == "error"]
        assert "damaged" in note and "was restored" in note and str(damaged_folder / "damaged") in note
        assert [(p.symbol, p.quantity) for p in snap.positions] == [("MESZ25", 2)]
        app.state.stats.background = False
        app.state.set_period(Period.ALL)
        assert app.window.last_snapshot.statistics.trades == ROUND_TRIPS  # type: ignore[union-attr]
        app.stop()
    finally:
        storage.close()


def test_truncated_database_is_refused_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    db = seed(data_dir)
    os.truncate(db, db.stat().st_size // 2)
    says_clearly(run_app(data_dir), "is damaged", "--restore-backup")


def test_folder_at_the_database_path_is_named_with_what_to_do(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    database_path(data_dir).mkdir(parents=True)
    says_clearly(run_app(data_dir), "where the database file should be", str(database_path(data_dir)))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="chmod does not restrict root")
def test_read_only_data_folder_is_named_with_what_to_do(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seed(data_dir)
    (data_dir / "logs").mkdir()
    data_dir.chmod(0o500)
    try:
        says_clearly(run_app(data_dir), "cannot write to its data folder", str(data_dir))
    finally:
        data_dir.chmod(0o700)


def test_database_of_a_newer_version_is_left_unchanged_and_named(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    db = seed(data_dir)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = db.read_bytes()
    says_clearly(run_app(data_dir), "newer version of DTC Panel", "0999")
    assert db.read_bytes() == before


def test_a_backup_is_taken_before_a_migration_holding_the_old_schema_and_rows(tmp_path: Path) -> None:
    from tests.test_migrations import _v1_database

    data_dir = tmp_path / "data"
    _v1_database(data_dir)
    result = run_app(data_dir)
    assert result.returncode == 0, result.stderr
    (backup,) = (data_dir / "backups").glob("*before-migration*.db")
    with closing(sqlite3.connect(f"{backup.as_uri()}?mode=ro", uri=True)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
        assert conn.execute("SELECT count(*) FROM fillrecord").fetchone() == (1,)


def test_daily_backups_roll_keeping_the_newest_seven(tmp_path: Path) -> None:
    from data.backup import DAILY, daily_backup_due, list_backups, take_backup

    data_dir = tmp_path / "data"
    db = seed(data_dir)
    for day in range(9):
        take_backup(db, data_dir, DAILY, now=T0 + timedelta(days=day))
    kept = list_backups(data_dir)
    assert [b.taken for b in kept] == [T0 + timedelta(days=d) for d in range(8, 1, -1)]
    assert stored(kept[0].path) == (ROUND_TRIPS, [("MESZ25", "2")])
    assert not daily_backup_due(data_dir, now=T0 + timedelta(days=8, hours=23))
    assert daily_backup_due(data_dir, now=T0 + timedelta(days=9, hours=1))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_data_files_and_folders_are_readable_by_the_trader_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seed(data_dir)
    data_dir.chmod(0o755)  # as an older version left it
    database_path(data_dir).chmod(0o644)
    (data_dir / "config").mkdir(mode=0o755)
    (data_dir / "config" / "settings.json").write_text('{"port": 11099}', encoding="utf-8")
    (data_dir / "config" / "settings.json").chmod(0o644)
    result = run_app(data_dir)
    assert result.returncode == 0, result.stderr
    paths = [data_dir, *data_dir.rglob("*")]
    names = {p.relative_to(data_dir).as_posix() for p in paths}
    assert {"dtc-panel.db", "logs/dtc-panel.log", "backups", "config/settings.json"} <= names
    loose = {p.relative_to(data_dir).as_posix(): oct(stat.S_IMODE(p.stat().st_mode)) for p in paths
             if stat.S_IMODE(p.stat().st_mode) & 0o077}  # fmt: skip
    assert loose == {}


def test_trades_table_damaged_while_running_is_shown_as_a_database_error_not_as_zero_trades(
    tmp_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    from data.storage import open_storage

    data_dir = tmp_path / "data"
    db = seed(data_dir)
    storage = open_storage(data_dir)
    try:
        app = build_app(Settings.for_directories(data_dir), storage=storage)
        qtbot.addWidget(app.window)
        app.window.render_gap = 0.0
        app.window.position_gap = 0.0
        app.state.stats.background = False
        assert app.window.storage.isHidden()
        garbage_in_trades_page(db)  # the disk goes bad under the running app
        storage.engine.dispose()  # (connections opened from now on read the file as it is)
        app.state.set_period(Period.ALL)
        text = app.window.storage.text()
        assert not app.window.storage.isHidden()
        assert "malformed" in text and "damaged" in text and "restore" in text
        app.stop()
    finally:
        storage.close()


def test_with_a_display_a_damaged_database_offers_the_named_backup_or_quitting(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from data.storage import Problem, StartupProblem, open_storage
    from panels.storage_dialogs import damaged_box

    data_dir = tmp_path / "data"
    db = seed(data_dir)
    open_storage(data_dir).close()  # the first start of the day backs it up
    garbage_in_trades_page(db)
    with pytest.raises(StartupProblem) as caught:
        open_storage(data_dir)
    problem = caught.value
    assert problem.kind == Problem.DAMAGED and problem.backup is not None
    box, restore = damaged_box(problem)
    qtbot.addWidget(box)
    assert "is damaged" in box.text() and "--restore-backup" in box.informativeText()
    assert restore.text() == f"Restore the backup of {problem.backup.describe()}"
    assert [b.text() for b in box.buttons() if b is not restore] == ["Quit"]
    assert box.defaultButton().text() == "Quit"
    box.open()
    with qtbot.waitSignal(box.finished):
        restore.click()
    assert box.clickedButton() is restore
    storage = open_storage(data_dir, restore=True)  # what choosing it does
    try:
        with storage.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM traderecord").scalar() == ROUND_TRIPS
    finally:
        storage.close()


def test_logs_folder_that_cannot_be_written_is_named_with_what_to_do(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "logs").write_text("not a folder", encoding="utf-8")  # mkdir of the logs folder fails
    says_clearly(run_app(data_dir), "cannot write its log", str(data_dir / "logs"))
