"""A module that fails to import (for the step registry test)."""

import a_dependency_that_is_not_installed  # noqa: F401
