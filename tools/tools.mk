# Host tools built from the hypervisor's own pure sources (-DHV_HOST).
# hvconf: the configuration checker (SPEC.md 3), with hv/config/config.c.
HVCONF_CFLAGS := -std=c11 -O2 -g -DHV_HOST -I. $(WARN)

$(BUILD)/tools/hvconf: tools/hvconf.c hv/config/config.c hv/config/config.h hv/lib/lib.h hv/lib/types.h \
		boot/boot_info.h
	@mkdir -p $(@D)
	$(HOSTCC) $(HVCONF_CFLAGS) tools/hvconf.c hv/config/config.c -o $@

TOOLS += $(BUILD)/tools/hvconf
