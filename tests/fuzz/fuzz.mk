# Fuzzing with libFuzzer (clang -fsanitize=fuzzer,address,undefined).
#
#   make fuzz                  every fuzz target, FUZZ_TIME seconds each
#   make fuzz-config           hv/config/*.c: any bytes as hv.conf
#   make fuzz-virtio           the virtual PCI devices: guest actions on two partitions
#   make fuzz-control          the control device's request parser (hvctl's requests)
#   make fuzz FUZZ_TIME=600    longer
#
# A crash, sanitizer report or failed check stops the run and fails the
# target; the input that did it is left in $(BUILD)/fuzz/ (crash-*, ...).
# New interesting inputs go to $(BUILD)/fuzz/<target>-corpus, never into the
# seed corpora checked in (tests/fuzz/corpus, tests/configs).
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_CFLAGS := -std=c11 -g -O1 -DHV_HOST -I. -Wall -Wextra -Werror -Wshadow \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
FUZZ_RUN_FLAGS := -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
                  -rss_limit_mb=2048 -print_final_stats=1

# Checked before anything is built (NEEDS_ in the Makefile): clang, and
# libFuzzer, which Debian's clang only recommends.
FUZZ_LIBFUZZER    = /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a
NEEDS_fuzz-build  = $(FUZZ_CC)=clang ld=binutils /usr/include/stdio.h=libc6-dev \
                    $(FUZZ_LIBFUZZER)=libclang-rt-14-dev
NEEDS_fuzz        = $(NEEDS_fuzz-build)
NEEDS_fuzz-config = $(NEEDS_fuzz-build)
NEEDS_fuzz-virtio = $(NEEDS_fuzz-build)
NEEDS_fuzz-control = $(NEEDS_fuzz-build)

FUZZ_CONFIG_SRC := $(sort $(wildcard hv/config/*.c))

$(BUILD)/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(FUZZ_CONFIG_SRC) $(wildcard hv/config/*.h) \
		hv/lib/lib.h hv/lib/types.h boot/boot_info.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_config.c $(FUZZ_CONFIG_SRC) -o $@

FUZZ_VIRTIO_SRC := hv/vdev/vdev.c hv/vdev/vpci.c hv/vdev/vpci_dev.c hv/vdev/virtio_pci.c \
                   hv/vdev/virtq.c hv/vdev/vnet.c hv/vdev/vswitch.c hv/vdev/vblk.c \
                   hv/vdev/vshm.c hv/lib/strlcpy.c

$(BUILD)/fuzz/fuzz_virtio: tests/fuzz/fuzz_virtio.c $(FUZZ_VIRTIO_SRC) $(wildcard hv/vdev/*.h) \
		$(wildcard hv/hw/*.h) hv/lib/lib.h hv/lib/types.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_virtio.c $(FUZZ_VIRTIO_SRC) -o $@

$(BUILD)/fuzz/fuzz_control: tests/fuzz/fuzz_control.c hv/control/proto.c hv/control/proto.h \
		hv/hw/control.h hv/lib/lib.h hv/lib/types.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_control.c hv/control/proto.c -o $@

.PHONY: fuzz fuzz-build fuzz-config fuzz-virtio fuzz-control
fuzz-build: $(BUILD)/fuzz/fuzz_config $(BUILD)/fuzz/fuzz_virtio $(BUILD)/fuzz/fuzz_control
fuzz: fuzz-config fuzz-virtio fuzz-control

# The run's progress goes to build/fuzz/config.log; a crash prints its tail.
fuzz-config: $(BUILD)/fuzz/fuzz_config
	@mkdir -p $(BUILD)/fuzz/config-corpus
	@echo "fuzz: hv.conf parser for $(FUZZ_TIME) s (log: $(BUILD)/fuzz/config.log)"
	@$(BUILD)/fuzz/fuzz_config $(FUZZ_RUN_FLAGS) -dict=tests/fuzz/config.dict \
		-artifact_prefix=$(BUILD)/fuzz/config- \
		$(BUILD)/fuzz/config-corpus tests/fuzz/corpus tests/configs \
		> $(BUILD)/fuzz/config.log 2>&1 || { tail -40 $(BUILD)/fuzz/config.log; exit 1; }
	@grep -E "^stat::number_of_executed_units|^Done" $(BUILD)/fuzz/config.log || true

# Starts from the seeds in tests/fuzz/corpus-virtio (driver set-ups, a
# transmit, a disk request); the run's progress goes to build/fuzz/virtio.log.
fuzz-virtio: $(BUILD)/fuzz/fuzz_virtio
	@mkdir -p $(BUILD)/fuzz/virtio-corpus
	@echo "fuzz: virtual PCI devices for $(FUZZ_TIME) s (log: $(BUILD)/fuzz/virtio.log)"
	@$(BUILD)/fuzz/fuzz_virtio $(FUZZ_RUN_FLAGS) -artifact_prefix=$(BUILD)/fuzz/virtio- \
		$(BUILD)/fuzz/virtio-corpus tests/fuzz/corpus-virtio \
		> $(BUILD)/fuzz/virtio.log 2>&1 || { tail -40 $(BUILD)/fuzz/virtio.log; exit 1; }
	@grep -E "^stat::number_of_executed_units|^Done" $(BUILD)/fuzz/virtio.log || true

# Starts from the seeds in tests/fuzz/corpus-control (one good request of
# each operation); the run's progress goes to build/fuzz/control.log.
fuzz-control: $(BUILD)/fuzz/fuzz_control
	@mkdir -p $(BUILD)/fuzz/control-corpus
	@echo "fuzz: control requests for $(FUZZ_TIME) s (log: $(BUILD)/fuzz/control.log)"
	@$(BUILD)/fuzz/fuzz_control $(FUZZ_RUN_FLAGS) -artifact_prefix=$(BUILD)/fuzz/control- \
		$(BUILD)/fuzz/control-corpus tests/fuzz/corpus-control \
		> $(BUILD)/fuzz/control.log 2>&1 || { tail -40 $(BUILD)/fuzz/control.log; exit 1; }
	@grep -E "^stat::number_of_executed_units|^Done" $(BUILD)/fuzz/control.log || true
