"""The four scenarios of the benchmark issue; each module has `cases`, `run` and `compare`."""
