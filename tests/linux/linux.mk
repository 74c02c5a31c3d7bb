# The Linux guest images (docs/linux.md): Debian's kernel and two busybox
# initramfs images, all from Debian packages fetched with apt-get download
# (SPEC.md 1). Included by the Makefile.
#
#   make linux-images    build/linux/vmlinuz, initrd-demo.cpio.gz,
#                        initrd-test.cpio.gz (and their build/guest/ names)
#   make linux-update    fetch a newer kernel or busybox if Debian has one
#   make linux-bare      boot the kernel and the demo initramfs bare under
#                        QEMU, console here (Ctrl-A x quits)
#   make linux-vmlinux   build/linux/vmlinux: the kernel uncompressed, an ELF
#                        that the hypervisor boots through its PVH entry
#                        (the Bochs tests: no minute of XZ decompression)
#
# tools/boot-files.sh takes the images that hv.conf names from build/guest/,
# by their module names: build/guest/vmlinuz and build/guest/initrd-demo
# (and initrd-test) are links to the files here.

LINUX_DIR    := $(BUILD)/linux
LINUX_KERNEL := $(LINUX_DIR)/vmlinuz
LINUX_VMLINUX := $(LINUX_DIR)/vmlinux
LINUX_ROLES  := demo test
LINUX_INITRD := $(LINUX_ROLES:%=$(LINUX_DIR)/initrd-%.cpio.gz)
LINUX_BUSYBOX := $(LINUX_DIR)/busybox/pkg/bin/busybox
LINUX_ROOTFS := $(shell find tests/linux/rootfs 2>/dev/null)
LINUX_STAGE  := $(BUILD)/guest
LINUX_STAGED := $(LINUX_STAGE)/vmlinuz $(LINUX_ROLES:%=$(LINUX_STAGE)/initrd-%)

# apt-get download, dpkg-deb and flock are in every Debian system (apt,
# dpkg, util-linux); python3 is in tools/install-deps.sh already.
DEB_PACKAGES +=
TEST_BUILD   += linux-images linux-vmlinux
DEMO_BUILD   += linux-images

.PHONY: linux-images linux-update linux-bare linux-vmlinux
linux-images: $(LINUX_KERNEL) $(LINUX_INITRD) $(LINUX_STAGED)
linux-vmlinux: $(LINUX_VMLINUX)

# The script does nothing when the kernel is there already: the touch tells
# make that it is up to date with a changed script.
$(LINUX_KERNEL): tools/guest/fetch-kernel.sh tools/guest/fetch-deb.sh
	tools/guest/fetch-kernel.sh $(LINUX_DIR)
	@touch $@

# Written aside and renamed: an interrupted run leaves no file that make
# would take for up to date.
$(LINUX_VMLINUX): $(LINUX_KERNEL) tools/extract-vmlinux.py
	$(PYTHON) tools/extract-vmlinux.py $< $@.tmp
	mv -f $@.tmp $@

$(LINUX_BUSYBOX): tools/guest/fetch-deb.sh
	tools/guest/fetch-deb.sh busybox-static $(LINUX_DIR)/busybox
	@touch $@

$(LINUX_INITRD): $(LINUX_DIR)/initrd-%.cpio.gz: tools/guest/mkinitramfs.py $(LINUX_BUSYBOX) \
		$(LINUX_ROOTFS) $(LINUX_KERNEL) $(BUILD)/tools/hvctl
	$(PYTHON) tools/guest/mkinitramfs.py --role $* --busybox $(LINUX_BUSYBOX) \
		--modules $(LINUX_DIR)/pkg/lib/modules --hvctl $(BUILD)/tools/hvctl -o $@

$(LINUX_STAGE)/vmlinuz: $(LINUX_KERNEL)
	@mkdir -p $(@D)
	ln -sfn ../linux/vmlinuz $@

$(LINUX_STAGE)/initrd-%: $(LINUX_DIR)/initrd-%.cpio.gz
	@mkdir -p $(@D)
	ln -sfn ../linux/initrd-$*.cpio.gz $@

linux-update:
	tools/guest/fetch-kernel.sh --update $(LINUX_DIR)
	tools/guest/fetch-deb.sh --update busybox-static $(LINUX_DIR)/busybox
	@touch $(LINUX_BUSYBOX)
	$(MAKE) --no-print-directory linux-images

linux-bare: linux-images
	qemu-system-x86_64 -M q35 -cpu EPYC -smp 2 -m 512M -nographic -no-reboot -nic none \
		-kernel $(LINUX_KERNEL) -initrd $(LINUX_DIR)/initrd-demo.cpio.gz \
		-append console=ttyS0
