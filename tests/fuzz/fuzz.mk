# Fuzzing with libFuzzer (clang -fsanitize=fuzzer,address,undefined).
#
#   make fuzz                  every fuzz target in turn, FUZZ_TIME seconds each
#   make fuzz-config           hv/config/*.c: any bytes as hv.conf
#   make fuzz-insn             hv/insn/insn.c, emulate.c, prefix.c: the bytes at
#                              RIP of an MMIO access, decoded, emulated, matched
#   make fuzz-gpt              hv/insn/gpt.c: guest page tables in every paging
#                              mode, any CR0/CR4/EFER, against a reference walk
#   make fuzz-loader           hv/loader/*.c: any image (bzImage, Multiboot1,
#                              PVH) into a fake guest RAM through loader_load
#   make fuzz-virtio           hv/vdev/ virtual PCI devices: guest actions on two
#                              partitions over fake RAMs
#   make fuzz-control          hv/control/proto.c: any bytes as a control
#                              device request (hvctl's, docs/control.md)
#   make fuzz FUZZ_TIME=900    longer: seconds per target (6 targets)
#
# FUZZ_TIME is per target; the default, 20 s, is the short run of make test
# (about 2 minutes in all). A crash, sanitizer report or failed check stops the
# run and fails the target, printing the log's tail; the input that did it
# is left in $(BUILD)/fuzz/ (NAME-crash-*, ...), and
# `$(BUILD)/fuzz/fuzz_NAME FILE` replays it. New interesting inputs go to
# $(BUILD)/fuzz/NAME-corpus, never into the seed corpora checked in
# (tests/fuzz/corpus/NAME/, small, and tests/configs for the config).
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 20
FUZZ_CFLAGS := -std=c11 -g -O1 -DHV_HOST -I. -Wall -Wextra -Werror -Wshadow \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
FUZZ_RUN_FLAGS := -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
                  -print_final_stats=1

# Checked before anything is built (NEEDS_ in the Makefile): clang, and
# libFuzzer, which Debian's clang only recommends.
FUZZ_LIBFUZZER    = /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a
NEEDS_fuzz-build  = $(FUZZ_CC)=clang ld=binutils /usr/include/stdio.h=libc6-dev \
                    $(FUZZ_LIBFUZZER)=libclang-rt-14-dev

# Each target: the sources it links, the largest input worth trying, and
# seed directories besides tests/fuzz/corpus/NAME (a dictionary
# tests/fuzz/NAME.dict is used when there is one).
FUZZ_TARGETS := config insn gpt loader virtio control
FUZZ_SRC_config := $(sort $(wildcard hv/config/*.c))
FUZZ_SRC_insn   := hv/insn/insn.c hv/insn/emulate.c hv/insn/prefix.c
FUZZ_SRC_gpt    := hv/insn/gpt.c
FUZZ_SRC_loader := $(sort $(wildcard hv/loader/*.c)) hv/insn/gpt.c
FUZZ_SRC_virtio := hv/vdev/vdev.c hv/vdev/vpci.c hv/vdev/vpci_dev.c hv/vdev/virtio_pci.c \
                   hv/vdev/virtq.c hv/vdev/vnet.c hv/vdev/vswitch.c hv/vdev/vblk.c \
                   hv/vdev/vshm.c hv/lib/strlcpy.c
FUZZ_SRC_control := hv/control/proto.c
FUZZ_MAXLEN_config := 4096
FUZZ_MAXLEN_insn   := 256
FUZZ_MAXLEN_gpt    := 1024
FUZZ_MAXLEN_loader := 16384
FUZZ_MAXLEN_virtio := 4096
FUZZ_MAXLEN_control := 4096
FUZZ_SEEDS_config  := tests/configs
FUZZ_HEADERS := $(wildcard hv/lib/*.h hv/hw/*.h hv/config/*.h hv/insn/*.h hv/loader/*.h \
                  hv/vcpu/*.h hv/vdev/*.h hv/control/*.h boot/*.h)

define fuzz_rule
NEEDS_fuzz-$(1) = $$(NEEDS_fuzz-build)

$(BUILD)/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c $$(FUZZ_SRC_$(1)) $$(FUZZ_HEADERS)
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) tests/fuzz/fuzz_$(1).c $$(FUZZ_SRC_$(1)) -o $$@

# The run's progress goes to build/fuzz/$(1).log; a failure prints its tail.
fuzz-$(1): $(BUILD)/fuzz/fuzz_$(1)
	@mkdir -p $(BUILD)/fuzz/$(1)-corpus
	@echo "fuzz: $(1) for $$(FUZZ_TIME) s (log: $(BUILD)/fuzz/$(1).log)"
	@$(BUILD)/fuzz/fuzz_$(1) $$(FUZZ_RUN_FLAGS) -max_len=$$(FUZZ_MAXLEN_$(1)) \
		$$(if $$(wildcard tests/fuzz/$(1).dict),-dict=tests/fuzz/$(1).dict) \
		-artifact_prefix=$(BUILD)/fuzz/$(1)- \
		$(BUILD)/fuzz/$(1)-corpus tests/fuzz/corpus/$(1) $$(FUZZ_SEEDS_$(1)) \
		> $(BUILD)/fuzz/$(1).log 2>&1 || { tail -40 $(BUILD)/fuzz/$(1).log; exit 1; }
	@grep -E "DONE +cov:" $(BUILD)/fuzz/$(1).log | sed 's/^/fuzz: $(1): /' || true
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

NEEDS_fuzz = $(NEEDS_fuzz-build)
.PHONY: fuzz fuzz-build $(FUZZ_TARGETS:%=fuzz-%)
fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
# One after another, also under make -j: the runs share the CPUs.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory fuzz-$$t || exit 1; done
