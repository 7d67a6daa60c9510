"""File storage: a public and a private bucket, local or S3-compatible, behind one small class."""
