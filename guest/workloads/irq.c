// SPDX-License-Identifier: MIT
/*
 * workload=irq: the device-interrupt path. Each device vector is raised with
 * a self-IPI and must show up as its pin's bit; then the IOAPIC must answer
 * (version register: 24 redirection entries) and accept a route; then a
 * driver (the balloon's) must take only its own pin's bit.
 */
#include "guest.h"
#include "guest/virtio/balloon.h"
#include "mm/errno.h"
#include "mm_stack.h"

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

/*
 * Another device's interrupt pending on this vCPU while the balloon's
 * driver takes its interrupts: the bit must still be there for that
 * device's driver. (The driver once exchanged every bit away, 71ce5b7.)
 */
static void irq_driver_takes_own_bit(void)
{
	unsigned pin;
	uint64_t bit;
	int err = guest_mm_init();

	GUEST_ASSERT_EQ(err, 0);
	err = gballoon_init();
	if (err == -ENOENT) {
		guest_printf("irq: no balloon: driver check skipped\n");
		return;
	}
	GUEST_ASSERT_EQ(err, 0);
	pin = (gballoon_irq() + 1) % GUEST_NR_DEVICE_IRQS;
	bit = 1ull << pin;
	lapic_send_ipi(guest_cpu_id(), GUEST_VEC_DEVICE + pin);
	while (!(__atomic_load_n(&this_cpu()->irqs, __ATOMIC_SEQ_CST) & bit))
		guest_wait_for_interrupt();
	gballoon_service(0);
	GUEST_ASSERT(guest_take_device_irq(pin));
	guest_printf(
		"irq: the balloon driver left pin %u's interrupt pending\n",
		pin);
}

static void irq_workload(void)
{
	irq_run();
	irq_driver_takes_own_bit();
}
GUEST_WORKLOAD(irq, "irq", "device interrupt vectors and IOAPIC", irq_workload);
