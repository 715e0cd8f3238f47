"""The same chat loop against a running server (`memos serve`), through the SDK client.

    MEMOS_API_KEY=$(cat memos-home/admin.key) .venv/bin/python docs/examples/chat_client.py
"""

import os

from memos import Client

client = Client(os.environ.get("MEMOS_URL", "http://127.0.0.1:8765"), os.environ["MEMOS_API_KEY"])
cubes = [c for c in client.list_cubes() if c.name == "journal"]
cube = client.get_cube(cubes[0].id) if cubes else client.create_cube("journal")
print("Tell me things; ask about them later. An empty line quits.")
while question := input("you> ").strip():
    reply = client.chat([{"role": "user", "content": question}], cube_ids=[cube.id],
                        session_id="journal", write_back=True, max_new_tokens=96)
    print("memos>", reply.text)
    used = ", ".join(hit.item.text[:40] for hit in reply.memories[:3])
    print(f"  [{reply.stats.ttft_s:.2f} s to first token, "
          f"{reply.stats.reused_tokens}/{reply.stats.prompt_tokens} prompt tokens reused; "
          f"memories: {used or 'none'}]")
