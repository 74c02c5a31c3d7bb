# Host tools built from the hypervisor's own pure sources (-DHV_HOST).
# hvconf: the configuration checker (SPEC.md 3), with hv/config/*.c.
HVCONF_CFLAGS := -std=c11 -O2 -g -DHV_HOST -I. $(WARN)
HVCONF_SRC := $(sort $(wildcard hv/config/*.c))

$(BUILD)/tools/hvconf: tools/hvconf.c $(HVCONF_SRC) $(wildcard hv/config/*.h) hv/lib/lib.h \
		hv/lib/types.h boot/boot_info.h
	@mkdir -p $(@D)
	$(HOSTCC) $(HVCONF_CFLAGS) tools/hvconf.c $(HVCONF_SRC) -o $@

TOOLS += $(BUILD)/tools/hvconf

# hvctl (SPEC 7): static, for any x86-64 Linux partition with manage = yes;
# the protocol's pure code (hv/control/proto.c, text.c) is the hypervisor's.
HVCTL_SRC := tools/hvctl.c tools/hvctl_args.c hv/control/proto.c hv/control/text.c

$(BUILD)/tools/hvctl: $(HVCTL_SRC) tools/hvctl_args.h hv/control/proto.h hv/control/text.h \
		hv/hw/control.h hv/lib/lib.h hv/lib/types.h
	@mkdir -p $(@D)
	$(HOSTCC) $(HVCONF_CFLAGS) -static -s $(HVCTL_SRC) -o $@

TOOLS += $(BUILD)/tools/hvctl
