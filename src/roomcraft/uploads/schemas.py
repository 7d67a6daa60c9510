from uuid import UUID

from roomcraft.kit.envelope import CamelModel


class UploadRead(CamelModel):
    id: UUID
    path: str
    width: int
    height: int
    # A short-lived signed URL of the stored image, for previews.
    url: str
