# Boot media, the system tests, and the top-level test and demo targets
# (SPEC.md 1; docs/boot.md). Included by the Makefile.
#
#   make iso     build/hv.iso: GRUB, hybrid BIOS+UEFI, CD or USB stick
#   make pxe     build/pxe/: TFTP root for BIOS and UEFI network boot
#   make test    install what is missing, build everything, run all tests
#   make system  only the system tests (media built first)
#   make demo    boot the default configuration under QEMU, console here
#   make deps    install the Debian packages that are missing (as root)
#
# Variables:
#   ISO_FILES     files that go on the ISO as modules: PATH (named by its
#                 basename) or PATH:NAME. Default: hv.conf at the repository
#                 root, if any, and the images it names from build/guest/
#                 (tools/boot-files.sh).
#   PXE_FILES     the same for the PXE tree (default: ISO_FILES)
#   GRUB_TIMEOUT  seconds the GRUB menu waits (default 3)
#   HV_CMDLINE    the hypervisor's command line (default none)
#   PYTEST_ARGS   extra pytest arguments for make test / make system
# Other fragments add to:
#   DEB_PACKAGES  Debian packages they need (tools/install-deps.sh has the rest)
#   TEST_BUILD    targets built before the tests run
#   DEMO_BUILD    targets built before the demo boots (the guest images)

ISO_FILES    ?= $(shell tools/boot-files.sh)
PXE_FILES    ?= $(ISO_FILES)
GRUB_TIMEOUT ?= 3
HV_CMDLINE   ?=
PYTEST_ARGS  ?=
DEB_PACKAGES +=
TEST_BUILD   += all unit-build iso pxe $(if $(wildcard tests/fuzz/fuzz.mk),fuzz)
DEMO_BUILD   +=

# PATH:NAME -> PATH, so that make builds a missing module first.
media_paths = $(foreach f,$(1),$(firstword $(subst :, ,$(f))))
media_opts  = -k $(BUILD)/hv.elf -t $(GRUB_TIMEOUT) $(if $(HV_CMDLINE),-c '$(HV_CMDLINE)')

deps:
	@tools/install-deps.sh $(DEB_PACKAGES)

iso: $(BUILD)/hv.elf $(call media_paths,$(ISO_FILES))
	tools/mkiso.sh -o $(BUILD)/hv.iso $(media_opts) $(ISO_FILES)

pxe: $(BUILD)/hv.elf $(call media_paths,$(PXE_FILES))
	tools/mkpxe.sh -o $(BUILD)/pxe $(media_opts) $(PXE_FILES)

# One pytest run over every test (unit, config, system, and the C style:
# tests/unit/test_format.py is make format-check), so that its summary is the
# last line. Building happens in a second make, after the packages; it checks
# the tools of its goals (NEEDS_ in the Makefile).
test: deps
	$(MAKE) $(TEST_BUILD)
	$(PYTHON) -m pytest tests -v $(PYTEST_ARGS)

system: deps
	$(MAKE) $(BUILD)/hv.elf iso pxe
	$(PYTHON) -m pytest tests/system -v $(PYTEST_ARGS)

# QEMU's monitor escape moves from Ctrl-A to Ctrl-] (quit: Ctrl-] x), so that
# Ctrl-A reaches the hypervisor's console (SPEC.md 4). The CPU is EPYC less
# the features TCG lacks anyway (it would drop them, with a warning each):
# the hypervisor sees the same CPUID and the terminal stays clean.
DEMO_CPU  := EPYC,-rdseed,-sha-ni,-fxsr-opt,-misalignsse,-3dnowprefetch,-osvw,-topoext
DEMO_CPU  := $(DEMO_CPU),-nrip-save,-xsavec
DEMO_QEMU := qemu-system-x86_64 -M q35 -cpu $(DEMO_CPU) -smp 4 -m 2G -nographic \
	-serial mon:stdio -echr 0x1d -no-reboot -nic none \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04

demo: deps
	$(MAKE) all $(DEMO_BUILD)
	@$(MAKE) --no-print-directory demo-run

# SeaBIOS turns the terminal's line wrap off (ESC [?7l); it is turned back
# on when QEMU exits.
.PHONY: demo-run
demo-run:
	@echo "demo: booting $(BUILD)/hv.elf under QEMU (Multiboot1); Ctrl-] x quits"
	$(DEMO_QEMU) -kernel $(BUILD)/hv.elf \
		$(if $(DEMO_INITRD),-initrd '$(DEMO_INITRD)'); \
	status=$$?; [ -t 1 ] && printf '\033[?7h'; exit $$status

DEMO_INITRD = $(shell tools/boot-files.sh --qemu-initrd)
