from roomcraft.kit.errors import Conflict, NotFound


class GenerationNotFound(NotFound):
    """Generation not found."""


class UploadNotFound(NotFound):
    """One of the input images was not found. Upload it again."""


class GenerationFinished(Conflict):
    """This generation has already finished."""
