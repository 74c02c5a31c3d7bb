# Host tools built from the hypervisor's own pure sources (-DHV_HOST).
# hvconf: the configuration checker (SPEC.md 3), with hv/config/*.c.
HVCONF_CFLAGS := -std=c11 -O2 -g -DHV_HOST -I. $(WARN)
HVCONF_SRC := $(sort $(wildcard hv/config/*.c))

$(BUILD)/tools/hvconf: tools/hvconf.c $(HVCONF_SRC) $(wildcard hv/config/*.h) hv/lib/lib.h \
		hv/lib/types.h boot/boot_info.h
	@mkdir -p $(@D)
	$(HOSTCC) $(HVCONF_CFLAGS) tools/hvconf.c $(HVCONF_SRC) -o $@

TOOLS += $(BUILD)/tools/hvconf
