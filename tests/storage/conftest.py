"""S3 for the storage tests: moto's real HTTP server on 127.0.0.1, with the app's two buckets."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from roomcraft.config import Environment, Settings, StorageSettings

ACCESS_KEY = "moto-access-key"
SECRET_KEY = "moto-secret-key"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    public_bucket: str
    private_bucket: str


def _public_read(buckets: S3Server) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{buckets.public_bucket}/*",
            }
        ],
    }


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    buckets = S3Server(endpoint, "roomcraft-test-public", "roomcraft-test-private")
    s3.create_bucket(Bucket=buckets.public_bucket)
    s3.create_bucket(Bucket=buckets.private_bucket)
    # As deployed: the public bucket is readable by anyone; the private one by signed URLs only.
    s3.put_bucket_policy(Bucket=buckets.public_bucket, Policy=json.dumps(_public_read(buckets)))
    yield buckets
    server.stop()


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    """Settings with local storage in a fresh directory (no database needed)."""
    return Settings(
        ROOMCRAFT_ENV=Environment.test,
        ROOMCRAFT_DATA_DIR=tmp_path,
        ROOMCRAFT_SECRET_KEY=SecretStr("storage-test-key"),
        PUBLIC_BASE_URL="https://roomcraft.example",
    )


@pytest.fixture
def s3_settings(local_settings: Settings, s3_server: S3Server) -> Settings:
    """The same settings with storage on the moto server."""
    storage = StorageSettings(
        backend="s3",
        s3_endpoint=s3_server.endpoint,
        s3_region=REGION,
        s3_access_key_id=ACCESS_KEY,
        s3_secret_access_key=SecretStr(SECRET_KEY),
        public_bucket=s3_server.public_bucket,
        private_bucket=s3_server.private_bucket,
    )
    return local_settings.model_copy(update={"storage": storage})
