"""Markers of the test-guest tests (tests/system/conftest.py registers the
same ones for the system tests)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a boot that takes more than a few seconds "
                            "(OVMF, PXE, Bochs); make test runs them all")
    config.addinivalue_line("markers", "bochs: runs under Bochs")
