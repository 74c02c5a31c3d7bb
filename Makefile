# Tessera: every build, image, test and run target (SPEC.md 1).
#
#   make            build/hv.elf, build/hv.efi, host tools in build/tools/
#   make demo       boot the default configuration under QEMU
#   make test       unit tests, then system tests under QEMU and Bochs
#   make iso / pxe  boot media
#   make bench      benchmarks (not part of make test)

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

# The hypervisor image: everything under boot/ (but boot/efi/), hv/, drivers/.
HV_C     := $(sort $(wildcard boot/*.c hv/*.c hv/*/*.c drivers/*.c))
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

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.asm.o: %.asm $(BUILD)/gen/layout.inc
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
-include $(HV_OBJ:.o=.d)

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
