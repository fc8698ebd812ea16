# The numbers the throughput benchmarks settled on.

CHUNK = 1 << 20  # big reads: one syscall per MiB keeps up with curl on loopback
WRITE_SLICE = 64 << 10  # bytes per pwrite (see Download.write_at)
BATCH_MAX_DELAY = 0.025  # s a batch of reads may gather before it is written
SEGMENT_THRESHOLD = 16 << 20
SYNC_EVERY = 5.0  # seconds between fdatasynced checkpoints (reboot-proof)
