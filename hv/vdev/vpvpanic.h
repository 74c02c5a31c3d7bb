/* The pvpanic device: how a guest kernel says it panicked (SPEC 5: on_crash). */
#pragma once

struct partition;

int vpvpanic_create(struct partition *p);
