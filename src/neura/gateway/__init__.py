"""The HTTP API gateway (:mod:`neura.gateway.app`).

Importing it exempts whatever the process loaded before (the interpreter, the web framework) from the
garbage collector's scans: :func:`neura.memory.freeze_startup_objects`.
"""

from neura.memory import freeze_startup_objects

freeze_startup_objects()
