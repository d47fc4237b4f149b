"""The stop guard's settings (issue 17): the settings file and the settings dialog, and the off-by-default rule."""

from __future__ import annotations

import json

import pytest

from core.settings import Settings, SettingsError
from panels.settings_dialog import SettingsDialog


def test_guards_are_off_by_default(settings: Settings) -> None:
    assert settings.stop_guard_ticks == {}  # no distance: no stop guard for any account
    assert (settings.stop_guard_grace_seconds, settings.orphan_cleanup_grace_seconds) == (3.0, 2.0)


def test_distances_from_the_settings_file_are_checked_and_survive_a_save(settings: Settings) -> None:
    settings.config_dir.mkdir(parents=True)
    path = settings.config_dir / "settings.json"
    path.write_text(json.dumps({"stop_guard_ticks": {"Sim1": 8, "120005/mes": 12}}))
    loaded = settings.with_file()
    assert loaded.stop_guard_ticks == {"Sim1": 8, "120005/MES": 12}
    loaded.save()
    assert settings.with_file().stop_guard_ticks == {"Sim1": 8, "120005/MES": 12}
    path.write_text(json.dumps({"stop_guard_ticks": {"Sim1": 0}, "stop_guard_grace_seconds": -1}))
    with pytest.raises(SettingsError) as caught:
        settings.with_file()
    assert "stop_guard_ticks" in str(caught.value) and "stop_guard_grace_seconds" in str(caught.value)


def test_the_settings_dialog_edits_distances_and_grace_periods(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    saved: list[Settings] = []
    dialog = SettingsDialog(settings, lambda new, _password: saved.append(new))
    qtbot.addWidget(dialog)
    dialog.stop_distances.setText("Sim1=8, 120005/mes=12")
    dialog.stop_grace.setValue(5.0)
    dialog.accept()
    assert saved[-1].stop_guard_ticks == {"Sim1": 8, "120005/MES": 12}
    assert saved[-1].stop_guard_grace_seconds == 5.0
    dialog.stop_distances.setText("Sim1=0")
    dialog.accept()
    assert dialog.error.isVisibleTo(dialog)
    assert "Stop guard distances Sim1 = 0" in dialog.error.text()
    dialog.stop_distances.setText("Sim1=eight")
    dialog.accept()
    assert "write ACCOUNT=ticks" in dialog.error.text()
    assert len(saved) == 1
