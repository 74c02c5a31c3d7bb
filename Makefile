# Tessera: every build, image, test and run target (SPEC.md 1).
#
#   make            build/hv.elf, build/hv.efi, host tools in build/tools/
#   make demo       boot the default configuration under QEMU
#   make test       unit tests, then system tests under QEMU and Bochs
#   make iso / pxe  boot media
#   make bench      benchmarks (not part of make test)
#   make format     apply .clang-format (make format-check: only check)
#
# Every goal first checks the tools it needs (NEEDS_ below) and, when one is
# missing, names its Debian package and stops before building anything.

BUILD    ?= build
CC       := gcc
HOSTCC   ?= gcc
NASM     := nasm
LD       := ld
OBJCOPY  := objcopy
PYTHON   := /usr/bin/python3

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wimplicit-fallthrough -Wvla
CFLAGS   := -std=c11 -O2 -g $(WARN) -ffreestanding -nostdlib -fno-builtin \
            -mno-red-zone -mno-sse -mno-mmx -mgeneral-regs-only \
            -mcmodel=kernel -fno-pic -fno-pie -fno-stack-protector \
            -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
            -fcf-protection=none -I. -MMD -MP
NASMFLAGS := -f elf64 -g -I$(BUILD)/gen/
LDFLAGS  := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
            --no-warn-rwx-segments -T linker.ld

# The hypervisor image: everything under boot/ (but boot/efi/), hv/, drivers/,
# but the sources of the stubs' numbers (ASM_DEFS_C, compiled to assembly only).
ASM_DEFS_C := hv/vcpu/asm_defs.c hv/vmx/asm_defs.c
HV_C     := $(filter-out $(ASM_DEFS_C),$(sort $(wildcard boot/*.c hv/*.c hv/*/*.c drivers/*.c)))
HV_ASM   := $(sort $(wildcard boot/*.asm hv/*.asm hv/*/*.asm drivers/*.asm))
HV_OBJ   := $(HV_C:%.c=$(BUILD)/obj/%.o) $(HV_ASM:%.asm=$(BUILD)/obj/%.asm.o)

.PHONY: all clean test demo iso pxe bench unit system deps cloc format format-check tools
# Fragments (boot/efi/*.mk, tools/*.mk, tests/*/*.mk, bench/*.mk) add to
# TOOLS (host programs in build/tools/) and define their own targets.
TOOLS :=
all: $(BUILD)/hv.elf $(BUILD)/hv.efi tools

$(BUILD)/gen/layout.inc: hv/layout.h
	@mkdir -p $(@D)
	sed -n 's/^#define \([A-Z0-9_]*\) \([0-9a-fx]*\).*/%define \1 \2/p' $< > $@

# The numbers the world-switch stubs take from C (hv/vcpu/asm_defs.h): each
# "=>NAME value" line of the ASM_DEFS_C compiled to assembly, as %define.
$(BUILD)/gen/%.s: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -S $< -o $@

$(BUILD)/gen/asm_defs.inc: $(ASM_DEFS_C:%.c=$(BUILD)/gen/%.s)
	sed -n 's/^=>\([A-Za-z0-9_]*\) \([0-9]*\)$$/%define \1 \2/p' $^ > $@

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.asm.o: %.asm $(BUILD)/gen/layout.inc $(BUILD)/gen/asm_defs.inc
	@mkdir -p $(@D)
	@$(if $(Q),echo "  NASM    $<")
	$(Q)$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) $< -o $@

$(BUILD)/hv.elf: $(HV_OBJ) linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(LDFLAGS) $(HV_OBJ) -o $@

# The flat image the UEFI front-end carries (memory image up to .bss).
$(BUILD)/hv.bin: $(BUILD)/hv.elf
	$(OBJCOPY) -O binary $< $@

-include $(wildcard boot/efi/*.mk tools/*.mk tests/*/*.mk bench/*.mk)
-include $(HV_OBJ:.o=.d) $(ASM_DEFS_C:%.c=$(BUILD)/gen/%.d)

tools: $(TOOLS)

clean:
	rm -rf $(BUILD)

# The hypervisor's size: its trusted computing base (hv/, boot/, drivers/).
cloc:
	@find boot hv drivers linker.ld -name '*.[ch]' -o -name '*.asm' -o -name '*.ld' \
	  | xargs cat | grep -cv '^\s*\(//.*\|/\*.*\|\*.*\|;.*\)\?$$' \
	  | sed 's/^/hypervisor lines of code: /'

# The C style (.clang-format) over boot/ hv/ drivers/ tests/{unit,guests,fuzz}/
# and tools/*.c; tests/unit/test_format.py runs the same check in make test.
format:
	@tools/format.sh

format-check:
	@tools/format.sh --check

# ---- Tools: every goal checks what it needs before it builds anything ----
# NEEDS_<goal> lists WHAT=PACKAGE words: WHAT is a command (looked up in PATH,
# /usr/sbin and /sbin) or the absolute path (a glob allowed) of a file that the
# Debian PACKAGE installs. Fragments add their goals' lists next to their
# rules. A goal with no list (a file such as build/hv.elf) needs what `all`
# needs; an empty list checks nothing here: test, demo and system install the
# packages first (deps), then build in a second make that checks its goals.
# When everything is there this costs a few stat calls, no shell.
NEEDS_BUILD  = $(CC)=gcc as=binutils $(NASM)=nasm $(LD)=binutils $(OBJCOPY)=binutils
NEEDS_HOST   = $(HOSTCC)=gcc as=binutils ld=binutils /usr/include/stdio.h=libc6-dev
NEEDS_PYTHON = $(PYTHON)=python3
NEEDS_GRUB   = /usr/lib/grub/i386-pc/kernel.img=grub-pc-bin \
               /usr/lib/grub/x86_64-efi/kernel.img=grub-efi-amd64-bin
NEEDS_EMULATORS = qemu-system-x86_64=qemu-system-x86 /usr/share/OVMF/OVMF_CODE_4M.fd=ovmf \
               bochs=bochs /usr/share/bochs/BIOS-bochs-latest=bochsbios \
               /usr/share/vgabios/vgabios.bin=vgabios unshare=util-linux
NEEDS_all    = $(NEEDS_BUILD) $(NEEDS_EFI) $(NEEDS_HOST)
NEEDS_tools  = $(NEEDS_HOST)
NEEDS_guests = $(CC)=gcc as=binutils $(NASM)=nasm $(LD)=binutils
NEEDS_linux-images  = $(NEEDS_PYTHON) $(NEEDS_HOST)
NEEDS_linux-vmlinux = $(NEEDS_linux-images)
NEEDS_linux-update  = $(NEEDS_linux-images)
NEEDS_linux-bare    = $(NEEDS_linux-images) qemu-system-x86_64=qemu-system-x86
# The media carry hv.elf and the images hv.conf names (test guests, Linux).
NEEDS_iso    = $(NEEDS_BUILD) $(NEEDS_PYTHON) $(NEEDS_GRUB) grub-mkrescue=grub-common \
               xorriso=xorriso mformat=mtools
NEEDS_pxe    = $(NEEDS_BUILD) $(NEEDS_PYTHON) $(NEEDS_GRUB) grub-mknetdir=grub-common
NEEDS_demo-run = qemu-system-x86_64=qemu-system-x86
NEEDS_format = clang-format=clang-format
NEEDS_format-check = $(NEEDS_format)
NEEDS_test   :=
NEEDS_demo   :=
NEEDS_system :=
NEEDS_deps   :=
NEEDS_clean  :=
NEEDS_cloc   :=

need_what  = $(firstword $(subst =, ,$(1)))
need_pkg   = $(lastword $(subst =, ,$(1)))
need_dirs  = $(subst :, ,$(PATH)) /usr/sbin /sbin
need_found = $(wildcard $(if $(filter /%,$(1)),$(1),$(addsuffix /$(1),$(need_dirs))))
goal_needs = $(if $(filter undefined,$(origin NEEDS_$(1))),$(NEEDS_all),$(NEEDS_$(1)))

NEEDS_MISSING := $(strip $(foreach n,$(sort $(foreach g,$(or $(MAKECMDGOALS),all),\
                   $(call goal_needs,$(g)))),$(if $(call need_found,$(call need_what,$(n))),,$(n))))
ifneq ($(NEEDS_MISSING),)
need_space := $(subst x, ,x)
need_comma := ,
NEEDS_PKGS := $(sort $(foreach n,$(NEEDS_MISSING),$(call need_pkg,$(n))))
need_text  = $(call need_what,$(1))^(package^$(call need_pkg,$(1)))
NEEDS_TEXT := $(subst ^, ,$(subst $(need_space),$(need_comma)$(need_space),$(strip \
                $(foreach n,$(NEEDS_MISSING),$(call need_text,$(n))))))
NEEDS_SUDO := $(if $(filter 0,$(shell id -u)),,sudo )
$(info make: missing tools: $(NEEDS_TEXT).)
NEEDS_APT  := $(NEEDS_SUDO)apt-get install --no-install-recommends $(NEEDS_PKGS)
$(info make: install them with: $(NEEDS_SUDO)make deps   (or: $(NEEDS_APT)))
$(error stopped before building anything)
endif
