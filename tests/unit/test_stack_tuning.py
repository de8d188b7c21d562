"""BURNCHAT_STACK_TUNING: every stack tuning by default, a chosen few, none, or an error."""

import pytest

from burnchat.config import STACK_TUNINGS, Config


@pytest.mark.parametrize("raw, expected", [
    (None, set(STACK_TUNINGS)),
    ("none", set()),
    ("", set()),
    ("unmask, gc", {"unmask", "gc"}),
])
def test_the_setting_names_the_tunings_kept(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("BURNCHAT_STACK_TUNING", raising=False)
    else:
        monkeypatch.setenv("BURNCHAT_STACK_TUNING", raw)
    assert Config.from_env().stack_tuning == expected


def test_an_unknown_tuning_is_refused(monkeypatch):
    monkeypatch.setenv("BURNCHAT_STACK_TUNING", "unmask,turbo")
    with pytest.raises(ValueError, match="turbo"):
        Config.from_env()
