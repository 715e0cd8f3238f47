"""The HTTP SDK: ``Client`` (sync) and ``AsyncClient`` offer MemOS's calls over the REST API."""

from memos.chat_options import ChatOptions
from memos.client.async_client import AsyncClient, AsyncRemoteCube
from memos.client.sync_client import Client, RemoteCube
from memos.client.wire import error_class, raise_for_error

__all__ = ["AsyncClient", "AsyncRemoteCube", "ChatOptions", "Client", "RemoteCube",
           "error_class", "raise_for_error"]
