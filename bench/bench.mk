# The benchmarks (DESIGN.md: bench/; SPEC.md 1): `make bench` prints one
# table: VM-exit cost and compute overhead in a partition against bare, on
# QEMU (AMD-V) and Bochs (VT-x, AMD-V); Debian's kernel booting to user
# space and running the workload in a partition against the same kernel and
# initramfs bare (ratios), with the partition's exits per boot by reason;
# the hypervisor's RAM footprint and its lines of code. Not part of
# `make test`; it asserts nothing about time.
#
#   make bench                         everything (10-20 minutes)
#   make bench BENCH_ARGS=--quick      smaller runs
#   make bench BENCH_ARGS="--platform qemu"
#   make bench BENCH_ARGS="--platform skylake --linux-runs 0"

BENCH_ARGS ?=
# Checked before anything is built (NEEDS_ in the Makefile).
NEEDS_bench = $(NEEDS_all) $(NEEDS_guests) $(NEEDS_linux-images) $(NEEDS_EMULATORS)

bench: $(BUILD)/hv.elf guests linux-images linux-vmlinux
	$(PYTHON) bench/bench.py $(BENCH_ARGS)
