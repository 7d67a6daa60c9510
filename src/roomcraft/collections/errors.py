from roomcraft.kit.errors import Conflict, NotFound


class CollectionNotFound(NotFound):
    """Collection not found."""


class DefaultCollectionLocked(Conflict):
    """My Favorites cannot be renamed or deleted."""
