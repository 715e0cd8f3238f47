"""A memory-augmented chat loop with the embedded MemOS (no server).

    .venv/bin/python docs/examples/chat_embedded.py
"""

from memos import MemOS

with MemOS(home="memos-home") as mos:
    cubes = [c for c in mos.list_cubes() if c.name == "journal"]
    cube = mos.get_cube(cubes[0].id) if cubes else mos.create_cube("journal", owner="me")
    print("Tell me things; ask about them later. An empty line quits.")
    while question := input("you> ").strip():
        reply = mos.chat([{"role": "user", "content": question}], cube_ids=[cube.id],
                         session_id="journal", write_back=True, max_new_tokens=96)
        print("memos>", reply.text)
        used = ", ".join(hit.item.text[:40] for hit in reply.memories[:3])
        print(f"  [{reply.stats.ttft_s:.2f} s to first token, "
              f"{reply.stats.reused_tokens}/{reply.stats.prompt_tokens} prompt tokens reused; "
              f"memories: {used or 'none'}]")
