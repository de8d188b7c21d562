"""Test doubles for pure-core unit tests: a clock that only moves when told."""


class FakeClock:
    """A `now()` that tests advance by hand instead of sleeping."""

    def __init__(self, start=1_000_000.0):
        self.time = start

    def __call__(self):
        return self.time

    def advance(self, seconds):
        self.time += seconds
