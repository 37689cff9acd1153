"""MongoDB access (the only package that imports pymongo) and the embedded server launcher."""

from echostats.store.boundary import is_unavailable
from echostats.store.database import Store, open_store

__all__ = ["Store", "is_unavailable", "open_store"]
