"""The test harness, shared by the system tests (tests/system), the Linux
guest tests (tests/linux), the benchmarks (bench/bench.py) and
tools/guest/bare-boot.py:

    tessera_vm   boots the hypervisor (or a bare guest) under QEMU or Bochs
                 and reads its serial console
    hv_console   the hypervisor's console lines and the checks on them
    linux_guest  the Linux guest images' console contract

pytest finds the package through `pythonpath = tests` in pytest.ini; a
script puts tests/ on sys.path itself, then `from harness import ...`.
"""
