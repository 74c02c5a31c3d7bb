# Host unit tests (cmocka). Each tests/unit/test_NAME.c is one binary,
# linked with the project sources listed, one per line, in
# tests/unit/test_NAME.deps. Built with HV_HOST and the sanitizers.
UNIT_CFLAGS := -std=c11 -g -O1 -DHV_HOST -I. -Wall -Wextra -Werror -Wshadow \
               -Wno-missing-prototypes -fsanitize=address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer
# Any project header may change what a test sees: rebuild on all of them.
UNIT_HEADERS := $(wildcard boot/*.h boot/efi/*.h hv/*.h hv/*/*.h drivers/*.h tests/unit/*.h)
UNIT_TESTS  := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_TESTS:%=$(BUILD)/unit/test_%)
# Checked before anything is built (NEEDS_ in the Makefile).
NEEDS_unit-build = $(NEEDS_HOST) /usr/include/cmocka.h=libcmocka-dev
NEEDS_unit       = $(NEEDS_unit-build)

define unit_rule
$(BUILD)/unit/test_$(1): tests/unit/test_$(1).c tests/unit/test_$(1).deps \
		$$(shell cat tests/unit/test_$(1).deps) $$(UNIT_HEADERS)
	@mkdir -p $$(@D)
	$$(HOSTCC) $$(UNIT_CFLAGS) tests/unit/test_$(1).c \
		$$(shell cat tests/unit/test_$(1).deps) -lcmocka -o $$@
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

.PHONY: unit-build
unit-build: $(UNIT_BINS)

# Runs every unit test binary; pytest (tests/unit/test_cmocka.py) does the
# same inside make test.
unit: unit-build
	@fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail
