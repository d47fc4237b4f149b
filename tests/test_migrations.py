"""Schema migrations: a first-version database is upgraded with every row kept; models match migrations."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import Session, SQLModel, select

from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.state import StateManager
from data.db import database_path, make_engine
from data.migrate import current_revision, head_revision, upgrade
from data.models import FillRecord, OpenPosition, PositionEvent, TradeRecord
from data.repository import PositionStore

V1_ROWS = [
    "INSERT INTO fillrecord VALUES (1,'SIM','Sim1','MESZ25','E1','O1','2','6000.25','0','2025-11-20 14:30:00',"
    "'301','2025-11-20 14:30:01')",
    "INSERT INTO openposition VALUES (1,'SIM','Sim1','MESZ25','2','LONG','6000.25','12000.50',"
    "'2025-11-20 14:30:00','2','12000.50','0','0','0','0','2',NULL,NULL,NULL,NULL,NULL,NULL,NULL,"
    "'2025-11-20 14:30:00','2025-11-20 14:30:01','2025-11-20 14:30:01')",
    "INSERT INTO traderecord VALUES (1,'LIVE','120005','MNQZ25','SHORT','1','1','21000','20990',"
    "'2025-11-19 15:00:00','2025-11-19 15:10:00','20','1.24','18.76','2','20985','21003','-6','30','fill',"
    "'2025-11-19 15:10:00')",
    "INSERT INTO positionevent VALUES (1,'2025-11-20 14:30:01','SIM','Sim1','MESZ25','opened','0','2',"
    "'6000.25','0','fill','301:E1')",
]


def _v1_database(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True)
    path = database_path(data_dir)
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine, "0001")
    engine.dispose()
    with sqlite3.connect(path) as conn:
        for sql in V1_ROWS:
            conn.execute(sql)
    return path


def test_first_schema_version_is_upgraded_keeping_every_row(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _v1_database(data_dir)
    engine = make_engine(data_dir)  # what the app does at startup
    assert current_revision(engine) == head_revision()
    with Session(engine) as session:
        (position,) = session.exec(select(OpenPosition)).all()
        (trade,) = session.exec(select(TradeRecord)).all()
        (fill,) = session.exec(select(FillRecord)).all()
        assert len(session.exec(select(PositionEvent)).all()) == 1
    assert (position.qty, position.cost_basis, position.mae, position.mfe) == (D(2), D("12000.50"), None, None)
    assert (trade.realized_pnl, trade.mae, trade.mfe, trade.r_multiple) == (D("18.76"), D(-6), D(30), None)
    assert fill.realized_gross == D(0)  # from its audit event (an opening fill realizes nothing)
    # and the upgraded database works: the recovered position is on the cache
    state = StateManager(PositionStore(engine), InstrumentBook(), ModeClassifier())
    assert state.recover() == 1
    recovered = state.position("SIM", "Sim1", "MESZ25")
    assert recovered is not None and recovered.avg_entry == D("6000.25")
    assert (recovered.mae_points, recovered.mfe_points) == (D(0), D(0))  # no extremes stored then


def test_migrations_produce_exactly_the_models(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "data")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_database_from_before_migrations_is_stamped_and_upgraded(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = _v1_database(data_dir)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE alembic_version")
    engine = make_engine(data_dir)
    assert current_revision(engine) == head_revision()
    with Session(engine) as session:
        assert len(session.exec(select(OpenPosition)).all()) == 1


def test_head_revision_constant_is_alembics_head() -> None:
    from data.migrate import HEAD_REVISION

    assert head_revision() == HEAD_REVISION
