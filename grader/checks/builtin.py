"""Imports every built-in check kind so that each registers itself."""
from . import text_pattern  # noqa: F401
from . import code_security  # noqa: F401
from . import tool_call  # noqa: F401
from . import claims  # noqa: F401
from . import tampering  # noqa: F401
from . import unreported  # noqa: F401
