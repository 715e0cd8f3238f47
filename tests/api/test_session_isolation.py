"""A session id belongs to the user who uses it: another user's same id is another session."""

from __future__ import annotations


def test_second_user_reusing_a_session_id_sees_none_of_the_first_users_turns(live, alice, bob):
    alice_cube, bob_cube = alice.create_cube("alice-session"), bob.create_cube("bob-session")
    secret = "My locker code is 9931."
    try:
        for text in (secret, "And my cat is called Pixel.", "What is my cat called?"):
            alice.chat([{"role": "user", "content": text}], cube_ids=[alice_cube.id],
                       session_id="team-chat", max_new_tokens=2, memory_kinds=())
        alone = bob.chat([{"role": "user", "content": "Hello there."}], cube_ids=[bob_cube.id],
                         session_id="fresh-session", max_new_tokens=2, memory_kinds=())
        shared = bob.chat([{"role": "user", "content": "Hello there."}], cube_ids=[bob_cube.id],
                          session_id="team-chat", max_new_tokens=2, memory_kinds=())
        assert shared.stats.prompt_tokens == alone.stats.prompt_tokens
        kept = live.mos.sessions.recent("team-chat", owner="bob")
        assert [turn["content"] for turn in kept][0] == "Hello there."
        assert secret not in str(kept)
        assert secret in str(live.mos.sessions.recent("team-chat", owner="alice"))
        assert all(secret not in item.text for item in bob_cube.list(limit=100)[0])
    finally:
        alice.delete_cube(alice_cube.id)
        bob.delete_cube(bob_cube.id)
