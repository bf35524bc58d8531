"""newsner's stages and the modules they share."""

import os

# Arrow's default allocator (mimalloc) keeps memory the run's staging reads and writes have freed:
# the run's process held ~100 MB more with it, at every stage, on the benchmark's corpus. The
# system allocator gives it back. Read when Arrow first allocates, in this process and the worker
# processes it starts (they inherit the environment); a choice the user made is kept.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
