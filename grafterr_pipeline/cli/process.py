"""How the command's own process is set up before it imports the pipeline's heavy libraries.

Only the command line calls these: they change process-wide state (an environment variable
read once by Arrow's C++ library, the import system), which a library must leave to its host.
"""

from __future__ import annotations

import os
import sys

__all__ = ["ARROW_POOL_VARIABLE", "use_system_allocator"]

ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def use_system_allocator() -> None:
    """Have Arrow's C++ library allocate with the system allocator, unless the user chose.

    Arrow reads ``ARROW_DEFAULT_MEMORY_POOL`` once, when pyarrow is first imported, and its
    C++ code (Parquet writer, compute kernels) keeps using that pool whatever
    ``pyarrow.set_memory_pool`` says later. Its default, mimalloc, keeps the pages of freed
    tables: over the peers bench's 5 dates ``run`` peaked 15-20 MiB higher with it.
    """
    if "pyarrow" not in sys.modules:
        os.environ.setdefault(ARROW_POOL_VARIABLE, "system")
