# The test guests (tests/guests/README.md): small Multiboot1 ELF32 kernels,
# build/guests/NAME.elf, one per tests/guests/NAME.c, each linked with
# everything in tests/guests/lib/ and the hypervisor's own C library
# (GUEST_HV_C); they include the hypervisor's hardware definitions (hv/hw/).
#
#   make guests    builds them all
#
# They run bare under QEMU (qemu-system-x86_64 -kernel build/guests/NAME.elf
# -append "...") and inside Tessera partitions (kernel = NAME.elf).

GUEST_NAMES := $(patsubst tests/guests/%.c,%,$(wildcard tests/guests/*.c))
GUEST_LIB_C := $(wildcard tests/guests/lib/*.c)
GUEST_LIB_ASM := $(wildcard tests/guests/lib/*.asm)
GUEST_HV_C := hv/lib/lib.c
GUEST_OUT := $(BUILD)/guests
GUEST_ELFS := $(GUEST_NAMES:%=$(GUEST_OUT)/%.elf)
GUEST_LIB_OBJ := $(GUEST_LIB_C:tests/guests/lib/%.c=$(GUEST_OUT)/obj/lib/%.o) \
                 $(GUEST_LIB_ASM:tests/guests/lib/%.asm=$(GUEST_OUT)/obj/lib/%.asm.o) \
                 $(GUEST_HV_C:%.c=$(GUEST_OUT)/obj/%.o)

GUEST_CFLAGS := -m32 -march=i686 -std=c11 -O2 -g $(WARN) -ffreestanding -nostdlib \
                -fno-pic -fno-pie -fno-stack-protector -mno-sse -mno-mmx \
                -mgeneral-regs-only -fno-asynchronous-unwind-tables \
                -fcf-protection=none -fno-delete-null-pointer-checks \
                -fno-tree-loop-distribute-patterns -ffunction-sections \
                -fdata-sections -Itests/guests/lib -I. -MMD -MP
GUEST_LDFLAGS := -m elf_i386 -nostdlib -static --gc-sections -z max-page-size=0x1000 \
                 -z noexecstack --no-warn-rwx-segments -T tests/guests/guest.ld

# Low-linked guests (Multiboot1 kernels below 1 MiB): at 64 KiB, clear of
# the AP trampoline (lib/smp.h) and ending below the Multiboot information
# Tessera builds at 0x90000 (hv/loader/mb1.h).
GUEST_LOW := lowload
# (Before the script, which keeps symbols defined already.)
$(GUEST_LOW:%=$(GUEST_OUT)/%.elf): GUEST_LDSYMS := --defsym=GUEST_BASE=0x10000 \
                                                  --defsym=GUEST_LIMIT=0x90000

# Each hardware header compiles on its own in 32-bit code, whether or not a
# guest includes it yet.
GUEST_HW_CHECKS := $(patsubst hv/hw/%.h,$(GUEST_OUT)/hw-check/%.o,$(wildcard hv/hw/*.h))

.PHONY: guests
guests: $(GUEST_ELFS) $(GUEST_HW_CHECKS)

TEST_BUILD += guests

# keep the objects (make would delete them as intermediates)
.SECONDARY: $(GUEST_NAMES:%=$(GUEST_OUT)/obj/%.o) $(GUEST_LIB_OBJ)

$(GUEST_OUT)/obj/%.o: tests/guests/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC32    $<")
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/obj/hv/%.o: hv/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC32    $<")
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/hw-check/%.o: hv/hw/%.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CHK32   $<")
	$(Q)$(CC) $(GUEST_CFLAGS) -include $< -x c -c /dev/null -o $@

$(GUEST_OUT)/obj/lib/%.asm.o: tests/guests/lib/%.asm
	@mkdir -p $(@D)
	@$(if $(Q),echo "  NASM32  $<")
	$(Q)$(NASM) -f elf32 -g -MD $(@:.o=.d) $< -o $@

$(GUEST_OUT)/%.elf: $(GUEST_OUT)/obj/%.o $(GUEST_LIB_OBJ) tests/guests/guest.ld
	@$(if $(Q),echo "  LD32    $@")
	$(Q)$(LD) $(GUEST_LDSYMS) $(GUEST_LDFLAGS) $< $(GUEST_LIB_OBJ) -o $@

-include $(wildcard $(GUEST_OUT)/obj/*.d $(GUEST_OUT)/obj/lib/*.d $(GUEST_OUT)/obj/hv/*/*.d \
                    $(GUEST_OUT)/hw-check/*.d)
