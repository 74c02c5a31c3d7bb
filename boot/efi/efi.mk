# $(BUILD)/hv.efi: the UEFI front-end (boot/efi/), a gnu-efi application
# (Debian package gnu-efi) that carries $(BUILD)/hv.bin. The usual gnu-efi
# recipe: PIC objects + crt0 linked as a shared object with gnu-efi's linker
# script, then converted to a PE32+ EFI application by objcopy.
#
# Debian's gnu-efi 3.0.15 libraries are built with GNU_EFI_USE_MS_ABI (they
# call the firmware directly through ms_abi pointers, no efi_callN wrappers),
# so we define it too: EFIAPI becomes __attribute__((ms_abi)) and
# uefi_call_wrapper a plain call. EFI_FUNCTION_WRAPPER is no longer used by
# 3.0.15's headers.

EFI_INC     := /usr/include/efi
EFI_LIBDIR  := /usr/lib
EFI_CRT0    := $(EFI_LIBDIR)/crt0-efi-x86_64.o
EFI_LDS     := $(EFI_LIBDIR)/elf_x86_64_efi.lds
# What `make all` checks first (NEEDS_ in the Makefile).
NEEDS_EFI    = $(EFI_INC)/efi.h=gnu-efi

EFI_CFLAGS  := -std=c11 -O2 $(WARN) -ffreestanding -fno-builtin \
               -fpic -fshort-wchar -mno-red-zone -mno-sse -mno-mmx \
               -mgeneral-regs-only -fno-stack-protector -fno-strict-aliasing \
               -fno-asynchronous-unwind-tables -fcf-protection=none \
               -DGNU_EFI_USE_MS_ABI -maccumulate-outgoing-args \
               -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -I. -MMD -MP
EFI_LDFLAGS := -nostdlib -znocombreloc -shared -Bsymbolic --no-undefined \
               --fatal-warnings -T $(EFI_LDS) -L$(EFI_LIBDIR)
EFI_SECTIONS := .text .sdata .data .dynamic .dynsym .rel .rela '.rel.*' '.rela.*' .reloc

# Our sources, and the shared boot code built with our flags.
EFI_C       := $(sort $(wildcard boot/efi/*.c)) boot/boot_info.c hv/lib/strlcpy.c
EFI_OBJ     := $(EFI_C:%.c=$(BUILD)/efi/obj/%.o) $(BUILD)/efi/obj/boot/efi/leave.asm.o

$(EFI_C:%.c=$(BUILD)/efi/obj/%.o): $(BUILD)/efi/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  EFI-CC  $<")
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

# leave.asm embeds hv.bin: rebuilt whenever the image is.
$(BUILD)/efi/obj/boot/efi/leave.asm.o: boot/efi/leave.asm $(BUILD)/hv.bin
	@mkdir -p $(@D)
	@$(if $(Q),echo "  EFI-ASM $<")
	$(Q)$(NASM) -f elf64 -DHV_BIN='"$(BUILD)/hv.bin"' -MD $(@:.o=.d) -MT $@ $< -o $@

$(BUILD)/efi/hv.so: $(EFI_OBJ) $(EFI_CRT0) $(EFI_LDS)
	@$(if $(Q),echo "  EFI-LD  $@")
	$(Q)$(LD) $(EFI_LDFLAGS) $(EFI_CRT0) $(EFI_OBJ) -lefi -lgnuefi -o $@

$(BUILD)/hv.efi: $(BUILD)/efi/hv.so
	@$(if $(Q),echo "  EFI-PE  $@")
	$(Q)$(OBJCOPY) $(addprefix -j ,$(EFI_SECTIONS)) --target efi-app-x86_64 \
		--subsystem=10 $< $@

$(EFI_CRT0) $(EFI_LDS):
	@echo "$@ is missing: hv.efi needs the gnu-efi package (apt-get install gnu-efi)" >&2
	@false

-include $(EFI_OBJ:.o=.d)
