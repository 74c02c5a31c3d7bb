# The benchmarks (DESIGN.md: bench/; SPEC.md 1): `make bench` prints one
# table: VM-exit cost and compute overhead in a partition against bare, on
# QEMU (AMD-V) and Bochs (VT-x, AMD-V), the hypervisor's RAM footprint and
# its lines of code. Not part of `make test`; it asserts nothing about time.
#
#   make bench                         everything (a few minutes)
#   make bench BENCH_ARGS=--quick      smaller runs
#   make bench BENCH_ARGS="--platform qemu"

BENCH_ARGS ?=

bench: $(BUILD)/hv.elf guests
	$(PYTHON) bench/bench.py $(BENCH_ARGS)
