# The benchmarks (DESIGN.md: bench/; SPEC.md 1; bench/bench.py says what
# each number is): `make bench` prints tables: VM-exit cost and compute
# overhead in a partition against bare, on QEMU (AMD-V) and Bochs (VT-x,
# AMD-V); the cost of each kind of exit under QEMU; Debian's kernel booting
# to user space and running the workload bare, in a Tessera partition and
# as Xen 4.17's PVH dom0 (bench/xen.py), with the partition's exits by
# reason; where Tessera's extra time goes (exits, nested translation, its
# own boot, the rest; bench/breakdown.py) and the same partition with its RAM
# in 4 KiB, 2 MiB and 1 GiB pages; the hypervisor's RAM footprint and its
# lines of code. It writes them to build/bench/bench.json and draws
# build/bench/bench.png (gnuplot). docs/performance.md explains the numbers.
# Not part of `make test`; it asserts nothing about time.
#
# How long: the default run is about 15 minutes on this 2-CPU machine when
# it is quiet, 25-35 minutes when other emulators share it (each Linux run is
# 30 s to a few minutes, and there are 3 rounds of bare, Tessera and Xen, one
# boot-only Tessera run and 3 page-size runs). Xen's dom0 is the slowest:
# under a loaded TCG it can stall (docs/performance.md), after which its
# other runs are skipped.
#
#   make bench                                  everything
#   make bench BENCH_ARGS=--quick               smaller runs, one of each (a smoke test)
#   make bench BENCH_ARGS="--no-xen --no-pages" no Xen runs, no page-size series
#   make bench BENCH_ARGS="--linux-runs 1"      one round of the Linux runs
#   make bench BENCH_ARGS="--platform qemu"     QEMU only (no Bochs exit costs)
#   make bench BENCH_ARGS="--platform skylake --linux-runs 0"
#   make xen-image                              only fetch Xen (build/xen/xen.gz)

BENCH_ARGS ?=
XEN_IMAGE := $(BUILD)/xen/xen.gz
# The picture (bench/report.py).
DEB_PACKAGES += gnuplot-nox
# Checked before anything is built (NEEDS_ in the Makefile).
NEEDS_bench = $(NEEDS_all) $(NEEDS_guests) $(NEEDS_linux-images) $(NEEDS_EMULATORS) \
              gnuplot=gnuplot-nox grub-mkrescue=grub-common xorriso=xorriso
NEEDS_xen-image = $(NEEDS_PYTHON)

.PHONY: bench xen-image
bench: $(BUILD)/hv.elf guests linux-images linux-vmlinux
	$(PYTHON) bench/bench.py $(BENCH_ARGS)

# Debian's Xen, unpacked by tools/guest/fetch-deb.sh (apt-get download;
# nothing is installed): boot/xen-4.17-amd64.gz of the package.
xen-image: $(XEN_IMAGE)
$(XEN_IMAGE): tools/guest/fetch-deb.sh
	tools/guest/fetch-deb.sh xen-hypervisor-4.17-amd64 $(BUILD)/xen
	cp $(BUILD)/xen/pkg/boot/xen-4.17-amd64.gz $@
