# devices/: emulated devices (virtio-mmio transport, virtqueues, devices).
