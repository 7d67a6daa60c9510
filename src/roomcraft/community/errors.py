from roomcraft.kit.errors import NotFound


class CommunityCollectionNotFound(NotFound):
    """Community collection not found."""


class CommunityItemNotFound(NotFound):
    """Community item not found."""
