// SPDX-License-Identifier: MIT
/*
 * workload=irq: the device-interrupt path. Each device vector is raised with
 * a self-IPI and must show up as its pin's bit; then the IOAPIC must answer
 * (version register: 24 redirection entries) and accept a route.
 */
#include "guest.h"

#define IOAPIC_VERSION 0x01

static void irq_run(void)
{
	unsigned self = guest_cpu_id();
	uint64_t seen = 0;

	for (unsigned pin = 0; pin < GUEST_NR_DEVICE_IRQS; pin++) {
		uint64_t bits;

		lapic_send_ipi(self, GUEST_VEC_DEVICE + pin);
		while (!(bits = guest_take_device_irqs()))
			guest_wait_for_interrupt();
		GUEST_ASSERT_EQ(bits, 1ull << pin);
		seen |= bits;
	}
	GUEST_ASSERT_EQ(seen, (1ull << GUEST_NR_DEVICE_IRQS) - 1);
	GUEST_ASSERT_EQ((ioapic_read(IOAPIC_VERSION) >> 16) & 0xff,
			GUEST_NR_DEVICE_IRQS - 1);
	ioapic_route_edge(5, 0);
	GUEST_ASSERT_EQ(ioapic_read(0x10 + 2 * 5) & 0xff, GUEST_VEC_DEVICE + 5);
	guest_printf("irq: %u device vectors delivered, IOAPIC routes pin 5\n",
		     GUEST_NR_DEVICE_IRQS);
}
GUEST_WORKLOAD(irq, "irq", "device interrupt vectors and IOAPIC", irq_run);
