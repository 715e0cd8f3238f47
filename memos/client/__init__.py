"""The HTTP SDK: ``Client`` (sync) and ``AsyncClient`` offer MemOS's calls over the REST API."""

from memos.client.async_client import AsyncClient, AsyncRemoteCube
from memos.client.sync_client import Client, RemoteCube
from memos.client.wire import ERROR_CLASSES, raise_for_error

__all__ = ["ERROR_CLASSES", "AsyncClient", "AsyncRemoteCube", "Client", "RemoteCube",
           "raise_for_error"]
